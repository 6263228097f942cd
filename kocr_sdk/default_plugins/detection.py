"""Registers kocr's own text detectors — only those whose weights ship with this installation."""

from __future__ import annotations

import importlib.util

from ..detection.anchor_free import stage as anchor_free
from ..hookspecs import hookimpl
from ..resources import WEIGHTS_DIR


def _torch_installed() -> bool:
    """Whether torch can be imported, without importing it (seconds, which registration must not cost)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a module that is blocked or half-imported
        return False


@hookimpl
def register_detectors(register):
    if anchor_free.WEIGHTS_PATH.exists():
        register(anchor_free.AnchorFreeDetector)
    # CRAFT runs on torch only: without torch it is not offered (its module imports torch)
    if (WEIGHTS_DIR / "detector-craft.safetensors").exists() and _torch_installed():
        from ..detection.craft import stage as craft

        if craft.WEIGHTS_PATH.exists():
            register(craft.CraftDetector)
