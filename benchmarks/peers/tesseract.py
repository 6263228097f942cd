"""Tesseract, the peer most users try first, measured through kocr's own harness.

Run the way its users run it: ``pytesseract.image_to_data`` on the page image, page
segmentation mode 3 (fully automatic, Tesseract's default), one thread (``OMP_THREAD_LIMIT=1``),
``kor+eng`` on Korean sets and ``eng`` on English ones (chosen from the ground truth's scripts
unless ``--lang`` says). Its word boxes become quads, each word's script is labelled with the
same rule as the ground truth (:func:`kocr_sdk.vocabulary.scripts.script_of`), and the seconds each
page took are stored with it, so ``kocr eval GT --pred PRED`` reproduces the scores later.

    python benchmarks/peers/tesseract.py GT.jsonl --pred-out tesseract.jsonl --out report.json
    python benchmarks/peers/tesseract.py GT.jsonl --crops --out report.json   # + its reading of the GT crops

Any ground-truth JSONL works: FUNSD (shared/data/funsd-test/gt.jsonl), a held-out synthetic
set from ``kocr synth``, or a dataset converted by ``kocr_sdk.lab.eval.loaders``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"  # before pytesseract starts any tesseract process

from kocr_sdk.errors import KocrError  # noqa: E402
from kocr_sdk.lab.eval import EvalPage, EvalWord, evaluate, pair_predictions, read_pages, script_of, write_pages  # noqa: E402
from kocr_sdk.lab.eval.runner import resolve_image  # noqa: E402

#: Height Tesseract's ground-truth crops are resized to (kocr's recogniser gets 32 px).
CROP_READ_HEIGHT = 48


def choose_lang(pages: list[EvalPage]) -> str:
    """``kor+eng`` when the ground truth holds any Hangul word, else ``eng``."""
    korean = any((w.script or script_of(w.text)) == "hangul" for p in pages for w in p.words)
    return "kor+eng" if korean else "eng"


def read_page(path: Path, lang: str, psm: int) -> tuple[list[EvalWord], float]:
    """Tesseract's words on one page image and the seconds ``image_to_data`` took."""
    import pytesseract
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        start = time.perf_counter()
        data = pytesseract.image_to_data(im, lang=lang, config=f"--psm {psm}", output_type=pytesseract.Output.DICT)
        seconds = time.perf_counter() - start
    words = []
    for i, text in enumerate(data["text"]):
        text = (text or "").strip()
        if data["level"][i] != 5 or not text:
            continue
        x, y, w, h = (float(data[k][i]) for k in ("left", "top", "width", "height"))
        words.append(EvalWord(
            text=text, poly=[[x, y], [x + w, y], [x + w, y + h], [x, y + h]], script=script_of(text),
            confidence=round(float(data["conf"][i]) / 100.0, 4),
        ))
    return words, seconds


def read_crops(path: Path, page: EvalPage, lang: str, height: int = CROP_READ_HEIGHT, gap: int = 24) -> list[str]:
    """Tesseract's reading of every ground-truth word crop of ``page``.

    The crops are the ones kocr's recogniser gets in ``run_engine`` — the same quad, warped
    upright, with the engine's default margin — but resized to ``height`` pixels rather than
    kocr's 32, because Tesseract reads small text badly: the comparison is at Tesseract's
    advantage, not kocr's. Starting a Tesseract process per crop costs more than reading it, so
    a page's crops are stacked one per line, ``gap`` white pixels apart, into one image read
    with psm 6 (a uniform block of text); each word Tesseract finds goes back to the crop its
    centre lies in, and a crop's words are joined left to right.
    """
    import numpy as np
    import pytesseract
    from PIL import Image

    from kocr_sdk.config import EngineConfig
    from kocr_sdk.geometry import crop_quad

    if not page.words:
        return []
    with Image.open(path) as im:
        image = np.asarray(im.convert("RGB"))
    margin = EngineConfig().recognition.crop_margin
    crops = [crop_quad(image, word.poly, height, margin) for word in page.words]
    pitch = height + gap
    canvas = np.full((gap + pitch * len(crops), gap * 2 + max(c.shape[1] for c in crops), 3), 255, np.uint8)
    for i, crop in enumerate(crops):
        canvas[gap + i * pitch:gap + i * pitch + crop.shape[0], gap:gap + crop.shape[1]] = crop
    data = pytesseract.image_to_data(Image.fromarray(canvas), lang=lang, config="--psm 6",
                                     output_type=pytesseract.Output.DICT)
    found: list[list[tuple[int, str]]] = [[] for _ in crops]
    for i, text in enumerate(data["text"]):
        text = (text or "").strip()
        if data["level"][i] != 5 or not text:
            continue
        centre = data["top"][i] + data["height"][i] / 2
        row = int((centre - gap / 2) // pitch)
        if 0 <= row < len(crops):
            found[row].append((data["left"][i], text))
    return [" ".join(t for _, t in sorted(words)) for words in found]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("gt", type=Path, help="ground-truth JSONL")
    parser.add_argument("--images", type=Path, help="folder image paths are relative to (default: GT's folder)")
    parser.add_argument("--lang", help="Tesseract languages (default: kor+eng if the GT has Hangul, else eng)")
    parser.add_argument("--psm", type=int, default=3)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--pred-out", type=Path, help="write Tesseract's predictions (JSONL) here")
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    parser.add_argument("--by", help="page keys to break figures down by (comma-separated)")
    parser.add_argument("--crops", action="store_true",
                        help="also read every ground-truth word crop, for the recogniser-only 'crop acc' figure")
    args = parser.parse_args(argv)

    try:
        import pytesseract

        gt_pages = read_pages(args.gt, args.limit)
        lang = args.lang or choose_lang(gt_pages)
        version = str(pytesseract.get_tesseract_version())
        root = args.images or args.gt.parent
        preds, crop_texts = [], []
        for n, page in enumerate(gt_pages, 1):
            words, seconds = read_page(resolve_image(page, root), lang, args.psm)
            preds.append(EvalPage(image=page.image, words=words, seconds=round(seconds, 4), tool=f"tesseract {version}",
                                  lang=lang, psm=args.psm))
            crop_texts.append(read_crops(resolve_image(page, root), page, lang) if args.crops else None)
            if sys.stderr.isatty():
                print(f"\rtesseract: {n}/{len(gt_pages)} pages", end="", file=sys.stderr, flush=True)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        if args.pred_out:
            write_pages(args.pred_out, preds)
        by = None if args.by is None else [k for k in args.by.split(",") if k]
        paired = pair_predictions(gt_pages, preds)
        paired.crop_texts = crop_texts
        crops_note = (f"; ground-truth crops: {CROP_READ_HEIGHT} px high, stacked one per line, psm 6"
                      if args.crops else "")
        report = evaluate(gt_pages, paired, by=by, sources={
            "gt": str(args.gt), "pred": f"tesseract {version} (pytesseract image_to_data, lang={lang}, psm {args.psm}, "
                                        f"OMP_THREAD_LIMIT=1{crops_note})"})
        report.print()
        if args.out:
            report.write(args.out)
    except KocrError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
