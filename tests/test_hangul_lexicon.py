"""The Korean lexicon correction: which Hangul words change, which never do, and the shipped list."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kocr_sdk.errors import KocrConfigError
from kocr_sdk.interfaces import Reading
from kocr_sdk.recognition.hangul_lexicon import HangulLexicon, correct_hangul, load_hangul_lexicon
from kocr_sdk.recognition.lexicon import Lexicon
from tests.readings import make_reading, prefers

# Tier 1: the commonest words, the only single syllables a word may be built from.
LEX = HangulLexicon.of(Lexicon({"사업자": 2, "번호": 2, "승인": 2, "감사": 2, "합니다": 1, "은": 1, "수량": 2,
                                "금액": 2, "결제": 2, "점": 2, "정산": 2, "message": 1}))


def test_compounds_of_listed_words_and_common_particles_are_korean():
    assert LEX.known("사업자번호") and LEX.known("결제금액은") and LEX.known("수량")
    assert not LEX.known("사업자밴호")
    assert not LEX.known("결제점")  # a single syllable of the rest of the list is no piece
    assert not LEX.known("은금액")  # and a common one only ends a word, as particles do
    assert not LEX.known("사업자번호결제금액")  # four pieces
    assert "message" not in LEX.tiers  # only Hangul words are indexed


def test_an_unsure_syllable_that_keeps_a_word_out_of_korean_is_changed():
    out = correct_hangul(make_reading("사업자밴호", {3: 0.4}), LEX, prefers("사업자밴호", "사업자번호"), 0.99, 5.0)
    assert out.text == "사업자번호"
    assert out.char_confidences == make_reading("사업자밴호", {3: 0.4}).char_confidences  # one syllable for one
    two = correct_hangul(make_reading("숭인번효", {0: 0.5, 3: 0.6}), LEX, prefers("숭인번효", "승인번호"), 0.99, 5.0)
    assert two.text == "승인번호"  # two unsure syllables, each one jamo off
    faded = make_reading("사업자밴호", {i: 0.9 for i in range(5)})  # every syllable unsure, as on thermal paper
    assert correct_hangul(faded, LEX, prefers("사업자밴호", "사업자번호"), 0.99, 5.0).text == "사업자번호"


def test_confident_syllables_known_words_and_unlikely_spellings_stay_as_read():
    assert correct_hangul(make_reading("사업자밴호"), LEX, prefers("사업자번호"), 0.99, 5.0).text == "사업자밴호"
    known = make_reading("수량", {1: 0.3})
    assert correct_hangul(known, LEX, prefers("수탕"), 0.99, 5.0) is known

    def far(batch):  # the listed spelling is 9 nats below the reading
        return [-9.0 if t == "사업자번호" else 0.0 for t in batch]

    assert correct_hangul(make_reading("사업자밴호", {3: 0.4}), LEX, far, 0.99, 5.0).text == "사업자밴호"


def test_a_syllable_sharing_no_jamo_with_the_one_read_is_never_put_in():
    # 수 and 금 share no jamo: 금액 is not reached from 수액, however the frames score it.
    reading = make_reading("수액", {0: 0.2})
    assert correct_hangul(reading, LEX, prefers("금액", "수액"), 0.99, 5.0) is reading


def test_three_syllable_words_after_a_common_surname_are_left_as_read():
    assert correct_hangul(make_reading("결졔은", {1: 0.4}), LEX, prefers("결졔은", "결제은"), 0.99, 5.0).text == "결제은"
    name = make_reading("정샨은", {1: 0.4})  # 정 is a surname: a name, however much it looks like 정산은
    assert correct_hangul(name, LEX, prefers("정샨은", "정산은"), 0.99, 5.0) is name


def test_one_syllable_words_and_readings_without_confidences_are_left_alone():
    single = make_reading("팜", {0: 0.1})
    assert correct_hangul(single, LEX, prefers("점"), 0.99, 5.0) is single
    bare = Reading(text="사업자밴호", confidence=0.4)
    assert correct_hangul(bare, LEX, prefers("사업자번호"), 0.99, 5.0) is bare


def test_punctuation_digits_and_other_words_around_the_hangul_are_kept():
    reading = make_reading("No.3 승인밴호:", {7: 0.4})
    out = correct_hangul(reading, LEX, prefers("No.3 승인밴호:", "No.3 승인번호:"), 0.99, 5.0)
    assert out.text == "No.3 승인번호:"


def test_an_unsure_space_inside_a_korean_word_is_taken_out():
    reading = make_reading("결제 금액 번호", {2: 0.3, 5: 0.3})
    assert correct_hangul(reading, LEX, prefers("결제 금액 번호"), 0.99, 5.0) is reading  # three words
    split = make_reading("사업 자번호", {2: 0.3})
    out = correct_hangul(split, LEX, prefers("사업 자번호", "사업자번호"), 0.99, 5.0)
    assert out.text == "사업자번호" and len(out.char_confidences) == 5
    sure = make_reading("사업 자번호")  # the recogniser was sure of its space
    assert correct_hangul(sure, LEX, prefers("사업자번호"), 0.99, 5.0) is sure


def test_the_shipped_korean_list_knows_receipt_words(tmp_path):
    lexicon = load_hangul_lexicon()
    for word in ("사업자번호", "결제금액", "승인번호", "영수증", "합계", "부가세", "카드번호"):
        assert lexicon.known(word), word
    assert not lexicon.known("사업자밴호") and not lexicon.known("충인번호")
    words = tmp_path / "stores.txt"
    words.write_text("코크르상회\n")
    assert load_hangul_lexicon((str(words),)).known("코크르상회")


def _hangul(**options):
    """The shipped Hangul recogniser on onnxruntime, with these stage options."""
    from kocr_sdk.recognition.stage import recognizers_in
    from kocr_sdk.resources import WEIGHTS_DIR

    cls = next(c for c in recognizers_in(WEIGHTS_DIR) if c.name == "vitstr-tiny-hangul")
    return cls(runtime="onnx", **options)


def _frames(stage, text: str) -> np.ndarray:
    """(1, T, C) logits whose best path spells ``text``, a blank after every class it emits."""
    ids = stage.charset.encode(text)
    logits = np.full((1, 2 * len(ids), len(stage.charset)), -9.0, dtype=np.float32)
    for t, k in enumerate(ids):
        logits[0, 2 * t, k] = 5.0
        logits[0, 2 * t + 1, 0] = 5.0
    return logits


def test_the_shipped_hangul_recogniser_corrects_on_its_own_frames():
    """Frames that read ``사업자밴호`` with the vowel of ``번`` a close second give ``사업자번호``;
    with only the English list named there is no Korean correction."""
    from kocr_sdk.recognition.vitstr.decode import greedy_decode

    on, off = _hangul(), _hangul(lexicon="en")
    logits = _frames(on, "사업자밴호")
    vowel = next(t for t in range(logits.shape[1]) if logits[0, t].argmax() == on.charset.encode("밴")[1])
    logits[0, vowel, on.charset.encode("번")[1]] = 4.6

    def read(stage):
        (text, conf, chars), = greedy_decode(logits, np.array([logits.shape[1]]), stage.charset)
        return stage._corrected(Reading(text=text, confidence=conf, char_confidences=list(chars)), logits[0]).text

    assert read(on) == "사업자번호"
    assert read(off) == "사업자밴호"


def test_lexicon_options_name_one_latin_list_beside_korean(tmp_path):
    from kocr_sdk.recognition.stage import _lexicon_option

    assert _lexicon_option([], (), 0.99, 5.0) is None
    only_korean = _lexicon_option("ko", (), 0.99, 5.0)
    assert only_korean.latin is None and only_korean.hangul_words == ()
    with pytest.raises(KocrConfigError, match="one Latin-script language"):
        _lexicon_option(["en", "fr"], (), 0.99, 5.0)
    with pytest.raises(KocrConfigError, match="no such file"):
        _lexicon_option("ko", (str(tmp_path / "missing.txt"),), 0.99, 5.0)


def test_the_korean_list_keeps_hangul_words_only(tmp_path):
    from kocr_sdk.lab.lexicon import build

    out = tmp_path / "ko.txt.gz"
    assert build([["은", "사업자", "kocr", "3월"], ["번호", "은"]], out, language="ko") == 3
    with gzip.open(out, "rt") as fh:
        assert dict(line.split() for line in fh) == {"은": "1", "사업자": "1", "번호": "2"}


def test_template_labels_join_the_korean_list_after_the_commonest_words(tmp_path):
    from kocr_sdk.lab.lexicon import main, template_words

    (tmp_path / "a.yaml").write_text("name: kr_x\nfields:\n  supply: {anchors: [공급가액, '합계 금액'], note: 'KRW 원'}\n",
                                     encoding="utf-8")
    assert template_words(tmp_path, "ko") == ["공급가액", "합계", "금액"]  # one-syllable words are no labels
    out = tmp_path / "ko.txt.gz"
    main(["--language", "ko", "--template-words", str(tmp_path), "--out", str(out)])
    with gzip.open(out, "rt") as fh:
        assert dict(line.split() for line in fh) == {"공급가액": "1", "합계": "1", "금액": "1"}
    assert "공급가액" in load_hangul_lexicon().tiers  # the shipped list holds the shipped templates' labels


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["사업자", "밴", "번", "호", "수", "탕", "량", "은", " ", ":", "1", "a", "금", "엑"]),
                max_size=12),
       st.lists(st.floats(0.0, 1.0), min_size=40, max_size=40))
def test_any_reading_keeps_its_letters_and_changes_only_hangul(parts, confs):
    text = "".join(parts)
    reading = Reading(text=text, confidence=0.5, char_confidences=confs[:len(text)])
    out = correct_hangul(reading, LEX, lambda batch: [0.0] * len(batch), 0.99, 5.0)
    assert len(out.char_confidences) == len(out.text) and out.text.count(" ") >= text.count(" ") - 1
    assert len(out.text.replace(" ", "")) == len(text.replace(" ", ""))
    assert all(a == b or ("가" <= a <= "힣" and "가" <= b <= "힣")
               for a, b in zip(text.replace(" ", ""), out.text.replace(" ", "")))
