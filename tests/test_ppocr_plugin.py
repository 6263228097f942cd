"""The kocr-ppocr plugin (plugins/kocr-ppocr): discovered through its entry point, reads Latin and
digit words, and stays out of the way until a config names it. Skipped when it is not installed."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

kocr_ppocr = pytest.importorskip("kocr_ppocr", reason="kocr-ppocr is not installed (pip install -e plugins/kocr-ppocr)")

from kocr_sdk import Engine, KocrError, KocrModelError  # noqa: E402
from kocr_sdk.plugins import load_registry  # noqa: E402

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _word(text: str, height: int = 32) -> np.ndarray:
    """``text`` drawn black on white, cut to ``height`` px as the engine hands crops."""
    font = ImageFont.truetype(FONT, 40)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("RGB", (right - left + 16, bottom - top + 16), "white")
    ImageDraw.Draw(img).text((8 - left, 8 - top), text, fill="black", font=font)
    w = round(img.width * height / img.height)
    return np.asarray(img.resize((w, height), Image.LANCZOS))


@pytest.fixture(scope="module")
def recognizer():
    return kocr_ppocr.PpocrRecognizer(threads=1)


def test_found_through_its_entry_point_below_kocrs_own(monkeypatch):
    monkeypatch.setenv("KOCR_LOAD_PLUGINS", "ppocr")
    registry = load_registry()
    reg = registry.stages["recognizer"]["ppocr-latin"]
    assert reg.plugin.distribution == "kocr-ppocr" and set(reg.scripts) == {"latin", "digits"}
    assert reg.priority < 0  # installing it changes nothing until a config names it


def test_reads_latin_and_digit_words(recognizer):
    out = recognizer.recognize([_word("Invoice"), _word("2024-03-15"), _word("TOTAL:")])
    assert [r.text for r in out] == ["Invoice", "2024-03-15", "TOTAL:"]
    for r in out:
        assert 0.5 < r.confidence <= 1.0
        assert r.char_confidences is not None and len(r.char_confidences) == len(r.text)
    assert recognizer.recognize([]) == []


def test_named_in_the_config_it_reads_the_engines_latin_words(monkeypatch):
    monkeypatch.setenv("KOCR_LOAD_PLUGINS", "ppocr")
    engine = Engine(detector="none", script_identifier="none", orientation_check=False, threads=1,
                    recognizers={"latin": "ppocr-latin", "digits": "ppocr-latin"})
    out = engine.read_crops([_word("Memorandum"), _word("1,250.00")], scripts=["latin", "digits"])
    assert [(r.recognizer, r.reading.text) for r in out] == [("ppocr-latin", "Memorandum"), ("ppocr-latin", "1,250.00")]


def test_bad_input_and_options_are_kocr_errors(recognizer, tmp_path):
    with pytest.raises(KocrError, match="RGB uint8"):
        recognizer.recognize([np.zeros((32, 40), np.float32)])
    with pytest.raises(KocrModelError, match="not found"):
        kocr_ppocr.PpocrRecognizer(model=str(tmp_path / "missing.onnx"))
    with pytest.raises(KocrModelError, match="threads"):
        kocr_ppocr.PpocrRecognizer(threads=0)
