"""The lexicon correction: CTC likelihoods, which words change and which never do, word lists."""

from __future__ import annotations

import gzip
import itertools
import math

import numpy as np
import pytest

from kocr_sdk.errors import KocrConfigError, KocrError
from kocr_sdk.interfaces import Reading
from kocr_sdk.recognition.ctc import log_likelihood, log_likelihoods, log_softmax
from kocr_sdk.recognition.lexicon import Lexicon, correct_reading, load_lexicon
from tests.readings import make_reading, prefers

LEX = Lexicon({"the": 1, "message": 1, "massage": 2, "november": 1, "please": 1, "date": 1})


def _collapse(path: tuple[int, ...]) -> tuple[int, ...]:
    out, prev = [], -1
    for k in path:
        if k != prev and k != 0:
            out.append(k)
        prev = k
    return tuple(out)


@pytest.mark.parametrize("labels", [(1,), (1, 2), (2, 2), (1, 2, 1)])
def test_ctc_likelihood_is_the_sum_over_paths(labels):
    rng = np.random.default_rng(len(labels))
    log_probs = log_softmax(rng.normal(size=(5, 3)) * 2)
    total = sum(math.exp(sum(log_probs[t, k] for t, k in enumerate(path)))
                for path in itertools.product(range(3), repeat=5) if _collapse(path) == labels)
    assert log_likelihood(log_probs, list(labels)) == pytest.approx(math.log(total))


def test_ctc_likelihoods_of_several_sequences_at_once_match_one_at_a_time():
    log_probs = log_softmax(np.random.default_rng(7).normal(size=(9, 5)))
    labels = [[1], [2, 2], [], [1, 3, 4, 3], [4] * 6]
    assert log_likelihoods(log_probs, labels) == pytest.approx([log_likelihood(log_probs, lab) for lab in labels])


def test_ctc_likelihood_of_labels_longer_than_the_frames_allow():
    assert log_likelihood(log_softmax(np.zeros((2, 3))), [1, 1]) == float("-inf")


def test_an_unsure_letter_that_keeps_a_reading_out_of_the_dictionary_is_changed():
    out = correct_reading(make_reading("thc", {2: 0.4}), LEX, prefers("thc", "the"), 0.99, 8.0, 3)
    assert out.text == "the"
    assert len(out.char_confidences) == 3


def test_the_recognisers_likelihood_picks_between_dictionary_words():
    reading = make_reading("mcssage", {1: 0.5})
    assert correct_reading(reading, LEX, prefers("mcssage", "message", "massage"), 0.99, 8.0, 3).text == "message"
    assert correct_reading(reading, LEX, prefers("mcssage", "massage", "message"), 0.99, 8.0, 3).text == "massage"


def test_words_under_four_letters_stay_as_read_by_default():
    reading = make_reading("GST", {0: 0.3})
    assert correct_reading(reading, Lexicon({"cst": 1, "get": 1}), prefers("CST", "GST"), 0.99, 8.0) is reading


def test_confident_letters_never_change():
    assert correct_reading(make_reading("thc"), LEX, prefers("the", "thc"), 0.99, 8.0, 3).text == "thc"


def test_a_spelling_far_less_likely_than_the_reading_is_not_taken():
    far = lambda batch: [0.0 if t == "thc" else -20.0 for t in batch]  # noqa: E731
    assert correct_reading(make_reading("thc", {2: 0.4}), LEX, far, 0.99, 8.0, 3).text == "thc"


def test_words_in_the_dictionary_names_and_digits_stay_as_read():
    for text in ("the", "Zolot", "A1c", "12"):
        reading = make_reading(text, {0: 0.3})
        assert correct_reading(reading, LEX, prefers(text), 0.99, 8.0, 3) is reading


def test_a_hyphen_or_apostrophe_inside_a_word_is_never_dropped_to_make_one():
    lexicon = Lexicon({"email": 1, "dont": 1})
    for text in ("e-mail", "don't"):
        reading = make_reading(text, {1: 0.3, 2: 0.3, 3: 0.3})
        assert correct_reading(reading, lexicon, prefers("email", "dont", text), 0.99, 8.0) is reading


def test_case_and_punctuation_are_kept():
    assert correct_reading(make_reading("THC:", {2: 0.3}), LEX, prefers("THC:", "THE:"), 0.99, 8.0, 3).text == "THE:"
    assert correct_reading(make_reading("Ncvember,", {1: 0.3}), LEX, prefers("Ncvember,", "November,"), 0.99, 8.0, 3).text == "November,"


def test_each_word_of_a_spaced_reading_is_corrected_on_its_own():
    reading = make_reading("DATE: picase", {7: 0.4, 8: 0.5})
    out = correct_reading(reading, LEX, prefers("DATE: picase", "DATE: please"), 0.99, 8.0, 3)
    assert out.text == "DATE: please"
    assert len(out.char_confidences) == len(out.text)


SPLITS = Lexicon({"of": 1, "this": 2, "name": 2, "it": 1, "is": 1, "and": 1, "nameof": 3, "ax": 2, "e": 1, "rare": 3,
                  "win": 1, "ton": 1})


def test_a_missed_space_between_common_words_is_put_back():
    out = correct_reading(make_reading("ofthis"), SPLITS, prefers("ofthis", "of this"), 0.99, 8.0, space_margin=6.0)
    assert out.text == "of this"
    assert len(out.char_confidences) == len(out.text)
    three = correct_reading(make_reading("anditis"), SPLITS, prefers("anditis", "and it is"), 0.99, 8.0, space_margin=6.0)
    assert three.text == "and it is"


def test_a_split_keeps_case_and_punctuation_and_only_whole_common_words():
    assert correct_reading(make_reading("NAMEOF:"), Lexicon({"name": 1, "of": 1}), prefers("NAMEOF:", "NAME OF:"), 0.99,
                           8.0, space_margin=6.0).text == "NAME OF:"
    for text, lexicon in (("NAMEOF", SPLITS),                                   # a word in the list stays whole
                          ("thisax", SPLITS), ("rareof", SPLITS),               # a short piece not of the commonest
                                                                                # or a rare longer one is not a split
                          ("thise", SPLITS)):                                   # nor a lone letter other than a/I
        reading = make_reading(text)
        spaced = lambda batch: [0.0] * len(batch)  # noqa: E731  every spelling as likely as the reading
        assert correct_reading(reading, lexicon, spaced, 0.99, 8.0, space_margin=6.0) is reading, text


def test_a_split_the_frames_do_not_support_or_with_splitting_off_is_not_made():
    far = lambda batch: [0.0 if t == "winton" else -7.0 for t in batch]  # noqa: E731
    assert correct_reading(make_reading("winton"), SPLITS, far, 0.99, 8.0, space_margin=6.0).text == "winton"
    assert correct_reading(make_reading("winton"), SPLITS, far, 0.99, 8.0, space_margin=8.0).text == "win ton"
    assert correct_reading(make_reading("winton"), SPLITS, far, 0.99, 8.0).text == "winton"


def test_a_reading_without_character_confidences_is_left_alone():
    reading = Reading(text="thc", confidence=0.4)
    assert correct_reading(reading, LEX, prefers("the"), 0.99, 8.0, 3) is reading


def test_the_shipped_english_list_and_a_users_own_words(tmp_path):
    lexicon = load_lexicon("en")
    assert "message" in lexicon and "november" in lexicon and "thc" not in lexicon
    words = tmp_path / "company.txt"
    words.write_text("Lorillard\nKocrsoft\n")
    assert "kocrsoft" in load_lexicon("en", (str(words),))


def test_unknown_languages_and_unreadable_word_lists_are_clear_errors(tmp_path):
    with pytest.raises(KocrError, match="no word list for language 'xx'"):
        load_lexicon("xx")
    bad = tmp_path / "words.txt.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(KocrError, match="cannot read word list"):
        load_lexicon("en", (str(bad),))


def test_the_recogniser_refuses_bad_lexicon_options():
    from kocr_sdk.recognition.stage import _lexicon_option

    with pytest.raises(KocrConfigError, match="lexicon_confidence"):
        _lexicon_option("en", (), 0.0, 8.0)
    with pytest.raises(KocrConfigError, match="lexicon_margin"):
        _lexicon_option("en", (), 0.99, -1.0)
    with pytest.raises(KocrConfigError, match="lexicon_space_margin"):
        _lexicon_option("en", (), 0.99, 5.0, -2.0)
    assert _lexicon_option(None, (), 0.99, 8.0) is None


def _latin(**options):
    """The shipped Latin recogniser on onnxruntime, with these stage options."""
    from kocr_sdk.recognition.stage import recognizers_in
    from kocr_sdk.resources import WEIGHTS_DIR

    cls = next(c for c in recognizers_in(WEIGHTS_DIR) if c.name == "vitstr-tiny-latin")
    return cls(runtime="onnx", **options)


def _frames(stage, path: str) -> np.ndarray:
    """(1, T, C) logits whose best path is ``path`` (``_`` the blank), every class far behind."""
    logits = np.full((1, len(path), len(stage.charset)), -9.0, dtype=np.float32)
    for t, ch in enumerate(path):
        logits[0, t, 0 if ch == "_" else stage.charset.index[ch]] = 5.0
    return logits


def _read(stage, logits: np.ndarray) -> Reading:
    """What ``stage`` makes of one crop's frames: greedy decoding, then its lexicon correction."""
    from kocr_sdk.recognition.vitstr.decode import greedy_decode

    (text, conf, char_conf), = greedy_decode(logits, np.array([logits.shape[1]]), stage.charset)
    return stage._corrected(Reading(text=text, confidence=conf, char_confidences=list(char_conf)), logits[0])


def test_the_shipped_latin_recogniser_corrects_on_its_own_frames():
    """The stage's wiring: frames that read ``thcm`` with ``e`` a close second give ``them``;
    with the option off there is no correction."""
    on = _latin()
    logits = _frames(on, "t_h_c_m_")
    logits[0, 4, on.charset.index["e"]] = 4.6  # the frame that reads "c" is nearly an "e"
    fixed = _read(on, logits)
    assert fixed.text == "them" and fixed.confidence == pytest.approx(min(fixed.char_confidences))
    assert _latin(lexicon=None)._lexicon is None


def test_the_shipped_latin_recogniser_puts_back_a_space_its_frames_half_saw():
    """Frames that read ``ofthis`` with a weak space between ``f`` and ``t`` give ``of this``;
    with no sign of a space, or with splitting off, they give what was read."""
    on, off = _latin(), _latin(lexicon_space_margin=None)
    logits = _frames(on, "o_f__t_h_i_s")
    assert _read(on, logits).text == "ofthis"  # no sign of a space: 14 nats short
    logits[0, 3, on.charset.index[" "]] = 0.0  # the gap's frame gives the space ~1 %
    assert _read(on, logits).text == "of this"
    assert _read(off, logits).text == "ofthis"


def test_word_lists_are_built_in_tiers_of_letter_words(tmp_path):
    from kocr_sdk.lab.lexicon import build

    common, more = tmp_path / "common.txt", tmp_path / "more.txt"
    common.write_text("The\nmessage\ndog's\n")
    more.write_text("message\nNovember\ncafé\ne-mail\n")
    out = tmp_path / "en.txt.gz"
    assert build([common, more], out) == 3
    first = out.read_bytes()
    build([common, more], out)
    assert out.read_bytes() == first  # the same inputs give the same bytes
    with gzip.open(out, "rt") as fh:
        assert dict(line.split() for line in fh) == {"the": "1", "message": "1", "november": "2"}
    build([["the", "of"], common, more], out)  # the commonest words first, as --commonest puts them
    with gzip.open(out, "rt") as fh:
        assert dict(line.split() for line in fh) == {"the": "1", "of": "1", "message": "2", "november": "3"}
