"""kocr weight files: safetensors tensors with the ``meta`` dict as JSON in the header.

Why safetensors: weight files travel between people — shipped in the package, exported by one
person's training run, named in another's engine config (``options: {anchor-free: {weights:
...}}``). A pickled torch file runs whatever code its author put in it the moment it is loaded;
a safetensors file is a JSON header and raw tensor bytes and carries no code, so reading one
from a stranger is safe. The ``meta`` dict (architecture, charset, classes, inference settings,
validation figures) is stored as JSON under the header metadata key :data:`META_KEY`, since
safetensors metadata values must be strings.

Files written by older kocr versions (``torch.save`` of ``{"model": state, "meta": meta}``) and
resume checkpoints (model *and* optimiser state, :mod:`kocr_sdk.lab.training.checkpoint`) are still
pickles; they are read with ``torch.load(..., weights_only=True)``, torch's restricted unpickler,
which builds only tensors and plain containers and refuses anything else instead of running it.
Whatever cannot be read that way is a :class:`~kocr_sdk.errors.KocrModelError` naming the file.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .atomic import atomic_path
from .errors import KocrModelError

if TYPE_CHECKING:  # tensors are read and written with torch; headers (read_meta) need no torch
    import torch

__all__ = ["META_KEY", "write_weights", "read_weights", "read_meta", "read_checkpoint", "is_safetensors"]

META_KEY = "kocr"  # header metadata key holding the JSON ``meta`` dict


def write_weights(path: str | Path, state: Mapping[str, torch.Tensor], meta: Mapping[str, Any]) -> Path:
    """Write ``state`` and ``meta`` to ``path`` as safetensors, atomically; ``meta`` must be JSON-able.

    Tensors are copied to contiguous CPU memory of their own: safetensors refuses tensors that
    share storage (tied weights, views), and a copy of a few MB costs nothing.
    """
    from safetensors.torch import save_file

    path = Path(path)
    tensors = {str(k): v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
    header = {"format": "pt", META_KEY: json.dumps(dict(meta), ensure_ascii=False)}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=header)
    return path


def is_safetensors(path: str | Path) -> bool:
    """Whether ``path`` starts like a safetensors file (8-byte header length, then a JSON object).

    Decided by content, not by the file name: users name exported files as they like, and a
    pickle (a zip archive or a protocol-2 stream) never has ``{`` as its ninth byte.
    """
    with open(path, "rb") as fh:
        head = fh.read(9)
    return len(head) == 9 and head[8:9] == b"{"


def read_weights(path: str | Path, what: str = "detector") -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``(state_dict, meta)`` of a kocr weights file of kind ``what`` (``"detector"``, ...).

    A safetensors file is read as such; an older ``.pt`` export with ``weights_only=True``.
    Anything else — a pickle holding code, random bytes, a file with no ``meta``, a directory —
    is a :class:`KocrModelError` saying the file is not kocr ``what`` weights; no code runs.
    """
    path = _existing_file(path, what)
    if is_safetensors(path):
        return _read_safetensors(path, what)
    payload = _torch_load(path, what)
    if not isinstance(payload, dict) or not isinstance(payload.get("meta"), dict):
        raise KocrModelError(f"{path} is not {_noun(what)} (no 'meta' in it)")
    return _state(payload.get("model"), path, what), payload["meta"]


def read_meta(path: str | Path, what: str = "detector") -> dict[str, Any]:
    """The ``meta`` dict of a kocr weights file, without reading its tensors where it can
    (a safetensors header is read on its own)."""
    path = _existing_file(path, what)
    if not is_safetensors(path):
        return read_weights(path, what)[1]
    from safetensors import safe_open

    try:  # framework="numpy": the header alone, and no torch import (the onnx runtime runs without it)
        with safe_open(str(path), framework="numpy") as fh:
            return _meta(fh.metadata(), path, what)
    except KocrModelError:
        raise
    except Exception as exc:  # a truncated or malformed header: safetensors' own error types
        raise KocrModelError(f"{path} is not {_noun(what)} ({_reason(exc)})") from exc


def read_checkpoint(path: str | Path, what: str = "training checkpoint",
                    require: tuple[str, ...] = ()) -> dict[str, Any]:
    """The payload of a resume checkpoint or of a weights file, as one dict with a ``model`` state.

    A checkpoint (``torch.save`` of model, optimiser, step, config...) is read with
    ``weights_only=True``; a weights file comes back as ``{"model": state, "meta": meta}``, the
    shape older exports had, so the callers that take either (warm starts, ``init_from``) need no
    second path. ``require`` names top-level keys the caller needs (``arch``, ``step``...): a
    file without them is a :class:`KocrModelError` rather than a ``KeyError`` later.
    """
    path = _existing_file(path, what)
    if is_safetensors(path):
        state, meta = _read_safetensors(path, what)
        payload: dict[str, Any] = {"model": state, "meta": meta}
    else:
        loaded = _torch_load(path, what)
        if not isinstance(loaded, dict):
            raise KocrModelError(f"{path} is not {_noun(what)} (it holds a {type(loaded).__name__}, not a dict)")
        payload = dict(loaded)
        payload["model"] = _state(loaded.get("model"), path, what)
    missing = [k for k in require if k not in payload]
    if missing:
        kind = "an exported weights file" if "meta" in payload and "optimizer" not in payload else "a file"
        raise KocrModelError(f"{path} is not {_noun(what)}: {kind} without {', '.join(repr(k) for k in missing)}")
    return payload


# --- internals ------------------------------------------------------------------------------------
def _label(what: str) -> str:
    """``"detector"`` → ``"detector weights"``; a checkpoint's ``what`` says what it is already."""
    return what if "checkpoint" in what else f"{what} weights"


def _noun(what: str) -> str:
    """``"detector"`` → ``"kocr detector weights"``; ``"recogniser checkpoint"`` → ``"a kocr recogniser checkpoint"``."""
    return f"a kocr {what}" if "checkpoint" in what else f"kocr {_label(what)}"


def _existing_file(path: str | Path, what: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise KocrModelError(f"{_label(what)} not found: {path}")
    if not path.is_file():
        raise KocrModelError(f"{path} is not {_noun(what)} (a directory, not a file)")
    return path


def _read_safetensors(path: Path, what: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            meta = _meta(fh.metadata(), path, what)
            state = {k: fh.get_tensor(k) for k in fh.keys()}
    except KocrModelError:
        raise
    except Exception as exc:  # truncated data, a malformed header: safetensors' own error types
        raise KocrModelError(f"{path} is not {_noun(what)} ({_reason(exc)})") from exc
    return state, meta


def _meta(header: dict[str, str] | None, path: Path, what: str) -> dict[str, Any]:
    text = (header or {}).get(META_KEY)
    if text is None:
        raise KocrModelError(f"{path} is not {_noun(what)} (a safetensors file without kocr's '{META_KEY}' metadata)")
    try:
        meta = json.loads(text)
    except ValueError as exc:
        raise KocrModelError(f"{path} is not {_noun(what)} (its '{META_KEY}' metadata is not JSON: {exc})") from exc
    if not isinstance(meta, dict):
        raise KocrModelError(f"{path} is not {_noun(what)} (its '{META_KEY}' metadata is not a JSON object)")
    return meta


def _state(state: Any, path: Path, what: str) -> dict[str, torch.Tensor]:
    import torch

    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise KocrModelError(f"{path} is not {_noun(what)} (no 'model' state of tensors in it)")
    return dict(state)


def _torch_load(path: Path, what: str) -> Any:
    """``torch.load`` with ``weights_only=True``: tensors and plain containers, never code."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:  # what the restricted unpickler refused, or not a pickle
        detail = _unpickler_detail(str(exc))
        if "GLOBAL" in detail or "global" in detail:
            reason = f"it holds Python objects, not only tensors and plain values, and kocr never loads those: {detail}"
        else:
            reason = detail or _reason(exc)
    except Exception as exc:  # not a torch file at all, a truncated archive...
        reason = _reason(exc)
    raise KocrModelError(f"{path} is not {_noun(what)} ({reason})") from None


def _unpickler_detail(text: str) -> str:
    """The one informative line of torch's weights-only error (the rest is advice to load the
    file with ``weights_only=False``, exactly what must not be done with a file of unknown origin)."""
    boilerplate = ("Weights only load failed", "Please file an issue", "Check the documentation")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith(boilerplate)]
    return (useful[0] if useful else (lines[0] if lines else ""))[:200]


def _reason(exc: Exception) -> str:
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
