"""The AS-IS recogniser: a VGG-style CNN, a little self-attention, CTC — on any crop width.

Kakao's production recogniser before ViTSTR was a convolutional feature extractor followed by
self-attention and a CTC head, fed crops at their natural width (no resize to a fixed box). This
is that design at a size comparable to ``vitstr-tiny``, so that the two can be trained on the
same data for the same budget and compared (docs/models.md, "AS-IS vs TO-BE").

The CNN halves the width twice (stride 4, the ViTSTR column width) and collapses the height to
one row, giving one frame per 4 pixels; the attention layers use sinusoidal positions computed
for whatever length comes in, so unlike ViTSTR's learned table there is no widest crop.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from .config import ARCHS, ConvConfig


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def sinusoidal(length: int, dim: int, device: torch.device) -> torch.Tensor:
    """(1, length, dim) fixed positions (Vaswani et al.), for any length."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10_000.0) / dim))
    table = torch.zeros(length, dim, device=device)
    table[:, 0::2], table[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
    return table[None]


class ConvCTC(nn.Module):
    max_input_width = 2048  # no learned positions: only memory bounds the width
    quantize_by_default = False  # the AS-IS pipeline ran fp32; it is measured that way

    def __init__(self, n_classes: int, cfg: ConvConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c1, c2, c3, c4 = cfg.channels
        # (layer, horizontal stride after it). Padding columns are zeroed after every layer:
        # BatchNorm turns zeros into a per-channel constant, which the next convolution would
        # carry into the last valid frames — and a word would read differently in a wider bucket.
        self.layers = nn.ModuleList([
            nn.Sequential(*_block(1, c1)), nn.MaxPool2d(2),                   # 16 × W/2
            nn.Sequential(*_block(c1, c2)), nn.MaxPool2d(2),                  # 8 × W/4
            nn.Sequential(*_block(c2, c3)), nn.Sequential(*_block(c3, c3)), nn.MaxPool2d((2, 1)),  # 4 × W/4
            nn.Sequential(*_block(c3, c4)), nn.MaxPool2d((2, 1)),             # 2 × W/4
            nn.Sequential(nn.Conv2d(c4, cfg.dim, (2, 1), bias=False), nn.BatchNorm2d(cfg.dim), nn.ReLU(inplace=True)),
        ])
        layer = nn.TransformerEncoderLayer(cfg.dim, cfg.heads, cfg.dim * 4, cfg.dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, cfg.depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.dim)
        self.head = nn.Linear(cfg.dim, n_classes)

    def frames(self, widths: torch.Tensor) -> torch.Tensor:
        """Valid frames for crops of the given pixel widths: one per 4 pixels."""
        return torch.div(widths, 4, rounding_mode="floor").clamp(min=1)

    def forward(self, x: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
        """``x``: (B, 1, 32, W) normalised crops, ``widths``: (B,) valid widths → (B, W/4, classes)."""
        return self.head(self.features(x, widths))

    def features(self, x: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
        """The encoder's frame sequence (B, W/4, dim) before the classifier: what SeqCLR pre-trains."""
        feats = x
        for layer in self.layers:
            feats = layer(feats)
            if not isinstance(layer, nn.MaxPool2d):
                stride = x.shape[-1] // feats.shape[-1]
                valid = torch.div(widths + stride - 1, stride, rounding_mode="floor")
                cols = torch.arange(feats.shape[-1], device=x.device)
                feats = feats * (cols[None, :] < valid[:, None]).to(feats.dtype)[:, None, None, :]
        feats = feats.squeeze(2).transpose(1, 2)  # (B, T, dim)
        t = feats.shape[1]
        pad = torch.arange(t, device=x.device)[None, :] >= self.frames(widths)[:, None]
        hidden = self.encoder(feats + sinusoidal(t, self.cfg.dim, x.device), src_key_padding_mask=pad)
        return self.norm(hidden)


def builders() -> dict[str, Callable[[int], nn.Module]]:
    """Every named size of this family as ``n_classes -> network`` (collected by :mod:`..architectures`)."""
    return {name: (lambda n, cfg=cfg: ConvCTC(n, cfg)) for name, cfg in ARCHS.items()}
