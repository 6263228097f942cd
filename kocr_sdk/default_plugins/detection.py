"""Registers kocr's own text detectors — only those whose weights ship with this installation."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..detection.detector import shipped_detectors


@hookimpl
def register_detectors(register):
    for cls in shipped_detectors():
        register(cls)
