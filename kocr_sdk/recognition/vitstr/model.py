"""A vision transformer over column slices of a word crop (ViTSTR, with Kakao's column patches).

Square 16×16 patches cut a character into pieces that are reassembled only by attention; a
column patch — the full crop height, a few pixels wide — is already a slice of the text in its
reading direction, so the token sequence *is* the reading order. Every output token classifies
into the charset (plus the CTC blank), so all characters are predicted at once: no
autoregressive loop, one forward pass per batch.

Sizes are data, not subclasses: ``ARCHS`` maps a name to its hyper-parameters (timm style) and
``create_model(name, n_classes)`` is the only constructor callers need.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .config import ARCHS, ArchConfig



class ColumnViT(nn.Module):
    def __init__(self, n_classes: int, cfg: ArchConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Linear(cfg.height * cfg.patch_width, cfg.dim)
        self.pos = nn.Parameter(torch.zeros(1, cfg.max_width // cfg.patch_width, cfg.dim))
        nn.init.trunc_normal_(self.pos, std=0.02)
        layer = nn.TransformerEncoderLayer(
            cfg.dim, cfg.heads, int(cfg.dim * cfg.mlp_ratio), cfg.dropout, activation="gelu",
            batch_first=True, norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, cfg.depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.dim)
        self.head = nn.Linear(cfg.dim, n_classes)

    def frames(self, widths: torch.Tensor) -> torch.Tensor:
        """Number of valid column tokens for crops of the given pixel widths."""
        return torch.div(widths + self.cfg.patch_width - 1, self.cfg.patch_width, rounding_mode="floor")

    def forward(self, x: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
        """``x``: (B, 1, H, W) normalised crops, ``widths``: (B,) valid widths → (B, T, classes) logits."""
        return self.head(self.features(x, widths))

    def features(self, x: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
        """The encoder's frame sequence (B, T, dim) before the classifier: what SeqCLR pre-trains."""
        b, _, h, w = x.shape
        pw = self.cfg.patch_width
        t = w // pw
        cols = x[:, 0, :, : t * pw].reshape(b, h, t, pw).permute(0, 2, 1, 3).reshape(b, t, h * pw)
        tokens = self.embed(cols) + self.pos[:, :t]
        pad = torch.arange(t, device=x.device)[None, :] >= self.frames(widths)[:, None]
        hidden = self.encoder(tokens, src_key_padding_mask=pad)
        return self.norm(hidden)


def create_model(arch: str, n_classes: int) -> ColumnViT:
    try:
        cfg = ARCHS[arch]
    except KeyError:
        raise ValueError(f"unknown recogniser architecture {arch!r}; known: {', '.join(ARCHS)}") from None
    return ColumnViT(n_classes, cfg)


def builders() -> dict[str, Callable[[int], nn.Module]]:
    """Every named size of this family as ``n_classes -> network`` (collected by :mod:`..architectures`)."""
    return {name: (lambda n, cfg=cfg: ColumnViT(n, cfg)) for name, cfg in ARCHS.items()}
