"""CRAFT's loss: mean squared error on the region and affinity heatmaps, with OHEM.

On a crop most cells are background (0 in both maps); a plain mean would teach "predict 0"
and be satisfied. As CRAFT does, every *positive* cell (target above ``positive_threshold``)
is kept and only the ``ohem_ratio``× as many background cells with the largest error — the
hard negatives: rules, stamps, the gaps between words that the heatmaps must keep dark. An
image without positives keeps its ``min_negatives`` hardest cells, so the loss on an empty crop
is finite and still teaches. The selection is the anchor-free detector's
(:func:`~kocr_sdk.detection.anchor_free.loss.ohem_select`): the two families are trained with
the same mining rule. "Don't care" cells (``ignore``) are neither.

Each map's term is the mean squared error over the cells it keeps; the total is their weighted
sum (weights 1 and 1, as in CRAFT).
"""

from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict, Field

from ..anchor_free.loss import ohem_select


class CraftLossConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ohem_ratio: float = Field(3.0, gt=0, description="Hardest negative cells kept per positive cell.")
    min_negatives: int = Field(500, ge=0, description="Hardest cells kept on an image without positives.")
    positive_threshold: float = Field(0.1, ge=0, lt=1, description="A cell whose target exceeds this is positive.")
    region: float = 1.0
    affinity: float = 1.0


def ohem_mse(pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor, positive_threshold: float = 0.1,
             ratio: float = 3.0, min_negatives: int = 500) -> torch.Tensor:
    """Squared error averaged over every valid positive cell and the hardest valid negatives."""
    loss = (pred - target) ** 2
    positive = valid & (target > positive_threshold)
    keep = positive | ohem_select(loss, positive, valid & ~positive, ratio, min_negatives)
    return (loss * keep).sum() / keep.sum().clamp_min(1)


class CraftLoss(torch.nn.Module):
    """``forward(outputs, targets) -> (total, {term: value})`` for batched maps from
    :func:`~kocr_sdk.detection.craft.targets.encode` / ``collate``."""

    def __init__(self, cfg: CraftLossConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or CraftLossConfig()

    def forward(self, out: dict[str, torch.Tensor], tgt: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        cfg = self.cfg
        valid = ~tgt["ignore"]
        terms = {name: ohem_mse(out[name].float(), tgt[name], valid, cfg.positive_threshold, cfg.ohem_ratio,
                                cfg.min_negatives)
                 for name in ("region", "affinity")}
        total = cfg.region * terms["region"] + cfg.affinity * terms["affinity"]
        return total, {name: float(value.detach()) for name, value in terms.items()}
