"""The column-patch ViT's sizes by name: plain data, importable without torch.

The onnx runtime needs an architecture's patch width (to count a crop's valid frames) and no
network; :mod:`.model` builds the torch network from the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ArchConfig:
    dim: int
    depth: int
    heads: int
    mlp_ratio: float = 4.0
    height: int = 32
    patch_width: int = 4
    max_width: int = 512
    dropout: float = 0.1


ARCHS: dict[str, ArchConfig] = {
    "vitstr-tiny": ArchConfig(dim=192, depth=6, heads=3),
    "vitstr-small": ArchConfig(dim=384, depth=6, heads=6),
}


def frames(arch: str, widths: np.ndarray) -> np.ndarray:
    """Valid column tokens for crops of the given pixel widths (``ColumnViT.frames`` in numpy)."""
    pw = ARCHS[arch].patch_width
    return (widths + pw - 1) // pw
