"""The AS-IS baseline detector: CRAFT-style character-region and affinity
heatmaps at stride 2, thresholded and grouped by connected components into words and
characters. No orientation head. The stage is :class:`.stage.CraftDetector` (``detector: craft``).

The network and its loss (torch) are imported on first use, so registering the stage costs no
torch import.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .decode import CraftDecodeConfig, CraftDecoded, decode, extent_ratio
from .targets import CraftTargetConfig, affinity_boxes, encode

_TORCH_NAMES = {"CraftLoss": "loss", "CraftLossConfig": "loss", "ohem_mse": "loss",
                "ARCHS": "model", "CraftArch": "model", "CraftNet": "model", "create_model": "model"}

__all__ = [
    "ARCHS", "CraftArch", "CraftNet", "create_model", "CraftTargetConfig", "encode", "affinity_boxes", "CraftLoss",
    "CraftLossConfig", "ohem_mse", "CraftDecodeConfig", "CraftDecoded", "decode", "extent_ratio",
]


def __getattr__(name: str) -> Any:
    if name in _TORCH_NAMES:
        return getattr(import_module(f"{__name__}.{_TORCH_NAMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
