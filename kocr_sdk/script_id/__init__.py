"""Script identification: which script each word crop is written in, so the right recogniser reads it.

The stage sits between detection and recognition: recognisers' weights are
language-specific, and the engine groups a page's crops by the script this stage predicts and
hands each group to its script's recogniser. The network (torch) is imported on first use: the
stage on the onnx runtime, and the page prior the engine imports, need no torch.
"""

from __future__ import annotations

from typing import Any

from .identifier import WEIGHTS_PATH, CnnScriptIdentifier, load_weights, shipped_script_identifiers

__all__ = [
    "ARCHS", "ScriptArch", "ScriptCNN", "create_model", "fuse_for_inference",
    "CnnScriptIdentifier", "WEIGHTS_PATH", "load_weights", "shipped_script_identifiers",
]


def __getattr__(name: str) -> Any:
    if name in ("ARCHS", "ScriptArch", "ScriptCNN", "create_model", "fuse_for_inference"):
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
