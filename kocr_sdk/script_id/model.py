"""A small CNN that says which script a word crop is written in.

Script identification runs on every word of every page before any recogniser, so it must cost a
fraction of recognition: a few 3×3 conv blocks that shrink the crop quickly (stride-2 stem, then
pooling), then *global pooling over the width*. Pooling over width is what lets one network take
crops of any width — a two-letter word and a 48-character line — with no resizing to a fixed
shape and no position embeddings to run out of. Two poolings are concatenated:

- max over the width: "is there a Hangul syllable anywhere in this crop?". The labelling rule
  (:func:`kocr_sdk.vocabulary.scripts.script_of`) is one of presence — ``2019년`` and ``(주)ABC`` are
  ``hangul`` because the Korean recogniser must read them — and a max answers presence questions;
- mean over the width: the texture of the whole crop (stroke density tells Han from Kana).

Padded columns (crops are zero-padded on the right to the batch's width) are masked out of both,
so a crop is classified the same in any batch.

Sizes are data (``ARCHS``), as for the recogniser; ``create_model(name, n_classes)`` builds one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ScriptArch:
    channels: tuple[int, ...]
    """Output channels of the stem and of each following conv block."""
    pool_after: tuple[bool, ...]
    """Whether a 2×2 max-pool follows the stem / each block (the stride of the features)."""
    hidden: int = 128
    dropout: float = 0.1
    height: int = 32

    @property
    def stride(self) -> int:
        """Pixels of input width per feature column."""
        return 2 * 2 ** sum(self.pool_after)


ARCHS: dict[str, ScriptArch] = {
    # ~0.1 M parameters; ~6 M multiply-adds for a 32×128 crop.
    "script-cnn": ScriptArch(channels=(16, 32, 64, 96), pool_after=(True, True, False, False)),
    # A faster variant for benchmarks of the speed/accuracy trade-off.
    "script-cnn-small": ScriptArch(channels=(12, 24, 48, 64), pool_after=(True, True, False, False), hidden=96),
}


class MaskedBatchNorm2d(nn.BatchNorm2d):
    """Batch norm whose training statistics count only the columns inside each crop.

    Batches are crops sorted by width and zero-padded to the widest; a plain batch norm would
    average the padding in, so its statistics — and the running ones inference uses — would
    swing with how much padding the last batches had (measured: held-out accuracy jumping by
    several points between validations). In eval mode it is an ordinary batch norm, and folds
    into the conv before it.
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        if not self.training or mask is None:
            return super().forward(x)
        m = mask[:, None, None, :].to(x.dtype)  # (B, 1, 1, W)
        n = m.sum() * x.shape[2]
        mean = (x * m).sum((0, 2, 3)) / n
        var = (((x - mean[None, :, None, None]) ** 2) * m).sum((0, 2, 3)) / n
        with torch.no_grad():
            self.num_batches_tracked += 1
            self.running_mean.lerp_(mean.detach(), self.momentum)
            self.running_var.lerp_(var.detach() * n / max(float(n) - 1, 1.0), self.momentum)
        y = (x - mean[None, :, None, None]) * torch.rsqrt(var + self.eps)[None, :, None, None]
        return y * self.weight[None, :, None, None] + self.bias[None, :, None, None]


def _conv_bn(cin: int, cout: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), MaskedBatchNorm2d(cout), nn.ReLU(inplace=True)]


class ScriptCNN(nn.Module):
    """(B, 1, 32, W) normalised crops + their valid widths → (B, n_classes) logits."""

    def __init__(self, n_classes: int, cfg: ScriptArch) -> None:
        super().__init__()
        if len(cfg.pool_after) != len(cfg.channels):
            raise ValueError("pool_after needs one entry per conv (stem included)")
        self.cfg = cfg
        blocks: list[nn.Module] = []
        cin = 1
        for i, (cout, pool) in enumerate(zip(cfg.channels, cfg.pool_after)):
            layers = _conv_bn(cin, cout, stride=2 if i == 0 else 1)
            if pool:
                layers.append(nn.MaxPool2d(2, ceil_mode=True))  # ceil: a 4 px crop keeps a column
            blocks.append(nn.Sequential(*layers))
            cin = cout
        self.blocks = nn.ModuleList(blocks)
        rows = cfg.height // cfg.stride
        # Collapse the remaining rows with a learned weighting (a depthwise conv over the full
        # height): where in the line a feature fires matters (ascenders, the baseline), and a
        # per-channel weighting keeps that at the cost of a few hundred parameters.
        self.rows = nn.Conv2d(cin, cin, (rows, 1), groups=cin, bias=False)
        self.head = nn.Sequential(
            nn.Linear(2 * cin, cfg.hidden), nn.ReLU(inplace=True), nn.Dropout(cfg.dropout), nn.Linear(cfg.hidden, n_classes)
        )

    def forward(self, x: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
        # After every activation, the columns that lie in the batch's right padding are zeroed:
        # the next 3×3 conv (or a pooling window straddling the edge) then sees at a crop's
        # right edge exactly the zeros its own padding would give, so a crop gets the same
        # answer alone or padded into a wider batch.
        valid = widths
        for i, block in enumerate(self.blocks):
            conv, *rest = list(block)
            x = conv(x)
            valid = _halve(valid) if i == 0 else valid
            mask = _mask(valid, x.shape[-1])
            for layer in rest:
                if isinstance(layer, nn.MaxPool2d):
                    x = layer(x)
                    valid = _halve(valid)
                elif isinstance(layer, MaskedBatchNorm2d):
                    x = layer(x, mask)
                else:  # the ReLU, then zero the padding (skipped when the batch has none)
                    x = layer(x)
                    if not bool(mask.all()):
                        m = mask[:, None, None, :].to(x.dtype)
                        # in place at inference (measured 1.8x faster); autograd needs the ReLU output
                        x = x * m if torch.is_grad_enabled() else x.mul_(m)
        f = self.rows(x).squeeze(2)  # (B, C, T)
        keep = _mask(valid, f.shape[-1])[:, None, :]
        fmax = f.masked_fill(~keep, float("-inf")).amax(-1)
        fmean = (f * keep).sum(-1) / keep.sum(-1).clamp(min=1)
        return self.head(torch.cat([fmax, fmean], dim=1))


def _halve(widths: torch.Tensor) -> torch.Tensor:
    """Columns left after a stride-2 conv (padding 1) or a ceil-mode 2×2 pool."""
    return torch.clamp(torch.div(widths + 1, 2, rounding_mode="floor"), min=1)


def _mask(valid: torch.Tensor, width: int) -> torch.Tensor:
    return torch.arange(width, device=valid.device)[None, :] < valid[:, None]


def fuse_for_inference(model: ScriptCNN) -> ScriptCNN:
    """An eval-mode copy with each batch norm folded into the conv before it (same outputs)."""
    from copy import deepcopy

    from torch.nn.utils.fusion import fuse_conv_bn_eval

    fused = deepcopy(model).eval()
    for i, block in enumerate(fused.blocks):
        conv, bn, *rest = list(block)
        fused.blocks[i] = nn.Sequential(fuse_conv_bn_eval(conv, bn), *rest)
    return fused


def create_model(arch: str, n_classes: int) -> ScriptCNN:
    try:
        cfg = ARCHS[arch]
    except KeyError:
        raise ValueError(f"unknown script-identifier architecture {arch!r}; known: {', '.join(ARCHS)}") from None
    return ScriptCNN(n_classes, cfg)
