"""NER: generated data, noise, tokenizer, span↔word mapping, validators, the HF stage, spaCy, redaction."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from kocr_sdk import Engine, EntityRecognizer, hookimpl
from kocr_sdk.document import Block, Document, Entity, Line, Page, Word, WordSpan
from kocr_sdk.errors import KocrConfigError, KocrModelError
from kocr_sdk.geometry import quad_from_box
from kocr_sdk.ids import luhn_check_digit, luhn_is_valid
from kocr_sdk.export.lines import line_text, page_lines
from kocr_sdk.lab.synth.ner_lines import NerGenerator, make_card_number
from kocr_sdk.vocabulary.entities import LABELS, TAGS
from kocr_sdk.lab.eval.entities import entity_scores
from kocr_sdk.lab.synth.ocr_noise import NoiseConfig, add_ocr_noise, hangul_lookalike
from kocr_sdk.ner.redact import MASK, redact_image, redact_page
from kocr_sdk.ner.tokenizer import save_tokenizer, train_char_tokenizer
from kocr_sdk.ner.validators import check_biz_reg_no, check_card, check_rrn, validate
from kocr_sdk.vocabulary.charsets import ks_x_1001_hangul


# --- data and noise -----------------------------------------------------------------------------
def _check_spans(text: str, spans) -> None:
    last_end = 0
    for start, end, label in spans:
        assert label in LABELS
        assert last_end <= start < end <= len(text), (text, spans)
        assert text[start:end] == text[start:end].strip() and text[start:end]
        last_end = end


def test_generated_spans_align_with_text_clean_and_noisy():
    gen = NerGenerator(seed=3, noise_prob=0.5)
    labels = set()
    for i in range(400):
        ex = gen.sample(i)
        _check_spans(ex.text, ex.spans)
        labels |= {s[2] for s in ex.spans}
    assert labels == set(LABELS)
    assert NerGenerator(seed=3).sample(7) == NerGenerator(seed=3).sample(7)


def test_clean_ids_pass_their_checks():
    gen = NerGenerator(seed=5, noise_prob=0.0)
    seen = {"BIZ_REG_NO": 0, "RRN": 0}
    for i in range(600):
        for label, text in gen.sample(i).entities():
            if label == "BIZ_REG_NO":
                assert check_biz_reg_no(text), text
                seen[label] += 1
            elif label == "RRN":
                assert check_rrn(text), text
                seen[label] += 1
    assert min(seen.values()) > 5


def test_noise_keeps_entity_spans_on_their_characters():
    text = "사업자등록번호: 124-81-00998 대표 홍길동"
    spans = [(9, 21, "BIZ_REG_NO"), (25, 28, "PERSON")]
    heavy = NoiseConfig(char_confusion=0.3, char_drop=0.0, space_drop=0.5, word_split=0.3)
    for seed in range(50):
        noisy, moved = add_ocr_noise(text, spans, random.Random(seed), heavy)
        _check_spans(noisy, moved)
        assert [s[2] for s in moved] == ["BIZ_REG_NO", "PERSON"]
        assert len(noisy[moved[0][0]:moved[0][1]].replace(" ", "")) == 12


def test_hangul_lookalike_changes_one_jamo():
    rng = random.Random(0)
    changed = sum(hangul_lookalike(c, rng) != c for c in "서을가나다라마바사")
    assert changed >= 7
    assert all("가" <= hangul_lookalike(c, rng) <= "힣" for c in "서을가나다")
    assert hangul_lookalike("A", rng) == "A"


def test_card_numbers_pass_luhn_unless_masked():
    rng = random.Random(1)
    for _ in range(50):
        card = make_card_number(rng)
        assert check_card(card) in (True, None)


# --- tokenizer --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def char_tokenizer():
    gen = NerGenerator(seed=0)
    return train_char_tokenizer([gen.sample(i).text for i in range(300)])


def test_tokenizer_round_trips_hangul(char_tokenizer):
    hangul = ks_x_1001_hangul()
    for text in (hangul[:600], hangul[600:1500] + " ABC 123-45", hangul[1500:] + " ㈜ ₩1,000 ※"):
        enc = char_tokenizer.encode(text)
        assert "[UNK]" not in enc.tokens
        assert char_tokenizer.decode(enc.ids) == text
        body = [(s, e) for (s, e), sp in zip(enc.offsets, enc.special_tokens_mask) if not sp]
        assert body == [(i, i + 1) for i in range(len(text))]


# --- span ↔ word mapping ----------------------------------------------------------------------
def _word(i: int, text: str, x: float, y: float = 10) -> Word:
    return Word(id=f"w{i}", quad=quad_from_box((x, y, x + 20 * len(text), y + 20)), text=text)


def test_span_maps_to_words_and_characters_within_them():
    words = [_word(0, "성명:홍길동", 0), _word(1, "2021년", 200), _word(2, "3월", 340), _word(3, "5일", 400)]
    line = line_text(words)
    assert line.text == "성명:홍길동 2021년 3월 5일"
    person = line.spans_of(3, 6)
    assert [(s.word_id, s.start, s.end) for s in person] == [("w0", 3, 6)]
    date = line.spans_of(7, 18)  # an entity across three OCR words
    assert [(s.word_id, s.start, s.end) for s in date] == [("w1", 0, 5), ("w2", 0, 2), ("w3", 0, 2)]


def test_page_lines_follow_clusters_or_detector_rows():
    words = [_word(0, "TEL", 0), _word(1, "02-123-4567", 80), _word(2, "대표", 0, 60), _word(3, "", 80, 60)]
    page = Page(width=400, height=100, words=words)
    assert [line.text for line in page_lines(page)] == ["TEL 02-123-4567", "대표"]
    block = Block(id="b0", quad=quad_from_box((0, 0, 400, 100)),
                  lines=[Line(id="l0", quad=quad_from_box((0, 0, 400, 100)), word_ids=["w2", "w1"])])
    clustered = page.model_copy(update={"blocks": [block]})
    assert [line.text for line in page_lines(clustered)] == ["대표 02-123-4567"]


# --- validators ---------------------------------------------------------------------------------
def test_validators_accept_valid_and_flag_invalid_numbers():
    assert check_biz_reg_no("124-81-00998") and not check_biz_reg_no("124-81-00997")
    assert check_biz_reg_no("124 -81- 00998")  # spaces OCR put inside
    from kocr_sdk.lab.synth.ids import make_rrn

    good = make_rrn(random.Random(4))
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert check_rrn(good) and not check_rrn(bad)
    assert check_rrn("900101-1******") and not check_rrn("901301-1******")  # masked: the birth date is checked
    body = "453914880343646"
    assert luhn_check_digit(body) == 7 and luhn_is_valid("4539-1488-0343-6467") and not luhn_is_valid("4539148803436468")
    assert check_card("4539-****-****-6467") is None
    assert validate("BIZ_REG_NO", "124-81-00998", 0.6) == (True, 0.8)
    assert validate("BIZ_REG_NO", "124-81-00997", 0.6) == (False, 0.3)
    assert validate("PERSON", "홍길동", 0.6) == (None, 0.6)


def test_entity_scores_are_strict():
    gold = [[(0, 3, "PERSON"), (4, 14, "DATE")]]
    pred = [[(0, 3, "PERSON"), (4, 13, "DATE"), (20, 22, "ORG")]]
    s = entity_scores(gold, pred)
    assert s["PERSON"]["f1"] == 1.0 and s["DATE"]["f1"] == 0.0
    assert s["overall"]["precision"] == round(1 / 3, 4) and s["overall"]["recall"] == 0.5


# --- a local Hugging Face directory as the entity recogniser -------------------------------------
def make_hf_dir(path: Path, tokenizer, favour: str | None = None) -> Path:
    """A tiny randomly initialised BERT token classifier saved as a Hugging Face directory.

    With ``favour`` (a tag such as ``I-PERSON``) the classifier predicts that tag everywhere,
    so what the stage makes of the predictions is known exactly."""
    from kocr_sdk.ner.model import NerArch, create_model

    torch.manual_seed(0)
    model = create_model(NerArch(hidden=32, layers=1, heads=2, intermediate=64, max_length=32),
                         tokenizer.get_vocab_size())
    if favour is not None:
        with torch.no_grad():
            model.classifier.weight.zero_()
            model.classifier.bias.fill_(-5.0)
            model.classifier.bias[TAGS.index(favour)] = 5.0
    model.save_pretrained(str(path))
    save_tokenizer(tokenizer, path, 32)
    return path


def _engine(fake_plugin, model_dir: Path, **overrides) -> Engine:
    return Engine(plugins=[fake_plugin], load_entrypoints=False, device="cpu",
                  entity_recognizer="hf-token-classification",
                  options={"hf-token-classification": {"model": str(model_dir)}}, **overrides)


def test_local_hf_directory_runs_as_the_entity_recogniser(tmp_path, char_tokenizer, fake_plugin, white_page):
    model_dir = make_hf_dir(tmp_path / "tiny", char_tokenizer, favour="I-PERSON")
    engine = _engine(fake_plugin, model_dir)
    page = engine.read(white_page).pages[0]
    order = [r.stage for r in page.stages]
    assert order.index("clusterer") < order.index("entity_recognizer") < order.index("template_matcher")
    # FixedDetector's words: two on the first row (one line), one below; the reader says 가나.
    assert [(e.label, e.text, e.word_ids) for e in page.entities] == [
        ("PERSON", "가나 가나", ["p0-w0", "p0-w1"]), ("PERSON", "가나", ["p0-w2"])]
    assert page.entities[0].spans == [WordSpan(word_id="p0-w0", start=0, end=2), WordSpan(word_id="p0-w1", start=0, end=2)]
    assert 0 < page.entities[0].confidence <= 1
    doc = engine.read(white_page)
    assert Document.model_validate_json(doc.model_dump_json()) == doc


def test_random_hf_model_and_long_lines_do_not_break(tmp_path, char_tokenizer):
    from kocr_sdk.ner.recognizer import HuggingFaceEntityRecognizer

    ner = HuggingFaceEntityRecognizer(model=make_hf_dir(tmp_path / "rand", char_tokenizer))
    words = [_word(i, "홍길동" if i % 2 else "010-1234-5678", 10 + 300 * i) for i in range(12)]  # > 32 tokens
    page = Page(width=4000, height=100, words=words)
    ids = {w.id for w in words}
    for ent in ner.recognize(page):
        assert set(ent.word_ids) <= ids and ent.label in LABELS and 0 <= ent.confidence <= 1


def test_auto_never_picks_the_generic_hf_stage(fake_plugin):
    engine = Engine(plugins=[fake_plugin], load_entrypoints=False, device="cpu")
    assert engine.describe()["entity_recognizer"] == "missing"


def test_hf_stage_without_or_with_a_wrong_model_is_a_clear_error(tmp_path, fake_plugin, white_page):
    from kocr_sdk.ner.recognizer import HuggingFaceEntityRecognizer

    with pytest.raises(KocrConfigError, match="needs the `model` option"):
        HuggingFaceEntityRecognizer()
    with pytest.raises(KocrModelError, match="not found"):
        HuggingFaceEntityRecognizer(model=tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(KocrModelError, match="no config.json"):
        HuggingFaceEntityRecognizer(model=tmp_path / "empty")
    with pytest.raises(KocrConfigError, match="no option"):
        HuggingFaceEntityRecognizer(model=tmp_path / "empty", colour="red")
    with pytest.raises(KocrConfigError, match="runtime 'tensorrt'"):
        HuggingFaceEntityRecognizer(model=tmp_path / "empty", runtime="tensorrt")


def test_label_map_renames_and_drops_a_models_labels(tmp_path, char_tokenizer):
    from kocr_sdk.ner.tagger import TokenTagger

    model_dir = make_hf_dir(tmp_path / "mapped", char_tokenizer, favour="I-PERSON")
    assert TokenTagger.from_directory(model_dir, label_map={"PERSON": "PS"}).tag(["홍길동"])[0][0].label == "PS"
    assert TokenTagger.from_directory(model_dir, label_map={"PERSON": None}).tag(["홍길동"]) == [[]]


# --- the ONNX path ------------------------------------------------------------------------------
def test_onnx_tokenizer_chunks_long_lines_as_the_transformers_one_does(tmp_path, char_tokenizer):
    from transformers import AutoTokenizer

    from kocr_sdk.ner.onnx import FastTokenizer

    model_dir = make_hf_dir(tmp_path / "tok", char_tokenizer)
    texts = ["홍길동 010-1234-5678", "", "서울특별시 강남구 테헤란로 " * 6, "(주)ABC 2019년"]
    kwargs = dict(return_offsets_mapping=True, truncation=True, max_length=32, return_overflowing_tokens=True,
                  stride=8, return_special_tokens_mask=True)
    want = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)(texts, **kwargs)
    got = FastTokenizer(model_dir)(texts, **kwargs)
    assert len(got["input_ids"]) > len(texts)  # the long line became several chunks
    assert list(want["overflow_to_sample_mapping"]) == got["overflow_to_sample_mapping"]
    assert [list(x) for x in want["input_ids"]] == got["input_ids"]
    assert [list(x) for x in want["special_tokens_mask"]] == got["special_tokens_mask"]
    assert [[tuple(o) for o in x] for x in want["offset_mapping"]] == got["offset_mapping"]


def test_ner_on_onnx_tags_like_torch_and_needs_no_transformers(tmp_path, char_tokenizer, monkeypatch):
    pytest.importorskip("onnxruntime")
    import subprocess
    import sys

    from kocr_sdk.ner.onnx import OnnxTokenClassifier
    from kocr_sdk.ner.recognizer import CharBertEntityRecognizer, HuggingFaceEntityRecognizer
    from kocr_sdk.ner.tagger import TokenTagger

    monkeypatch.setenv("KOCR_ONNX_CACHE", str(tmp_path / "cache"))
    model_dir = make_hf_dir(tmp_path / "rand", char_tokenizer)
    texts = ["성명 홍길동 전화 010-1234-5678", "서울특별시 강남구 테헤란로 152 " * 4, "Invoice INV-2024 total ₩1,250,000"]
    torch_tagger = TokenTagger.from_directory(model_dir)
    onnx_tagger = TokenTagger.from_directory(model_dir, runtime="onnx")
    assert isinstance(onnx_tagger.model, OnnxTokenClassifier)
    want, got = torch_tagger.tag(texts), onnx_tagger.tag(texts)
    assert [[(s.label, s.start, s.end) for s in spans] for spans in got] == \
        [[(s.label, s.start, s.end) for s in spans] for spans in want]
    assert sum(len(spans) for spans in want) > 0  # a random model tags something, so the comparison means something
    for a, b in zip(want, got):
        for x, y in zip(a, b):
            assert abs(x.confidence - y.confidence) < 1e-4
    # the shipped stage takes the engine's runtime; the generic one only as its own option (a user's
    # model may not export); a process that finds the export cached never imports transformers
    assert "onnx" in CharBertEntityRecognizer.runtimes
    assert "onnx" not in getattr(HuggingFaceEntityRecognizer, "runtimes", ())
    stage = HuggingFaceEntityRecognizer(model=model_dir, runtime="onnx")
    assert isinstance(stage.tagger.model, OnnxTokenClassifier)
    code = ("import sys; from kocr_sdk.ner.tagger import TokenTagger; "
            f"t = TokenTagger.from_directory({str(model_dir)!r}, runtime='onnx'); t.tag(['홍길동']); "
            "print('transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "KOCR_ONNX_CACHE": str(tmp_path / "cache")})
    assert out.stdout.strip() == "False", out.stderr


def test_cli_export_onnx_writes_a_ner_model_that_loads(tmp_path, char_tokenizer):
    pytest.importorskip("onnxruntime")
    from click.testing import CliRunner

    from kocr_sdk.cli.main import cli
    from kocr_sdk.runtime.onnx import OnnxModule

    model_dir = make_hf_dir(tmp_path / "tiny", char_tokenizer)
    result = CliRunner().invoke(cli, ["export", "onnx", "--ner", str(model_dir), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "ner" in result.output and (tmp_path / "out" / "tiny.onnx").is_file()
    logits = OnnxModule(tmp_path / "out" / "tiny.onnx")(torch.full((1, 5), 5), torch.ones(1, 5, dtype=torch.long))
    assert logits.shape == (1, 5, len(TAGS))


# --- spaCy --------------------------------------------------------------------------------------
def _form_page() -> Page:
    words = [_word(0, "성명", 0), _word(1, "홍길동", 60), _word(2, "전화", 0, 60), _word(3, "010-1234-5678", 60, 60)]
    block = Block(id="b0", quad=quad_from_box((0, 0, 400, 100)), lines=[
        Line(id="l0", quad=quad_from_box((0, 10, 400, 30)), word_ids=["w0", "w1"]),
        Line(id="l1", quad=quad_from_box((0, 60, 400, 80)), word_ids=["w2", "w3"])])
    entities = [Entity(id="e0", label="PERSON", text="홍길동", word_ids=["w1"], spans=[WordSpan(word_id="w1", start=0, end=3)]),
                Entity(id="e1", label="PHONE", text="010-1234-5678", word_ids=["w3"],
                       spans=[WordSpan(word_id="w3", start=0, end=13)], confidence=0.9)]
    return Page(width=400, height=100, words=words, blocks=[block], entities=entities)


def test_to_spacy_has_entities_and_word_boxes():
    page = _form_page()
    doc = page.to_spacy()
    assert [t.text for t in doc] == ["성명", "홍길동", "전화", "010-1234-5678"]
    assert [(e.text, e.label_) for e in doc.ents] == [("홍길동", "PERSON"), ("010-1234-5678", "PHONE")]
    assert doc[1]._.kocr_box == tuple(page.word("w1").box) and doc[1]._.kocr_word_id == "w1"
    assert doc._.kocr_pages[0]["width"] == 400
    two = Document(kocr_version="0", pages=[page, page.model_copy(update={"index": 1})]).to_spacy()
    assert len(two.ents) == 4 and two[5]._.kocr_word_id == "w1" and len(two._.kocr_pages) == 2


def test_a_spacy_pipeline_wraps_as_an_entity_recogniser(fake_plugin, white_page):
    import spacy

    from kocr_sdk.ner.spacy_stage import SpacyEntityRecognizer

    nlp = spacy.blank("xx")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "PERSON", "pattern": "홍길동"},
                                               {"label": "BIZ_REG_NO", "pattern": "124-81-00997"}])
    page = _form_page().model_copy(update={"entities": [], "words": [*_form_page().words[:3], _word(3, "124-81-00997", 60, 60)]})
    ents = SpacyEntityRecognizer(pipeline=nlp).recognize(page)
    assert [(e.label, e.text, e.word_ids, e.valid) for e in ents] == [
        ("PERSON", "홍길동", ["w1"], None), ("BIZ_REG_NO", "124-81-00997", ["w3"], False)]

    class SpacyPlugin:
        @staticmethod
        @hookimpl
        def register_entity_recognizers(register):
            register(SpacyEntityRecognizer)

    engine = Engine(plugins=[fake_plugin, SpacyPlugin], load_entrypoints=False, device="cpu",
                    entity_recognizer="spacy", options={"spacy": {"pipeline": nlp}})
    stages = {r.stage: r for r in engine.read(white_page).pages[0].stages}
    assert stages["entity_recognizer"].implementation == "spacy" and stages["entity_recognizer"].status == "ran"
    with pytest.raises(KocrConfigError, match="needs the `pipeline` option"):
        SpacyEntityRecognizer()
    assert issubclass(SpacyEntityRecognizer, EntityRecognizer)


# --- redaction --------------------------------------------------------------------------------
def test_redaction_masks_entity_pixels_and_text():
    page = _form_page()
    image = np.full((100, 400, 3), 255, np.uint8)
    image[12:28, 62:118] = 30  # "ink" of 홍길동
    image[62:78, 62:318] = 30  # ink of the phone number
    out = redact_image(image, page, {"PERSON", "PHONE"})
    for wid in ("w1", "w3"):
        x0, y0, x1, y1 = (int(v) for v in page.word(wid).box)
        assert (out[y0:y1, x0:x1] == 0).all()
    assert (out[12:28, 0:40] == 255).all()  # 성명 untouched
    red = redact_page(page, {"PERSON", "PHONE"})
    dumped = red.model_dump_json()
    assert "홍길동" not in dumped and "1234" not in dumped and "성명" in dumped
    assert red.word("w1").text == MASK * 3 and all(e.redacted for e in red.entities)
    assert Page.model_validate_json(dumped) == red
    partial = redact_page(page.model_copy(update={"entities": [
        Entity(id="e0", label="PERSON", text="길동", word_ids=["w1"], spans=[WordSpan(word_id="w1", start=1, end=3)])]}),
        {"PERSON"})
    assert partial.word("w1").text == "홍" + MASK * 2


def test_cli_read_redact_writes_masked_image_and_document(tmp_path, monkeypatch, char_tokenizer, fake_plugin):
    from PIL import Image
    from click.testing import CliRunner

    from kocr_sdk.cli import main as cli_main

    model_dir = make_hf_dir(tmp_path / "tiny", char_tokenizer, favour="I-PERSON")
    monkeypatch.setattr(cli_main, "_engine", lambda config, device, template: _engine(fake_plugin, model_dir))
    src = tmp_path / "form.png"
    Image.fromarray(np.full((100, 200, 3), 120, np.uint8)).save(src)
    result = CliRunner().invoke(cli_main.cli, ["read", str(src), "--redact", "PERSON", "--overlay",
                                               "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    doc = Document.model_validate_json((tmp_path / "out" / "form.json").read_text())
    assert "가나" not in doc.text and doc.pages[0].entities[0].redacted
    masked = np.asarray(Image.open(tmp_path / "out" / "form.redacted.png"))
    for x0, y0, x1, y1 in ((10, 10, 60, 30), (70, 10, 130, 30), (10, 50, 90, 70)):  # FixedDetector's words
        assert (masked[y0:y1, x0:x1] == 0).all()
    assert (masked[90:, :] == 120).all() and (masked[38:44, :] == 120).all() and (masked[10:30, 160:] == 120).all()
    overlay = np.asarray(Image.open(tmp_path / "out" / "form.overlay.png"))  # the picture shows the redacted page
    assert overlay.shape[0] == 100 and overlay.shape[1] > 400 and (overlay[15:25, 15:55] == 0).all()
    empty = CliRunner().invoke(cli_main.cli, ["read", str(src), "--redact", " , "])
    assert empty.exit_code != 0 and "needs entity labels" in empty.output


def test_cli_redact_refuses_when_no_ner_ran(tmp_path, monkeypatch, fake_plugin):
    from PIL import Image
    from click.testing import CliRunner

    from kocr_sdk.cli import main as cli_main

    monkeypatch.setattr(cli_main, "_engine", lambda config, device, template: Engine(
        plugins=[fake_plugin], load_entrypoints=False, device="cpu"))
    src = tmp_path / "form.png"
    Image.fromarray(np.full((100, 200, 3), 120, np.uint8)).save(src)
    result = CliRunner().invoke(cli_main.cli, ["read", str(src), "--redact", "PERSON"])
    assert result.exit_code != 0 and "needs an entity recogniser" in result.output
    assert not (tmp_path / "form.redacted.png").exists()


# --- training ---------------------------------------------------------------------------------
def test_train_resume_and_export_a_tiny_model(tmp_path):
    from kocr_sdk.ner.model import NerArch
    from kocr_sdk.ner.tagger import TokenTagger
    from kocr_sdk.lab.training.ner import NerTrainConfig, export_model, train

    cfg = NerTrainConfig(arch=NerArch(hidden=32, layers=1, heads=2, intermediate=64, max_length=64), batch_size=8,
                         group=2, max_steps=3, val_every=2, val_size=10, tokenizer_samples=200, out=tmp_path / "run")
    first = train(cfg, progress=False)
    assert first["step"] == 3 and set(first["val"]) >= {"noisy", "clean"}
    again = train(cfg.model_copy(update={"max_steps": 5}), resume=tmp_path / "run" / "last.pt", progress=False)
    assert again["step"] == 5 and again["samples_seen"] == 40
    meta = export_model(tmp_path / "run" / "last.pt", tmp_path / "export")
    assert meta["step"] == 5 and json.loads((tmp_path / "export" / "kocr_ner.json").read_text())["tags"] == list(TAGS)
    tagger = TokenTagger.from_directory(tmp_path / "export")
    assert next(tagger.model.parameters()).dtype == torch.float32
    warm = train(cfg.model_copy(update={"max_steps": 6, "out": tmp_path / "warm"}), resume=tmp_path / "export",
                 progress=False)  # from exported weights, as a later run continues the shipped ones
    assert warm["step"] == 6 and warm["samples_seen"] == 48
    from click.testing import CliRunner

    from kocr_sdk.cli.main import cli

    bad = tmp_path / "bad.yaml"
    bad.write_text("arch: huge\nbatch_size: 8\n")
    result = CliRunner().invoke(cli, ["train", "ner", "--config", str(bad)])
    assert result.exit_code != 0 and "unknown arch" in result.output and "bad.yaml:1" in result.output


@pytest.mark.parametrize("fast", [True, False])
def test_ner_on_onnx_is_int8_where_the_cpu_has_an_int8_dot_product(tmp_path, char_tokenizer, monkeypatch, fast):
    pytest.importorskip("onnxruntime")
    from kocr_sdk.ner.recognizer import HuggingFaceEntityRecognizer
    from kocr_sdk.runtime import cpu

    class Shipped(HuggingFaceEntityRecognizer):  # quantize_by_default as the shipped char-bert stage has it
        quantize_by_default = True

    monkeypatch.setenv("KOCR_ONNX_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(cpu, "int8_is_fast", lambda: fast)
    model_dir = make_hf_dir(tmp_path / "rand", char_tokenizer)

    def int8(stage) -> bool:
        return stage.tagger.model.session.path.name.endswith("-int8.onnx")

    assert int8(Shipped(model=model_dir, runtime="onnx")) == fast
    assert not int8(Shipped(model=model_dir, runtime="onnx", quantize=False))
    assert not int8(HuggingFaceEntityRecognizer(model=model_dir, runtime="onnx"))  # a user's model: fp32 unless asked
