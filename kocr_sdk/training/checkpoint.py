"""Checkpoints that survive sessions: small enough to commit, complete enough to resume exactly.

A resume checkpoint holds the fp32 model, the optimiser state (moments stored in bfloat16 to
halve its size — they are running averages and tolerate it), the step, the number of samples
consumed (the data stream is a pure function of seed and sample index, so this *is* the data
position), the config and the validation history. Writes are atomic: a run killed mid-save
leaves the previous checkpoint intact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..atomic import atomic_path


def _compress_optimizer(state: dict[str, Any]) -> dict[str, Any]:
    out = {"param_groups": state["param_groups"], "state": {}}
    for k, v in state["state"].items():
        out["state"][k] = {
            name: t.to(torch.bfloat16) if torch.is_tensor(t) and t.is_floating_point() and t.ndim > 0 else t
            for name, t in v.items()
        }
    return out


def _expand_optimizer(state: dict[str, Any]) -> dict[str, Any]:
    out = {"param_groups": state["param_groups"], "state": {}}
    for k, v in state["state"].items():
        out["state"][k] = {
            name: t.float() if torch.is_tensor(t) and t.dtype == torch.bfloat16 else t for name, t in v.items()
        }
    return out


def save_checkpoint(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, **extra: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": _compress_optimizer(optimizer.state_dict()),
        **extra,
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None) -> dict[str, Any]:
    """Restore ``model`` (and ``optimizer``) from a resume checkpoint or from shipped weights.

    Shipped weights (``{"model": fp16 state, "meta": {...}}``, written by ``export_weights``)
    are accepted too, so that the weights committed in the package are the checkpoint the
    next session continues from, without committing a second, optimiser-laden file. They carry
    the step and the data position but no optimiser moments: the payload then says
    ``warm_start: True`` and trainers re-warm the learning rate while AdamW rebuilds them.
    """
    payload = torch.load(path, map_location="cpu", weights_only=False)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in payload["model"].items()})
    if "optimizer" not in payload and "meta" in payload:
        meta = payload["meta"]
        val = meta.get("val")
        return {"step": int(meta.get("step", 0)), "samples_seen": int(meta.get("samples_seen", 0)),
                "history": [val] if val else [], "warm_start": True, "meta": meta}
    if optimizer is not None and "optimizer" in payload:
        optimizer.load_state_dict(_expand_optimizer(payload["optimizer"]))
    return payload
