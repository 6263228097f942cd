"""Registers the form templates shipped with kocr (``kocr_sdk/data/templates/``, package data)
and kocr's own template matcher."""

from __future__ import annotations

from pathlib import Path

from ..hookspecs import hookimpl
from ..resources import TEMPLATES_DIR
from ..templates.matcher import FuzzyTemplateMatcher


def shipped_templates_dir() -> Path:
    """The shipped templates' folder, inside the installed package (never guessed from the working
    directory or site-packages: an unrelated ``templates/`` folder is not kocr's)."""
    return TEMPLATES_DIR


@hookimpl
def register_template_sources(register):
    if TEMPLATES_DIR.is_dir():
        register(TEMPLATES_DIR)


@hookimpl
def register_template_matchers(register):
    register(FuzzyTemplateMatcher)
