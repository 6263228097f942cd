"""The AS-IS baseline: a CRAFT-style segmentation network on the anchor-free detector's backbone.

CRAFT (the AS-IS detector) predicts two per-pixel heatmaps and leaves the rest to
post-processing:

- ``region``: how close the pixel is to the centre of a character (a 2-D Gaussian per
  character box, 1 at its centre);
- ``affinity``: how close it is to the middle of the link between two adjacent characters of
  the same word (a Gaussian on the box between their centres).

Both are raw values regressed with MSE (no sigmoid, as in CRAFT). Thresholding their union and
taking connected components gives words; thresholding the region map alone gives characters
(:mod:`.decode`).

To compare detectors and not backbones, ``craft-slim`` is the ``afd-slim`` backbone and FPN
(:class:`~kocr_sdk.detection.anchor_free.model.PyramidBackbone`, the same separable blocks at
the same widths) with a segmentation head instead of the FCOS heads. CRAFT's maps are at
stride 2 — half the input resolution — because the gap between two words of small text is a
few pixels, and a segmentation can only keep apart what its grid resolves. The stride-2 level
is kept thin: the stride-4 FPN output is reduced to ``fine`` channels, upsampled, added to a
1×1 lateral of the stem, and smoothed by one separable block, so that at A4 size the network
costs about what ``afd-slim`` does (docs/models.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..anchor_free.model import ArchConfig, ConvBN, PyramidBackbone, SepBlock

OUTPUT_CHANNELS = {"region": 1, "affinity": 1}


@dataclass(frozen=True)
class CraftArch:
    backbone: ArchConfig = field(default_factory=ArchConfig)
    tower: int = 48  # channels of the stride-4 block before the stride-2 level
    fine: int = 24  # channels at stride 2
    stride: int = 2  # of the output maps: 2 (CRAFT) or 4 (no stride-2 level)


ARCHS: dict[str, CraftArch] = {
    "craft-slim": CraftArch(),
    "craft-tiny": CraftArch(backbone=ArchConfig(stem=16, widths=(24, 48, 96, 160), depths=(1, 2, 2, 2),
                                                dilations32=(2, 4), fpn=32, head=32), tower=32, fine=16),
}


class CraftNet(PyramidBackbone):
    """Image (B, 3, H, W), H and W multiples of 32 → ``{"region", "affinity"}``, each
    (B, 1, H / stride, W / stride)."""

    def __init__(self, cfg: CraftArch) -> None:
        if cfg.stride not in (2, 4):
            raise ValueError(f"CRAFT maps are at stride 2 or 4, not {cfg.stride}")
        super().__init__(cfg.backbone)
        self.cfg = cfg
        self.stride = cfg.stride
        fpn = cfg.backbone.fpn
        self.tower = SepBlock(fpn, cfg.tower)
        width = cfg.tower
        if cfg.stride == 2:
            self.reduce = ConvBN(cfg.tower, cfg.fine, 1)
            self.lateral2 = ConvBN(cfg.backbone.stem, cfg.fine, 1)
            self.fine = SepBlock(cfg.fine, cfg.fine)
            width = cfg.fine
        self.head = nn.Conv2d(width, sum(OUTPUT_CHANNELS.values()), 1)
        self._init()

    def _init(self) -> None:
        self._init_convs()
        nn.init.normal_(self.head.weight, std=0.01)  # heatmaps start near 0: most pixels are background

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        c2, p = self.pyramid(x)
        y = self.tower(p)
        if self.stride == 2:
            y = self.reduce(y)
            y = self.fine(self.lateral2(c2) + F.interpolate(y, size=c2.shape[-2:], mode="nearest"))
        out = self.head(y)
        return {"region": out[:, 0:1], "affinity": out[:, 1:2]}


def create_model(arch: str = "craft-slim") -> CraftNet:
    try:
        cfg = ARCHS[arch]
    except KeyError:
        raise ValueError(f"unknown CRAFT architecture {arch!r}; known: {', '.join(ARCHS)}") from None
    return CraftNet(cfg)
