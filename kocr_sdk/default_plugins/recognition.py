"""Registers kocr's own recognisers — only those whose weights ship with this installation."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..recognition.stage import shipped_recognizers


@hookimpl
def register_recognizers(register):
    for cls in shipped_recognizers():
        register(cls)
