"""Script identification: which script each word crop is written in, so the right recogniser reads it.

The stage sits between detection and recognition: recognisers' weights are
language-specific, and the engine groups a page's crops by the script this stage predicts and
hands each group to its script's recogniser.
"""

from .identifier import WEIGHTS_PATH, CnnScriptIdentifier, load_weights, shipped_script_identifiers
from .model import ARCHS, ScriptArch, ScriptCNN, create_model, fuse_for_inference

__all__ = [
    "ARCHS", "ScriptArch", "ScriptCNN", "create_model", "fuse_for_inference",
    "CnnScriptIdentifier", "WEIGHTS_PATH", "load_weights", "shipped_script_identifiers",
]
