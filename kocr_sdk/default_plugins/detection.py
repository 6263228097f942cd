"""Registers kocr's own text detectors — only those whose weights ship with this installation."""

from __future__ import annotations

from ..detection.anchor_free import stage as anchor_free
from ..detection.craft import stage as craft
from ..hookspecs import hookimpl


@hookimpl
def register_detectors(register):
    if anchor_free.WEIGHTS_PATH.exists():
        register(anchor_free.AnchorFreeDetector)
    if craft.WEIGHTS_PATH.exists():
        register(craft.CraftDetector)
