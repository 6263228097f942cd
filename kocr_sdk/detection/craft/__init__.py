"""The AS-IS baseline detector: CRAFT-style character-region and affinity
heatmaps at stride 2, thresholded and grouped by connected components into words and
characters. No orientation head. The stage is :class:`.stage.CraftDetector` (``detector: craft``)."""

from .decode import CraftDecodeConfig, CraftDecoded, decode, extent_ratio
from .loss import CraftLoss, CraftLossConfig, ohem_mse
from .model import ARCHS, CraftArch, CraftNet, create_model
from .targets import CraftTargetConfig, affinity_boxes, encode

__all__ = [
    "ARCHS", "CraftArch", "CraftNet", "create_model", "CraftTargetConfig", "encode", "affinity_boxes", "CraftLoss",
    "CraftLossConfig", "ohem_mse", "CraftDecodeConfig", "CraftDecoded", "decode", "extent_ratio",
]
