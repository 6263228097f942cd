"""Per-character confidences: kocr's recognisers give the network's probability for every
character they read (torch and ONNX alike), and the engine puts them on the character boxes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kocr_sdk.document import Char
from kocr_sdk.engine import _label_chars
from kocr_sdk.geometry import quad_from_box
from kocr_sdk.interfaces import Reading
from kocr_sdk.recognition.charset import CHARSETS
from kocr_sdk.recognition.stage import CtcRecognizer
from kocr_sdk.recognition.vitstr.model import create_model
from kocr_sdk.weights_file import write_weights


def _weights(tmp_path, charset="hangul"):
    torch.manual_seed(3)
    model = create_model("vitstr-tiny", len(CHARSETS[charset]()))
    path = tmp_path / f"vitstr-tiny-{charset}.safetensors"
    write_weights(path, model.state_dict(), {"arch": "vitstr-tiny", "charset": charset})
    return path


def _crops(n=5):
    return [np.random.default_rng(i).integers(0, 255, (28, 30 + 25 * i, 3), dtype=np.uint8) for i in range(n)]


def test_ctc_recognizer_gives_one_confidence_per_character(tmp_path):
    path = _weights(tmp_path)
    readings = CtcRecognizer(weights=str(path), quantize=False).recognize(_crops())
    assert any(r.text for r in readings)  # a random network still emits characters
    for r in readings:
        assert r.char_confidences is not None and len(r.char_confidences) == len(r.text)
        assert all(0.0 <= c <= 1.0 for c in r.char_confidences)
        # the word is as sure as its least sure character
        assert r.confidence == pytest.approx(min(r.char_confidences) if r.text else 0.0)


def test_onnx_runtime_gives_the_same_character_confidences(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("KOCR_ONNX_CACHE", str(tmp_path / "cache"))
    path = _weights(tmp_path, "latin")
    crops = _crops()
    a = CtcRecognizer(weights=str(path), quantize=False).recognize(crops)
    b = CtcRecognizer(weights=str(path), quantize=False, runtime="onnx").recognize(crops)
    assert [r.text for r in a] == [r.text for r in b]
    for ra, rb in zip(a, b):
        assert np.allclose(ra.char_confidences, rb.char_confidences, atol=1e-4)


def _boxes(n):
    return [Char(id=f"c{i}", quad=quad_from_box((10 * i, 0, 10 * i + 10, 20)), confidence=0.5) for i in range(n)]


def test_matching_counts_give_each_box_its_letter_and_probability():
    # the space has a confidence in the reading but no box on the page
    chars = _label_chars(_boxes(3), Reading(text="가 b1", confidence=0.6, char_confidences=[0.9, 0.99, 0.6, 0.8]))
    assert [c.text for c in chars] == ["가", "b", "1"]
    assert [c.confidence for c in chars] == [0.9, 0.6, 0.8]


def test_mismatched_counts_leave_the_detector_boxes_as_they_were():
    boxes = _boxes(2)
    chars = _label_chars(boxes, Reading(text="가나다", confidence=0.6, char_confidences=[0.9, 0.6, 0.7]))
    assert chars == boxes and all(c.text is None and c.confidence == 0.5 for c in chars)


def test_a_reading_without_character_confidences_keeps_the_detector_confidence():
    chars = _label_chars(_boxes(2), Reading(text="AB", confidence=0.6))
    assert [c.text for c in chars] == ["A", "B"] and [c.confidence for c in chars] == [0.5, 0.5]
