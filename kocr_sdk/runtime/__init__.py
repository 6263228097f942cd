"""Running the built-in models on something other than eager torch (onnxruntime, the ``[onnx]``
extra): graphs shipped or exported, a cache of exported models, and sessions that stand in for
the torch modules. :mod:`.onnx` runs graphs without torch; :mod:`.export` makes them with it."""

from __future__ import annotations

from typing import Any

from .onnx import ONNX_HINT, OnnxModule

__all__ = ["ONNX_HINT", "OnnxModule", "onnx_module", "export_detector", "export_recognizer", "export_script_identifier"]


def __getattr__(name: str) -> Any:
    """The exporters on first use: importing them imports torch, which running graphs never needs."""
    if name in ("onnx_module", "export_detector", "export_recognizer", "export_script_identifier"):
        from . import export

        return getattr(export, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
