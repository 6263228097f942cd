"""The one-shot anchor-free detector: centerness, box regression and offsets for characters and
words, and orientation, at stride 4; decoded by max-pool peaks without NMS.

The network and its loss (torch) are imported on first use: decoding and the targets are
numpy, and the stage on the onnx runtime must load without torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .constants import STRIDE
from .decode import DecodeConfig, Decoded, boxes_to_quads, decode
from .targets import GroundTruth, TargetConfig, collate, encode

_TORCH_NAMES = {
    "DetectionLoss": "loss", "LossConfig": "loss", "ohem_bce": "loss", "ohem_select": "loss",
    "ARCHS": "model", "AnchorFreeNet": "model", "count_parameters": "model", "create_model": "model",
    "flop_breakdown": "model", "fuse_batchnorm": "model", "normalise": "model",
}

__all__ = [
    "ARCHS", "STRIDE", "AnchorFreeNet", "create_model", "count_parameters", "flop_breakdown", "fuse_batchnorm",
    "normalise", "GroundTruth", "TargetConfig", "encode", "collate", "DetectionLoss", "LossConfig", "ohem_bce",
    "ohem_select", "DecodeConfig", "Decoded", "decode", "boxes_to_quads",
]


def __getattr__(name: str) -> Any:
    if name in _TORCH_NAMES:
        return getattr(import_module(f"{__name__}.{_TORCH_NAMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
