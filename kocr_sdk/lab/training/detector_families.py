"""Detector families: what changes with the architecture when a detector is trained or evaluated.

A family is a network constructor, the targets it learns, its loss and its decoding, with the
config class of each. The trainer (:mod:`kocr_sdk.lab.training.detector`) picks the family from the
config's ``arch`` — ``afd-*`` is the one-shot anchor-free detector, ``craft-*`` the CRAFT-style
baseline — and everything else (data stream, crops, augmentation, optimiser, checkpoints,
validation on whole pages through the same scaling) is shared, so the two are trained and
measured the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Collection

import numpy as np
from pydantic import BaseModel
from torch import nn

from ...detection import anchor_free, craft
from ...detection.anchor_free.targets import GroundTruth
from ...detection.craft.stage import CraftInferenceConfig
from ...detection.anchor_free.inference import Decoder, InferenceConfig


@dataclass(frozen=True)
class DetectorFamily:
    name: str
    archs: Collection[str]
    create_model: Callable[[str], nn.Module]
    encode: Callable[[GroundTruth, int, int, Any], dict[str, np.ndarray]]
    criterion: Callable[[Any], nn.Module]
    decoder_for: Callable[[Any], Decoder]
    """The decoder for weights trained with these target settings."""
    stride: Callable[[str], int]
    """Stride of the maps an architecture outputs (the targets must be built at it)."""
    target_config: type[BaseModel]
    loss_config: type[BaseModel]
    inference_config: type[InferenceConfig]


def _anchor_free_decoder(targets: anchor_free.TargetConfig) -> Decoder:
    return anchor_free.decode


def _craft_decoder(targets: craft.CraftTargetConfig) -> Decoder:
    def decoder(out, height, width, cfg, stride):
        return craft.decode(out, height, width, cfg, stride, sigma=targets.sigma)

    return decoder


FAMILIES: dict[str, DetectorFamily] = {
    "anchor-free": DetectorFamily(
        "anchor-free", anchor_free.ARCHS, anchor_free.create_model, anchor_free.encode, anchor_free.DetectionLoss,
        _anchor_free_decoder, lambda arch: anchor_free.STRIDE, anchor_free.TargetConfig, anchor_free.LossConfig,
        InferenceConfig),
    "craft": DetectorFamily(
        "craft", craft.ARCHS, craft.create_model, craft.encode, craft.CraftLoss, _craft_decoder,
        lambda arch: craft.ARCHS[arch].stride, craft.CraftTargetConfig, craft.CraftLossConfig, CraftInferenceConfig),
}


def family_of(arch: str) -> DetectorFamily:
    """The family an architecture name belongs to (``ValueError`` naming every known one otherwise)."""
    for family in FAMILIES.values():
        if arch in family.archs:
            return family
    known = ", ".join(a for f in FAMILIES.values() for a in f.archs)
    raise ValueError(f"unknown detector architecture {arch!r}; known: {known}")
