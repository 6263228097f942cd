"""The ``ScriptIdentifier`` stage around the shipped script CNN.

Weights are ``kocr_sdk/weights/script-id.safetensors``: the fp16 state and a ``meta`` dict
holding the architecture, the class names in output order, and the validation figures
(:func:`kocr_sdk.lab.training.script_id.export_weights`, :mod:`kocr_sdk.weights_file`). The class names travel with the weights
rather than living in code, so that weights trained with another set of scripts (a plugin's,
with ``thai`` added) load without a code change. The stage is registered only when the file
exists (:func:`shipped_script_identifiers`): kocr never pretends to identify scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..errors import KocrModelError
from ..interfaces import ScriptIdentifier, ScriptPrediction
from ..resources import WEIGHTS_DIR
from ..weights_file import read_weights
from .batching import MAX_WIDTH, prepare, width_batch_arrays, width_batches

if TYPE_CHECKING:  # the network is torch; the onnx runtime runs its graph without torch
    from .model import ScriptCNN

WEIGHTS_PATH = WEIGHTS_DIR / "script-id.safetensors"


def load_weights(path: Path, device: str = "cpu") -> tuple[ScriptCNN, dict[str, Any]]:
    """(model in eval mode, meta) from a file written by ``training.script_id.export_weights``. Needs torch."""
    from .model import create_model

    state, meta = read_weights(path, "script-identifier")  # safetensors (or an older .pt, weights only): never code
    try:
        model = create_model(meta["arch"], len(meta["classes"]))
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise KocrModelError(f"{path}: not valid script-identifier weights ({type(exc).__name__}: {exc})") from None
    return model.eval().to(device), meta


def _inference_model(path: Path, device: str) -> tuple[Any, dict[str, Any]]:
    """The torch network as inference runs it: batch norms folded into the convolutions, and
    channels-last memory (the same function, measured 1.5x faster on one CPU thread); and meta."""
    import torch

    from .model import fuse_for_inference

    model, meta = load_weights(path, device)
    return fuse_for_inference(model).to(memory_format=torch.channels_last), meta


class CnnScriptIdentifier(ScriptIdentifier):
    """Script of each word crop from a small CNN; probabilities over every class it was trained on."""

    name: ClassVar[str] = "script-cnn"
    description: ClassVar[str] = "small CNN over normalised word crops"
    #: The classes of the shipped weights, read from the file (:func:`shipped_script_identifiers`).
    scripts: ClassVar[tuple[str, ...]] = ()
    runtimes: ClassVar[tuple[str, ...]] = ("torch", "onnx")

    def __init__(self, device: str = "cpu", weights: str | None = None, sub_batch: int = 32, runtime: str = "torch",
                 **options: Any) -> None:
        super().__init__(device=device, **options)
        path = Path(weights) if weights else WEIGHTS_PATH
        if runtime == "onnx":  # same batching and softmax around an onnxruntime session, no torch
            from ..runtime.onnx import OnnxModule, graph_path
            from ..weights_file import read_meta

            self.meta = read_meta(path, "script-identifier")

            def export() -> Path:  # weights without a shipped graph: exported with torch, cached
                from ..runtime.export import export_script_identifier, exported_graph

                return exported_graph("script-id", _inference_model(path, "cpu")[0], export_script_identifier, path)

            self.model = OnnxModule(graph_path("script-id", [path], export), device=device)
        else:
            self.model, self.meta = _inference_model(path, device)
        self.classes: tuple[str, ...] = tuple(self.meta["classes"])
        self.max_width = int(self.meta.get("max_width", MAX_WIDTH))
        # The crops of one call are sorted by width and run ``sub_batch`` at a time: a batch of
        # 128 is padded to its widest crop (up to 256 px for ~116 px on average), and measured
        # half as fast as sub-batches of 32 of similar widths.
        self.sub_batch = sub_batch

    def probabilities(self, crops: list[np.ndarray]) -> np.ndarray:
        """(N, classes) float32 probabilities, rows in the order of ``crops``."""
        out = np.zeros((len(crops), len(self.classes)), np.float32)
        if not crops:
            return out
        images = [prepare(c, self.max_width) for c in crops]
        if getattr(self.model, "takes_arrays", False):  # onnxruntime: numpy in and out, no torch
            from ..runtime.onnx import softmax

            for idx, x, widths in width_batch_arrays(images, self.sub_batch):
                out[idx] = softmax(self.model(x, widths))
            return out
        import torch

        with torch.inference_mode():
            for idx, x, widths in width_batches(images, self.sub_batch):
                x = x.to(self.device).contiguous(memory_format=torch.channels_last)
                logits = self.model(x, widths.to(self.device))
                out[idx] = logits.float().softmax(-1).cpu().numpy()
        return out

    def identify(self, crops: list[np.ndarray]) -> list[ScriptPrediction]:
        probs = self.probabilities(crops)
        return [ScriptPrediction(probabilities={c: float(p) for c, p in zip(self.classes, row)}) for row in probs]


def shipped_script_identifiers() -> list[type[CnnScriptIdentifier]]:
    """The stage class when its weights ship with this installation, else nothing; the scripts it
    tells apart are the classes its weights file names (read from the header, not the tensors)."""
    if not WEIGHTS_PATH.exists():
        return []
    from ..weights_file import read_meta

    classes = tuple(read_meta(WEIGHTS_PATH, "script-identifier").get("classes", ()))
    return [type("CnnScriptIdentifier", (CnnScriptIdentifier,),
                 {"scripts": classes, "description": f"small CNN over normalised word crops ({', '.join(classes)})"})]
