"""Checkpoints that survive sessions: small enough to commit, complete enough to resume exactly.

A resume checkpoint holds the fp32 model, the optimiser state (moments stored in bfloat16 to
halve its size — they are running averages and tolerate it), the step, the number of samples
consumed (the data stream is a pure function of seed and sample index, so this *is* the data
position), the config and the validation history. Writes are atomic: a run killed mid-save
leaves the previous checkpoint intact.

Checkpoints are read with ``torch.load(..., weights_only=True)`` (:func:`kocr_sdk.weights_file.read_checkpoint`):
they travel between people like weights do, and a pickle read any other way runs whatever code
its author put in it. So everything saved in one is tensors, numbers, strings and plain
containers (:func:`_plain` checks, and converts numpy scalars and paths).
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Any

import numpy as np
import torch

from ...atomic import atomic_path
from ...errors import KocrModelError
from ...weights_file import read_checkpoint


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


def _plain(value: Any, where: str = "checkpoint") -> Any:
    """``value`` as what ``weights_only=True`` loads: tensors, str/int/float/bool/None, and dicts,
    lists and tuples of them. numpy scalars become Python numbers and paths strings; anything
    else is a bug in the trainer (it would make the checkpoint unloadable), so it raises."""
    if value is None or isinstance(value, (str, bool, int, float, torch.Tensor)):
        return value
    if isinstance(value, dict):
        return {_plain(k, where): _plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, PurePath):
        return str(value)
    raise TypeError(f"{where}: a {type(value).__name__} cannot be saved in a checkpoint that loads with "
                    "weights_only=True; save plain values")


def save_checkpoint(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, **extra: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": _plain(_compress_optimizer(optimizer.state_dict()), "optimizer"),
        **{k: _plain(v, k) for k, v in extra.items()},
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None) -> dict[str, Any]:
    """Restore ``model`` (and ``optimizer``) from a resume checkpoint or from shipped weights.

    Shipped weights (``{"model": fp16 state, "meta": {...}}``, written by ``export_weights``)
    are accepted too, so that the weights committed in the package are the checkpoint the
    next run continues from, without committing a second, optimiser-laden file. They carry
    the step and the data position but no optimiser moments: the payload then says
    ``warm_start: True`` and trainers re-warm the learning rate while AdamW rebuilds them.

    Shipped weights are safetensors; checkpoints and older exports load with
    ``weights_only=True``. A file that is neither, or whose tensors do not fit ``model``, is a
    :class:`KocrModelError` naming it.
    """
    payload = read_checkpoint(path, "checkpoint to resume from")
    try:
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in payload["model"].items()})
    except (RuntimeError, ValueError, TypeError) as exc:
        raise KocrModelError(f"{path}: its model does not fit this run's {type(model).__name__} "
                             f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    if "optimizer" not in payload and "meta" in payload:
        meta = payload["meta"]
        val = meta.get("val")
        return {"step": int(meta.get("step", 0)), "samples_seen": int(meta.get("samples_seen", 0)),
                "history": [val] if val else [], "warm_start": True, "meta": meta}
    if optimizer is not None and "optimizer" in payload:
        try:
            optimizer.load_state_dict(_expand_optimizer(payload["optimizer"]))
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise KocrModelError(f"{path}: its optimiser state does not fit this run "
                                 f"({type(exc).__name__}: {exc})") from None
    return payload
