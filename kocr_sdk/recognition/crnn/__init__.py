"""CNN + self-attention + CTC on variable-width crops: the AS-IS recogniser, kept as
the baseline the column-patch ViTSTR is measured against. The network (torch) is imported on
first use."""

from __future__ import annotations

from typing import Any

from .config import ARCHS

__all__ = ["ARCHS", "ConvCTC"]


def __getattr__(name: str) -> Any:
    if name == "ConvCTC":
        from .model import ConvCTC

        return ConvCTC
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
