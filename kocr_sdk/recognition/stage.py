"""The ``Recognizer`` stage around CTC recogniser weights (ViTSTR, or the AS-IS CNN baseline),
one registration per weights file, built from what the file says about itself.

A recogniser weights file carries, besides its tensors, the architecture, the charset and a
``stage`` block (:class:`RecognizerSpec`): the stage's name, the scripts it reads, its
priority, and the preprocessing it was trained with. :func:`recognizers_in` turns every such
file in a folder into a registered stage, so serving a new script is a matter of dropping its
weights file into ``kocr_sdk/weights/`` (or into a plugin's folder, registered with the same
function from the plugin's ``register_recognizers`` hook) — no code names the scripts.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import KocrModelError
from ..interfaces import Reading, Recognizer
from ..resources import WEIGHTS_DIR
from ..weights_file import read_meta, read_weights
from .architectures import create_model, list_architectures
from .charset import CHARSETS
from .spec import spec_of
from .preprocess import HEIGHT, batch_arrays, batch_tensors, normalise
from .vitstr import config as vit_config
from .vitstr.decode import greedy_decode


def load_weights(path: Path, device: str = "cpu"):
    """(model, charset, meta) from a weights file written by ``training.recognizer.export_weights``. Needs torch."""
    state, meta = read_weights(path, "recogniser")  # safetensors (or an older .pt, weights only): never code
    try:
        charset = CHARSETS[meta["charset"]]()
        model = create_model(meta["arch"], len(charset))
        model.load_state_dict({k: v.float() for k, v in state.items()})
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise KocrModelError(f"{path}: not valid recogniser weights ({type(exc).__name__}: {exc})") from None
    model.eval().to(device)
    return model, charset, meta


class CtcRecognizer(Recognizer):
    """A CTC recogniser of any registered architecture; subclasses fix the weights file (and so
    the scripts it reads), one per file (:func:`recognizers_in`)."""

    weights: ClassVar[str]
    weights_dir: ClassVar[Path] = WEIGHTS_DIR
    runtimes: ClassVar[tuple[str, ...]] = ("torch", "onnx")

    def __init__(self, device: str = "cpu", weights: str | None = None, quantize: bool | None = None,
                 runtime: str = "torch", **options: Any):
        super().__init__(device=device, **options)
        path = Path(weights) if weights else self.weights_dir / self.weights
        meta = read_meta(path, "recogniser")
        if runtime == "onnx" and meta.get("arch") in vit_config.ARCHS:  # other architectures stay on torch
            self._start_onnx(path, meta, quantize, device)
            return
        self.model, self.charset, self.meta = load_weights(path, device)
        # The AS-IS baseline declares ``quantize_by_default = False``: it is measured as it ran, fp32.
        if quantize is None:
            quantize = device == "cpu" and getattr(self.model, "quantize_by_default", True)
        # Wider crops are squeezed to the width training used: position embeddings past it were
        # never trained, and a squeezed long word reads far better than untrained positions. A
        # model without learned positions (the CNN baseline) says how wide it may go instead.
        self.max_width = int(getattr(self.model, "max_input_width", None) or spec_of(path, self.meta).max_width)
        # Dynamic int8 on the Linear layers is ~2.5x faster on CPU for a ~0.2 point accuracy cost
        # (measured when it was introduced); it is the default CPU path.
        if quantize:
            import torch

            with warnings.catch_warnings():  # torch deprecates eager quantisation in favour of torchao
                warnings.simplefilter("ignore", (DeprecationWarning, UserWarning))
                self.model = torch.ao.quantization.quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8)

    def _start_onnx(self, path: Path, meta: dict[str, Any], quantize: bool | None, device: str) -> None:
        """The column ViT on onnxruntime: its graph (shipped, or exported with torch), the charset
        and frame counts from the header — no torch. onnxruntime's own dynamic int8 (MatMul
        weights) stands in for torch's, the CPU default as on the torch runtime."""
        from ..runtime.onnx import OnnxModule, graph_path, quantize_int8

        try:
            self.charset = CHARSETS[meta["charset"]]()
        except KeyError as exc:
            raise KocrModelError(f"{path}: not valid recogniser weights (KeyError: {exc})") from None
        self.meta = meta
        arch = str(meta["arch"])
        if quantize is None:
            quantize = device == "cpu"
        self.max_width = int(spec_of(path, meta).max_width)  # a ViT's learned positions: the trained width
        quantizer = quantize_int8 if quantize else None

        def export() -> Path:  # weights without a shipped graph: exported with torch, cached
            from ..runtime.export import export_recognizer, exported_graph

            return exported_graph("recognizer", load_weights(path)[0], export_recognizer, path, quantizer)

        self.model = OnnxModule(graph_path("recognizer", [path], export, quantizer), device=device)
        self.model.frames = lambda widths: vit_config.frames(arch, widths)  # CTC decoding needs valid frame counts

    def recognize(self, crops: list[np.ndarray]) -> list[Reading]:
        """Read each crop: its text, the word's confidence, and one confidence per character of the text.

        The character confidences are the network's own probabilities (a syllable's is its weakest
        jamo's, :func:`greedy_decode`), so a reviewer can see which letter of a word is in doubt;
        the engine hands them to the word's character boxes. ``runtime="onnx"`` decodes the same
        logits the same way, so both runtimes give the same numbers.
        """
        if not crops:
            return []
        images = [normalise(c, HEIGHT, self.max_width) for c in crops]
        order = sorted(range(len(images)), key=lambda i: images[i].shape[1])
        out: list[Reading | None] = [None] * len(images)
        for s in range(0, len(order), 64):
            idx = order[s:s + 64]
            decoded = self._read_batch([images[i] for i in idx])
            for i, (text, conf, char_conf) in zip(idx, decoded):
                out[i] = Reading(text=text, confidence=float(conf), char_confidences=[float(c) for c in char_conf])
        return out  # type: ignore[return-value]

    def _read_batch(self, images: list[np.ndarray]) -> list[tuple[str, float, list[float]]]:
        if getattr(self.model, "takes_arrays", False):  # onnxruntime: numpy in and out, no torch
            x, widths = batch_arrays(images)
            return greedy_decode(self.model(x, widths), self.model.frames(widths), self.charset)
        import torch

        with torch.inference_mode():
            x, widths = batch_tensors(images)
            x, widths = x.to(self.device), widths.to(self.device)
            return greedy_decode(self.model(x, widths), self.model.frames(widths), self.charset)


def recognizers_in(directory: Path) -> list[type[CtcRecognizer]]:
    """A recogniser class for each recogniser weights file in ``directory``, described by the file.

    Files of other kinds (detector, script identifier) and files that are not kocr weights are
    skipped: this looks only at the safetensors header, never at the tensors.
    """
    from ..weights_file import read_meta

    classes: list[type[CtcRecognizer]] = []
    architectures = set(list_architectures())
    for path in sorted(Path(directory).glob("*.safetensors")):
        try:
            meta = read_meta(path, "recogniser")
        except KocrModelError:
            continue
        if meta.get("arch") not in architectures:
            continue
        spec = spec_of(path, meta)
        cls_name = "".join(part.title() for part in spec.name.replace("_", "-").split("-"))
        classes.append(type(cls_name, (CtcRecognizer,), {
            "name": spec.name, "scripts": spec.scripts, "priority": spec.priority, "auto": spec.auto,
            "description": spec.description, "weights": path.name, "weights_dir": Path(directory)}))
    return classes


def shipped_recognizers() -> list[type[CtcRecognizer]]:
    """The recognisers whose weights ship in the package (none are invented)."""
    return recognizers_in(WEIGHTS_DIR)
