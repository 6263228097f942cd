"""The ``Recognizer`` stage around shipped CTC recogniser weights (ViTSTR, or the AS-IS CNN
baseline), one registration per weights file."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from ..errors import KocrModelError
from ..interfaces import Reading, Recognizer
from ..resources import WEIGHTS_DIR
from ..weights_file import read_weights
from .architectures import create_model
from .charset import CHARSETS
from .preprocess import HEIGHT, batch_tensors, normalise
from .vitstr.decode import greedy_decode
from .vitstr.model import ColumnViT


def load_weights(path: Path, device: str = "cpu"):
    """(model, charset, meta) from a weights file written by ``training.recognizer.export_weights``."""
    state, meta = read_weights(path, "recogniser")  # safetensors (or an older .pt, weights only): never code
    try:
        charset = CHARSETS[meta["charset"]]()
        model = create_model(meta["arch"], len(charset))
        model.load_state_dict({k: v.float() for k, v in state.items()})
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise KocrModelError(f"{path}: not valid recogniser weights ({type(exc).__name__}: {exc})") from None
    model.eval().to(device)
    return model, charset, meta


class VitstrRecognizer(Recognizer):
    """Column-patch ViTSTR; subclasses fix the weights file and the scripts it reads."""

    weights: ClassVar[str]
    runtimes: ClassVar[tuple[str, ...]] = ("torch", "onnx")

    def __init__(self, device: str = "cpu", weights: str | None = None, quantize: bool | None = None,
                 runtime: str = "torch", **options: Any):
        super().__init__(device=device, **options)
        path = Path(weights) if weights else WEIGHTS_DIR / self.weights
        self.model, self.charset, self.meta = load_weights(path, device)
        # The AS-IS baseline declares ``quantize_by_default = False``: it is measured as it ran, fp32.
        if quantize is None:
            quantize = device == "cpu" and getattr(self.model, "quantize_by_default", True)
        # Wider crops are squeezed to the width training used: position embeddings past it were
        # never trained, and a squeezed long word reads far better than untrained positions. A
        # model without learned positions (the CNN baseline) says how wide it may go instead.
        self.max_width = int(getattr(self.model, "max_input_width", None) or self.meta.get("max_width", 256))
        if runtime == "onnx" and isinstance(self.model, ColumnViT):  # other architectures stay on torch
            # onnxruntime's own dynamic int8 (MatMul weights) stands in for torch's below.
            from ..runtime.onnx import export_recognizer, onnx_module, quantize_int8

            frames = self.model.frames
            self.model = onnx_module("recognizer", self.model, export_recognizer, path,
                                     quantize_int8 if quantize else None, device=device)
            self.model.frames = frames  # CTC decoding needs the valid frame counts
            return
        # Dynamic int8 on the Linear layers is ~2.5x faster on CPU for a ~0.2 point accuracy cost
        # (../shared/TRAINING.md); it is the default CPU path.
        if quantize:
            with warnings.catch_warnings():  # torch deprecates eager quantisation in favour of torchao
                warnings.simplefilter("ignore", (DeprecationWarning, UserWarning))
                self.model = torch.ao.quantization.quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8)

    @torch.inference_mode()
    def recognize(self, crops: list[np.ndarray]) -> list[Reading]:
        if not crops:
            return []
        images = [normalise(c, HEIGHT, self.max_width) for c in crops]
        order = sorted(range(len(images)), key=lambda i: images[i].shape[1])
        out: list[Reading | None] = [None] * len(images)
        for s in range(0, len(order), 64):
            idx = order[s:s + 64]
            x, widths = batch_tensors([images[i] for i in idx])
            x, widths = x.to(self.device), widths.to(self.device)
            for i, (text, conf, _char_conf) in zip(idx, greedy_decode(self.model(x, widths), self.model.frames(widths), self.charset)):
                out[i] = Reading(text=text, confidence=float(conf), char_confidences=None)
        return out  # type: ignore[return-value]


def shipped_recognizers() -> list[type[VitstrRecognizer]]:
    """A recogniser class for each weights file present in the package (none are invented)."""
    classes = []
    # The hangul charset holds printable ASCII too, so those weights read Latin words as well;
    # dedicated latin weights (priority 1) win Latin words once they ship. The AS-IS CNN
    # baseline (priority -1) is never chosen automatically: name it in `recognizers` to use it.
    for arch, label, priority in (("vitstr-tiny", "ViTSTR tiny, column patches", 0),
                                  ("crnn-sa", "AS-IS baseline: CNN + self-attention + CTC, fp32", -1)):
        for script, scripts in (("hangul", ("hangul", "latin", "digits")), ("latin", ("latin", "digits"))):
            path = WEIGHTS_DIR / f"{arch}-{script}.safetensors"
            if path.exists():
                cls_name = "".join(part.title() for part in f"{arch}-{script}".split("-"))
                classes.append(type(cls_name, (VitstrRecognizer,),
                                    {"name": f"{arch}-{script}", "scripts": scripts, "weights": path.name,
                                     "priority": priority + (1 if script == "latin" and priority >= 0 else 0),
                                     "description": f"{label}, {script} weights"}))
    return classes
