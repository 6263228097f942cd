"""Registers the form templates shipped with kocr (the top-level ``templates/`` directory) and
kocr's own template matcher."""

from __future__ import annotations

from pathlib import Path

from ..hookspecs import hookimpl
from ..templates.matcher import FuzzyTemplateMatcher


def shipped_templates_dir() -> Path | None:
    """Where the shipped templates are: beside the package in a source checkout, or inside it."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "templates", here / "data" / "templates"):
        if candidate.is_dir():
            return candidate
    return None


@hookimpl
def register_template_sources(register):
    directory = shipped_templates_dir()
    if directory is not None:
        register(directory)


@hookimpl
def register_template_matchers(register):
    register(FuzzyTemplateMatcher)
