"""Readings and frame scorers for the lexicon-correction tests: no recogniser, no frames."""

from __future__ import annotations

from kocr_sdk.interfaces import Reading


def make_reading(text: str, unsure: dict[int, float] | None = None) -> Reading:
    """``text`` read with confidence 0.999 a character, except the ``unsure`` positions."""
    confs = [0.999] * len(text)
    for i, c in (unsure or {}).items():
        confs[i] = c
    return Reading(text=text, confidence=min(confs), char_confidences=confs)


def prefers(*texts: str):
    """A scorer that ranks ``texts`` in order and everything else far below."""
    return lambda batch: [-float(texts.index(t)) if t in texts else -100.0 for t in batch]
