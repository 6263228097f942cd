"""kocr plugin: PP-OCRv6 reads Latin and digit words, with the weights RapidOCR ships in its wheel.

PP-OCR's recogniser was trained on far more real text than kocr's synthetic-trained ``latin``
weights, and reads English scans better (docs/benchmarks.md); it has no Hangul. So it registers
for ``latin`` and ``digits`` only, with a priority below kocr's own recognisers: installing the
plugin changes nothing until a config names it, either as the reader of those scripts
(``recognition.recognizers: {latin: ppocr-latin, digits: ppocr-latin}``) or as one of the
readers the engine chooses between word by word (``recognition.choose``).

The package does the model work (its ONNX session, its resize and normalisation, its CTC
decoding); this module only adapts kocr's crops to it and its output to kocr's ``Reading``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from kocr_sdk import KocrInputError, KocrModelError, Reading, Recognizer, hookimpl

__version__ = "0.1.0"


def _threads(threads: int | None) -> int:
    """The onnxruntime threads to use: the option, else as many as kocr's own models use
    (``compute.threads`` sets torch's count; kocr's ONNX sessions follow it the same way)."""
    if threads is not None:
        if threads < 1:
            raise KocrModelError(f"ppocr-latin: threads must be at least 1, not {threads}")
        return threads
    import torch

    return max(1, torch.get_num_threads())


def packaged_model(kind: str) -> Path:
    """Path of the PP-OCRv6 small ONNX file of ``kind`` (``rec`` or ``det``) inside the rapidocr wheel."""
    try:
        import rapidocr
    except ImportError as exc:  # pragma: no cover - a dependency of this distribution
        raise KocrModelError("kocr-ppocr needs the rapidocr package: pip install 'rapidocr>=3.10,<4'") from exc
    path = Path(rapidocr.__file__).parent / "models" / f"PP-OCRv6_{kind}_small.onnx"
    if not path.is_file():
        raise KocrModelError(f"{path} is missing: this rapidocr build does not ship PP-OCRv6 small in its wheel "
                             "(kocr never downloads weights); install rapidocr>=3.10,<4 from PyPI")
    return path


def _rapidocr(threads: int, rec_model: Path) -> Any:
    """A RapidOCR pipeline object set to run ``rec_model`` on ``threads`` onnxruntime threads.

    Only its configuration is used (the recogniser is built from it): the model path is given
    explicitly, so the package never reaches for its download code.
    """
    from rapidocr import RapidOCR

    return RapidOCR(params={
        "Global.log_level": "error",
        "Global.use_det": False, "Global.use_cls": False,
        "Rec.model_path": str(rec_model),
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    })


class PpocrRecognizer(Recognizer):
    """Reads upright Latin and digit word crops with PP-OCRv6 small (CTC, 48 px high input)."""

    name = "ppocr-latin"
    scripts = ("latin", "digits")
    priority = -1  # below kocr's own: never chosen by `auto`, only when a config names it
    description = "PP-OCRv6 small recogniser (RapidOCR's ONNX weights) for Latin and digit words; no Hangul"

    def __init__(self, device: str = "cpu", threads: int | None = None, model: str | None = None,
                 batch_size: int = 16, **options: Any) -> None:
        super().__init__(device=device, **options)
        path = Path(model) if model else packaged_model("rec")
        if not path.is_file():
            raise KocrModelError(f"ppocr-latin: recogniser model {path} not found")
        if batch_size < 1:
            raise KocrModelError(f"ppocr-latin: batch_size must be at least 1, not {batch_size}")
        from rapidocr.ch_ppocr_rec import TextRecognizer

        cfg = _rapidocr(_threads(threads), path).cfg
        rec = cfg.Rec
        rec.engine_cfg = cfg.EngineConfig[rec.engine_type.value]
        rec.model_root_dir = str(path.parent)
        rec.rec_batch_num = batch_size
        rec.font_path = None
        try:
            self._rec = TextRecognizer(rec)
        except Exception as exc:
            raise KocrModelError(f"ppocr-latin: cannot load {path}: {type(exc).__name__}: {exc}") from exc
        self.model_path = path

    def recognize(self, crops: list[np.ndarray]) -> list[Reading]:
        if not crops:
            return []
        from rapidocr.ch_ppocr_rec import TextRecInput

        # PP-OCR was trained on OpenCV's BGR images; kocr hands RGB.
        images = [np.ascontiguousarray(_rgb(crop)[:, :, ::-1]) for crop in crops]
        out = self._rec(TextRecInput(img=images, return_word_box=True))
        readings = []
        for text, score, info in zip(out.txts, out.scores, out.word_results):
            confs = [float(c) for c in getattr(info, "confs", None) or []]
            readings.append(Reading(
                text=text,
                confidence=float(min(1.0, max(0.0, score))) if text else 0.0,
                char_confidences=confs if text and len(confs) == len(text) else None,
            ))
        return readings


def _rgb(crop: np.ndarray) -> np.ndarray:
    """A crop as 3-channel uint8 (kocr hands RGB; a grey crop from a caller is widened)."""
    if crop.ndim == 2:
        crop = np.repeat(crop[:, :, None], 3, axis=2)
    if crop.ndim != 3 or crop.shape[2] != 3 or crop.dtype != np.uint8:
        raise KocrInputError(f"ppocr-latin reads RGB uint8 crops, got shape {crop.shape} {crop.dtype}")
    return crop


@hookimpl
def register_recognizers(register):
    register(PpocrRecognizer)
