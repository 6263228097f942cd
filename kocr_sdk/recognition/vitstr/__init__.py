"""ViTSTR with column patches: the TO-BE recogniser kocr ships (the design is in docs/).

The network (torch) is imported on first use; its sizes and the CTC decoding are importable
without torch, which the onnx runtime relies on.
"""

from __future__ import annotations

from typing import Any

from .config import ARCHS
from .decode import greedy_decode

__all__ = ["ColumnViT", "ARCHS", "create_model", "greedy_decode"]


def __getattr__(name: str) -> Any:
    if name in ("ColumnViT", "create_model"):
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
