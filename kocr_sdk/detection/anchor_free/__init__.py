"""The one-shot anchor-free detector: centerness, box regression and offsets for characters and
words, and orientation, at stride 4; decoded by max-pool peaks without NMS."""

from .decode import DecodeConfig, Decoded, boxes_to_quads, decode
from .loss import DetectionLoss, LossConfig, ohem_bce, ohem_select
from .model import (
    ARCHS,
    STRIDE,
    AnchorFreeNet,
    count_parameters,
    create_model,
    flop_breakdown,
    fuse_batchnorm,
    normalise,
)
from .targets import GroundTruth, TargetConfig, collate, encode

__all__ = [
    "ARCHS", "STRIDE", "AnchorFreeNet", "create_model", "count_parameters", "flop_breakdown", "fuse_batchnorm",
    "normalise", "GroundTruth", "TargetConfig", "encode", "collate", "DetectionLoss", "LossConfig", "ohem_bce",
    "ohem_select", "DecodeConfig", "Decoded", "decode", "boxes_to_quads",
]
