"""Registers kocr's own page rectifier (the paper in a photo found by its edges, its perspective flattened)."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..rectify import PaperRectifier


@hookimpl
def register_rectifiers(register):
    register(PaperRectifier)
