"""The weights shipped in kocr_sdk/weights, end to end through the default engine.

These are behaviour checks of the real models on the bundled sample page (a 사업자등록증 in a
font family the detector and recogniser trained on, but a page they never saw), not accuracy
targets: those live in benchmarks/ and docs/benchmarks.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kocr_sdk import Engine

SAMPLE = Path(__file__).resolve().parents[1] / "kocr_sdk" / "data" / "sample_ko.png"

pytestmark = pytest.mark.shipped_models


@pytest.fixture(scope="module")
def engine():
    return Engine(load_entrypoints=False, device="cpu")


def test_default_engine_uses_the_shipped_detector_and_recogniser(engine):
    stages = engine.describe()
    assert stages["detector"] == "anchor-free"
    assert "vitstr-tiny-hangul" in stages["recognizer"]


def test_sample_page_is_read(engine):
    page = engine.read(SAMPLE).pages[0]
    ran = {r.stage for r in page.stages if r.status == "ran"}
    assert {"detector", "recognizer"} <= ran
    texts = [w.text for w in page.words]
    assert 25 <= len(texts) <= 120
    # values of the form that the shipped models read exactly
    for value in ("김민준", "(주)한빛데이터", "서울특별시"):
        assert value in texts, (value, texts)
    assert page.orientation == 0
    # each word read by its script's weights: Latin words and digit strings by `latin`, the rest by `hangul`
    for w in page.words:
        if w.text:
            want = "vitstr-tiny-latin" if w.script in ("latin", "digits") else "vitstr-tiny-hangul"
            assert w.recognizer == want, (w.text, w.script, w.recognizer)
    assert {w.recognizer for w in page.words if w.text} == {"vitstr-tiny-hangul", "vitstr-tiny-latin"}


def test_upside_down_sample_page_is_turned_and_read(engine):
    import numpy as np
    from PIL import Image

    image = np.asarray(Image.open(SAMPLE).convert("RGB"))[::-1, ::-1].copy()
    page = engine.read(image).pages[0]
    assert page.orientation == 180
    check = next(r for r in page.stages if r.stage == "orientation_check")
    assert check.status == "ran"
    texts = [w.text for w in page.words]
    for value in ("김민준", "서울특별시"):
        assert value in texts, (value, texts)


def test_craft_baseline_is_shipped_but_only_used_when_asked_for(engine):
    """The AS-IS baseline's weights ship for the comparison; ``auto`` keeps the
    anchor-free detector, and ``detector: craft`` reads the page through the baseline."""
    assert engine.describe()["detector"] == "anchor-free"
    craft = Engine(detector="craft", load_entrypoints=False, device="cpu")
    assert craft.describe()["detector"] == "craft"
    page = craft.read(SAMPLE).pages[0]
    assert {r.stage: r.status for r in page.stages}["detector"] == "ran"
    texts = [w.text for w in page.words]
    assert 25 <= len(texts) <= 120
    for value in ("김민준", "서울특별시"):
        assert value in texts, (value, texts)
    # character boxes come from the region map's components: one per character of a clean word
    word = next(w for w in page.words if w.text == "김민준")
    assert len(word.chars) == 3
