"""Shared fixtures. By default no third-party plugin loads (KOCR_LOAD_PLUGINS=""), so a plugin
installed on the machine never changes a test's result; tests that need one opt in."""

from __future__ import annotations

import numpy as np
import pytest

from kocr_sdk import (
    Clusterer,
    DetectedChar,
    DetectedWord,
    Detection,
    Reading,
    Recognizer,
    ScriptIdentifier,
    ScriptPrediction,
    TextDetector,
    hookimpl,
)
from kocr_sdk.document import Block, Line
from kocr_sdk.geometry import box_from_quad, quad_from_box, union_box


@pytest.fixture(autouse=True)
def _isolate_plugins(monkeypatch):
    monkeypatch.setenv("KOCR_LOAD_PLUGINS", "")
    for var in ("KOCR_DEVICE", "KOCR_DETECTOR", "KOCR_RECOGNIZERS__HANGUL", "KOCR_MAX_SIDE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(autouse=True)
def _hide_shipped_weights(request, monkeypatch, tmp_path_factory):
    """Tests of the engine's plumbing use fakes with known outputs; the shipped models would
    outrank them (or read pages the fakes describe). They are hidden unless a test is marked
    ``shipped_models``, which is how the tests of the real models opt in."""
    if request.node.get_closest_marker("shipped_models"):
        return
    from kocr_sdk.detection.anchor_free import stage as detector
    from kocr_sdk.detection.craft import stage as craft_stage
    from kocr_sdk.ner import recognizer as ner_recognizer
    from kocr_sdk.recognition import stage as recognizer
    from kocr_sdk.script_id import identifier

    empty = tmp_path_factory.mktemp("no-weights")
    monkeypatch.setattr(detector, "WEIGHTS_PATH", empty / "detector-anchor-free.safetensors")
    monkeypatch.setattr(craft_stage, "WEIGHTS_PATH", empty / "detector-craft.safetensors")
    monkeypatch.setattr(recognizer, "WEIGHTS_DIR", empty)
    monkeypatch.setattr(identifier, "WEIGHTS_PATH", empty / "script-id.safetensors")
    monkeypatch.setattr(ner_recognizer, "WEIGHTS_DIR", empty / "ner-char-bert")


# --- test doubles: plugins registered through the real hooks -----------------------------------
# A fake detector that "finds" dark columns-runs would be too clever; these fakes return fixed,
# known boxes so the tests can check the engine's plumbing exactly.

WORD_BOXES = [(10, 10, 60, 30), (70, 10, 130, 30), (10, 50, 90, 70)]


class FixedDetector(TextDetector):
    name = "fixed"

    def detect(self, image):
        words = []
        for x0, y0, x1, y1 in WORD_BOXES:
            mid = (x0 + x1) / 2
            chars = [DetectedChar(quad=quad_from_box((x0, y0, mid, y1))), DetectedChar(quad=quad_from_box((mid, y0, x1, y1)))]
            words.append(DetectedWord(quad=quad_from_box((x0, y0, x1, y1)), confidence=0.9, chars=chars))
        return Detection(words=words, orientation=0, orientation_confidence=0.99)


class WidthScript(ScriptIdentifier):
    """Labels crops by their width so a test knows which word gets which script."""

    name = "by-width"
    scripts = ("hangul", "latin", "han")
    table: dict[int, dict[str, float]] = {}

    def identify(self, crops):
        out = []
        for c in crops:
            probs = self.table.get(c.shape[1], {"hangul": 0.9, "latin": 0.1})
            out.append(ScriptPrediction(probabilities=probs))
        return out


class HangulReader(Recognizer):
    name = "hangul-reader"
    scripts = ("hangul",)
    calls: list[int] = []

    def recognize(self, crops):
        HangulReader.calls.append(len(crops))
        return [Reading(text="가나", confidence=0.8, char_confidences=[0.7, 0.9]) for _ in crops]


class LatinReader(Recognizer):
    name = "latin-reader"
    scripts = ("latin", "digits")
    confidence = 0.95

    def recognize(self, crops):
        return [Reading(text="AB", confidence=LatinReader.confidence) for _ in crops]


class LineClusterer(Clusterer):
    """Puts words with the same top edge on one line, one block per line."""

    name = "same-top"

    def cluster(self, page):
        rows: dict[float, list] = {}
        for w in page.words:
            rows.setdefault(w.box[1], []).append(w)
        blocks = []
        for i, (_top, words) in enumerate(sorted(rows.items())):
            words.sort(key=lambda w: w.box[0])
            box = union_box([w.box for w in words])
            line = Line(id=f"l{i}", quad=quad_from_box(box), word_ids=[w.id for w in words])
            blocks.append(Block(id=f"b{i}", quad=quad_from_box(box), lines=[line]))
        return blocks


class FakePlugin:
    @staticmethod
    @hookimpl
    def register_detectors(register):
        register(FixedDetector)

    @staticmethod
    @hookimpl
    def register_script_identifiers(register):
        register(WidthScript)

    @staticmethod
    @hookimpl
    def register_recognizers(register):
        register(HangulReader)
        register(LatinReader)

    @staticmethod
    @hookimpl
    def register_clusterers(register):
        register(LineClusterer)


@pytest.fixture
def fake_plugin():
    WidthScript.table = {}
    HangulReader.calls = []
    LatinReader.confidence = 0.95
    return FakePlugin


@pytest.fixture
def white_page():
    return np.full((100, 200, 3), 255, np.uint8)


__all__ = ["box_from_quad"]
