"""Training losses: L1 for regression and offsets, BCE with online hard example mining (OHEM) for
centerness and orientation.

**OHEM.** On a page almost every location is background: at stride 4 an A4 crop of 512² has
16k locations of which a few hundred are character centres. Averaging BCE over all of them
drowns the centres; OHEM keeps every positive location (target > 0) and only the ``ratio``×
as many negatives with the *highest* loss — the ones the model currently gets wrong (rules,
stamps, the gaps between letters) — and averages the loss over the kept ones. Selection is per
image. An image with no positive location keeps its ``min_negatives`` hardest negatives, so a
crop of empty margin still teaches "nothing here" and the loss stays finite (never 0/0).
"Don't care" locations (``*_ignore``) are neither positives nor negatives.

**Regression and offsets.** L1 at positive locations, each location weighted by its target
centerness: the decoder reads boxes at centerness peaks, so the locations nearest a centre are
the ones whose distances must be right. Regression is in ``log(d / stride)`` units (a relative
error), offsets in cells.

**Orientation.** Four one-vs-rest BCE channels on every location inside a word box
(``orient_mask``), through the same OHEM: there, each location has one positive channel and
three negatives, so a ratio of 3 keeps them all — OHEM only bites if the ratio is set below 3.

**Weighting** (``LossConfig``, documented in docs/models.md): every term is already a mean over
the locations it selects, so the terms are on comparable scales (in a 25-minute sanity run:
0.4–0.6 at step 100, 0.13–0.30 at step 2,320; word offsets, in cells, 1.6 → 0.56). Centerness
and regression get weight 1; offsets 0.5 (an error of 0.2 cell is under a pixel); orientation
0.5 (one decision per word, averaged over many locations at decoding).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field


class LossConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ohem_ratio: float = Field(3.0, gt=0, description="Hardest negatives kept per positive location.")
    min_negatives: int = Field(256, ge=0, description="Hardest negatives kept on an image without positives.")
    char_ctr: float = 1.0
    word_ctr: float = 1.0
    char_reg: float = 1.0
    word_reg: float = 1.0
    char_off: float = 0.5
    word_off: float = 0.5
    orient: float = 0.5


def ohem_select(loss: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, ratio: float,
                min_negatives: int) -> torch.Tensor:
    """Mask of the negatives to keep: per image (first dimension), the ``k`` with the highest
    ``loss`` among ``negative``, ``k = min(#negatives, ratio·#positives)`` — or
    ``min(#negatives, min_negatives)`` on an image without positives."""
    b = loss.shape[0]
    flat_loss = loss.detach().reshape(b, -1)
    pos = positive.reshape(b, -1)
    neg = negative.reshape(b, -1)
    n_pos = pos.sum(dim=1)
    n_neg = neg.sum(dim=1)
    want = torch.where(n_pos > 0, torch.floor(n_pos.to(flat_loss.dtype) * ratio).long(),
                       torch.full_like(n_pos, min_negatives))
    k = torch.minimum(want, n_neg)
    ranked = torch.where(neg, flat_loss, torch.full_like(flat_loss, -1.0))  # BCE >= 0: non-negatives sort last
    order = ranked.argsort(dim=1, descending=True)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(order.shape[1], device=order.device).expand_as(order))
    return ((rank < k[:, None]) & neg).reshape(loss.shape)


def ohem_bce(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor, ratio: float = 3.0,
             min_negatives: int = 256) -> torch.Tensor:
    """BCE averaged over every valid positive (target > 0) and the hardest valid negatives."""
    loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    positive = valid & (target > 0)
    keep = positive | ohem_select(loss, positive, valid & (target <= 0), ratio, min_negatives)
    return (loss * keep).sum() / keep.sum().clamp_min(1)


def weighted_l1(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean over channels of |pred - target|, weighted per location by ``weight`` (B, 1, H, W);
    0 (with a gradient path) when no location has weight."""
    err = (pred - target).abs().mean(dim=1, keepdim=True)
    return (err * weight).sum() / weight.sum().clamp_min(1e-6)


class DetectionLoss(torch.nn.Module):
    """``forward(outputs, targets) -> (total, {term: value})`` for batched maps from
    :func:`~kocr_sdk.detection.anchor_free.targets.encode` / ``collate``."""

    def __init__(self, cfg: LossConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or LossConfig()

    def forward(self, out: dict[str, torch.Tensor], tgt: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        cfg = self.cfg
        terms: dict[str, torch.Tensor] = {}
        for level in ("char", "word"):
            ctr = tgt[f"{level}_ctr"]
            valid = ~tgt[f"{level}_ignore"]
            terms[f"{level}_ctr"] = ohem_bce(out[f"{level}_ctr"].float(), ctr, valid, cfg.ohem_ratio, cfg.min_negatives)
            weight = ctr * valid
            terms[f"{level}_reg"] = weighted_l1(out[f"{level}_reg"].float(), tgt[f"{level}_reg"], weight)
            terms[f"{level}_off"] = weighted_l1(out[f"{level}_off"].float(), tgt[f"{level}_off"], weight)
        mask = tgt["orient_mask"].expand_as(tgt["orient"])
        terms["orient"] = ohem_bce(out["orient"].float(), tgt["orient"], mask, cfg.ohem_ratio, 0)
        total = sum(getattr(cfg, name) * value for name, value in terms.items())
        return total, {name: float(value.detach()) for name, value in terms.items()}
