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

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import KocrConfigError, KocrModelError
from ..interfaces import Reading, Recognizer
from ..resources import WEIGHTS_DIR
from ..weights_file import read_meta, read_weights
from .architectures import create_model, list_architectures
from .charset import CHARSETS
from .ctc import log_softmax, scorer
from .hangul_lexicon import correct_hangul, has_hangul, load_hangul_lexicon
from .lexicon import (LEXICON_CONFIDENCE, LEXICON_MARGIN, LEXICON_SPACE_MARGIN, Lexicon, correct_reading, lexicon_path,
                      load_lexicon)
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
                 runtime: str = "torch", lexicon: str | list[str] | tuple[str, ...] | None = ("en", "ko"),
                 lexicon_words: list[str] | tuple[str, ...] = (),
                 lexicon_confidence: float = LEXICON_CONFIDENCE, lexicon_margin: float = LEXICON_MARGIN,
                 lexicon_space_margin: float | None = LEXICON_SPACE_MARGIN, **options: Any):
        super().__init__(device=device, **options)
        self._lexicon = _lexicon_option(lexicon, lexicon_words, lexicon_confidence, lexicon_margin, lexicon_space_margin)
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
            logits, frames = self._logits([images[i] for i in idx])
            decoded = greedy_decode(logits, frames, self.charset)
            for b, (i, (text, conf, char_conf)) in enumerate(zip(idx, decoded)):
                reading = Reading(text=text, confidence=float(conf), char_confidences=[float(c) for c in char_conf])
                if self._lexicon is not None and text:
                    reading = self._corrected(reading, logits[b, :int(frames[b])])
                out[i] = reading
        return out  # type: ignore[return-value]

    def _logits(self, images: list[np.ndarray]) -> tuple[Any, Any]:
        """(B, T, C) logits and the valid frame count of each crop."""
        if getattr(self.model, "takes_arrays", False):  # onnxruntime: numpy in and out, no torch
            x, widths = batch_arrays(images)
            return self.model(x, widths), self.model.frames(widths)
        import torch

        with torch.inference_mode():
            x, widths = batch_tensors(images)
            x, widths = x.to(self.device), widths.to(self.device)
            return self.model(x, widths), self.model.frames(widths)

    def _corrected(self, reading: Reading, logits: Any) -> Reading:
        """``reading`` after the lexicon corrections (:mod:`.lexicon`, :mod:`.hangul_lexicon`),
        scored on this crop's frames (``logits``, (T, C)). Their log-softmax is taken only when a
        spelling is to be scored: most words never are."""
        settings: _LexiconSettings = self._lexicon  # type: ignore[assignment]

        @functools.cache
        def frames_scorer():  # once a crop, and only when some spelling of it is scored
            return scorer(self.charset, _log_probs(logits))

        def score(texts: list[str]) -> np.ndarray:
            return frames_scorer()(texts)

        new = reading
        if settings.latin is not None:
            new = correct_reading(new, settings.latin, score, settings.confidence, settings.margin,
                                  space_margin=settings.space_margin)
        if settings.hangul_words is not None and has_hangul(new.text):
            new = correct_hangul(new, load_hangul_lexicon(settings.hangul_words), score, settings.confidence,
                                 settings.margin)
        if new is not reading:
            new = new.model_copy(update={"confidence": min(new.char_confidences or [reading.confidence])})
        return new


def _log_probs(logits: Any) -> np.ndarray:
    if isinstance(logits, np.ndarray):
        return log_softmax(logits.astype(np.float32))
    return logits.detach().float().log_softmax(-1).cpu().numpy()


@dataclass(frozen=True)
class _LexiconSettings:
    """The stage's lexicon options, checked: the Latin-script word list (or None), the extra words
    the Korean list is loaded with (None: no Korean correction), and the gates shared by both."""

    latin: Lexicon | None
    hangul_words: tuple[str, ...] | None
    confidence: float
    margin: float
    space_margin: float | None


def _lexicon_option(language: str | list[str] | tuple[str, ...] | None, words: list[str] | tuple[str, ...],
                    confidence: float, margin: float, space_margin: float | None = LEXICON_SPACE_MARGIN,
                    ) -> _LexiconSettings | None:
    """The stage's lexicon options checked, or None when the correction is off (``lexicon: null``
    or an empty list). ``ko`` is Korean's list (Hangul words); any other language names a list
    of Latin-script words, of which one may be given."""
    languages = [language] if isinstance(language, str) else list(language or ())
    if not languages:
        return None
    if not 0.0 < float(confidence) <= 1.0:
        raise KocrConfigError(f"lexicon_confidence must be in (0, 1], not {confidence!r}")
    if float(margin) < 0:
        raise KocrConfigError(f"lexicon_margin must be 0 or more (nats), not {margin!r}")
    if space_margin is not None and float(space_margin) < 0:
        raise KocrConfigError(f"lexicon_space_margin must be 0 or more (nats), or null, not {space_margin!r}")
    latin = [str(x) for x in languages if str(x) != "ko"]
    if len(latin) > 1:
        raise KocrConfigError(f"lexicon: name one Latin-script language beside ko, not {latin}")
    extra = (words,) if isinstance(words, str) else tuple(str(w) for w in words)
    if "ko" in languages:  # indexed at the first Hangul word; a missing list is an error now
        lexicon_path("ko")
        for path in extra:
            if not Path(path).is_file():
                raise KocrConfigError(f"lexicon_words: cannot read word list {path}: no such file")
    return _LexiconSettings(load_lexicon(latin[0], extra) if latin else None, extra if "ko" in languages else None,
                            float(confidence), float(margin), None if space_margin is None else float(space_margin))


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
