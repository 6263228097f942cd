"""Registers kocr's own text clusterer (DBSCAN words → lines → blocks, XY-cut reading order)."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..layout import DbscanClusterer


@hookimpl
def register_clusterers(register):
    register(DbscanClusterer)
