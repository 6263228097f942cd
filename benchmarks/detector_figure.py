"""Two detectors on the same held-out page, side by side: docs/models.md's picture of the comparison.

    python benchmarks/detector_figure.py [--weights A.safetensors B.safetensors] [--seed 1] [--page 0]
                                         [--out docs/img/detector-side-by-side.png]
    python benchmarks/detector_figure.py --gt FUNSD_TEST/gt.jsonl --page 3   # a real page

A table of H-means says *how often* a detector fails; a picture says *how*: a word split in
two, two words merged, a line of small print missed. Each panel is the same window of one
held-out page (``PageGenerator(split="heldout", seed)``, the pages ``detector_heldout.py``
scores) with the detector's word boxes drawn by how they score against the ground truth at
IoU ≥ 0.5 — **green** matched, **red** a prediction that matches no word (a false positive,
a split or a merge) — and the ground-truth words no prediction matched in **orange**. The
window (``--window``) is the one with the most ground-truth words, so the dense part of the
page is the part shown. Each panel's title gives the page's word P/R/H. ``--gt`` takes the page
from a ground-truth JSONL in ``kocr eval``'s format instead (``--page`` is its line, images
relative to the file), e.g. a real FUNSD scan.

Weights may be of either family (``meta.arch``: ``afd-*`` anchor-free, ``craft-*`` CRAFT);
the default pair is the shipped anchor-free detector and ``kocr_sdk/weights/detector-craft.safetensors``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

GREEN, RED, ORANGE = (20, 150, 60), (220, 30, 40), (245, 140, 0)


def _detect(weights: Path, image: np.ndarray):
    """The words one detector finds on an RGB page, through its family's inference path."""
    from detector_heldout import load_detector

    from kocr_sdk.detection.anchor_free.inference import detect_array

    detector, cfg, decoder, stride = load_detector(weights)
    decoded, _ = detect_array(detector.model, image, cfg, "cpu", stride, decoder)
    return f"{type(detector).name} ({detector.meta['arch']}, step {detector.meta.get('step')})", decoded.word_quads()


def _window(gt: list[np.ndarray], shape: tuple[int, int], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The ``size`` window (w, h) of the page holding the most ground-truth word centres."""
    h, w = shape
    ww, wh = min(size[0], w), min(size[1], h)
    centres = np.array([q.mean(axis=0) for q in gt]) if gt else np.zeros((0, 2))
    best, best_n = (0, 0), -1
    for y in range(0, h - wh + 1, max(wh // 8, 1)):
        for x in range(0, w - ww + 1, max(ww // 8, 1)):
            n = int(((centres[:, 0] >= x) & (centres[:, 0] < x + ww) & (centres[:, 1] >= y) & (centres[:, 1] < y + wh)).sum())
            if n > best_n:
                best, best_n = (x, y), n
    return best[0], best[1], best[0] + ww, best[1] + wh


def _panel(image: np.ndarray, gt: list[np.ndarray], pred: np.ndarray, title: str,
           window: tuple[int, int, int, int]) -> np.ndarray:
    from kocr_sdk.lab.eval.matching import match_polygons

    m = match_polygons(gt, pred) if len(gt) and len(pred) else None
    hit_pred = set(m.pred_to_gt) if m else set()
    hit_gt = set(m.gt_to_pred) if m else set()
    canvas = image.copy()
    for i, q in enumerate(gt):
        if i not in hit_gt:
            cv2.polylines(canvas, [np.round(q).astype(np.int32)], True, ORANGE, 2, cv2.LINE_AA)
    for j, q in enumerate(pred):
        cv2.polylines(canvas, [np.round(q).astype(np.int32)], True, GREEN if j in hit_pred else RED, 1, cv2.LINE_AA)
    p = len(hit_pred) / max(len(pred), 1)
    r = len(hit_gt) / max(len(gt), 1)
    h = 2 * p * r / max(p + r, 1e-9)
    x0, y0, x1, y1 = window
    crop = canvas[y0:y1, x0:x1]
    bar = np.full((34, crop.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, f"{title}   page word P {p:.3f} R {r:.3f} H {h:.3f}", (8, 23), cv2.FONT_HERSHEY_SIMPLEX, 0.55,
                (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, crop])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", type=Path, nargs="+", help="weights files (default: shipped anchor-free, CRAFT)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--page", type=int, default=0, help="index of the held-out page (or of the --gt line)")
    ap.add_argument("--gt", type=Path, help="a ground-truth JSONL (kocr eval format) to take the page from")
    ap.add_argument("--window", default="760x560", help="WxH of the part of the page shown")
    ap.add_argument("--out", type=Path, default=Path("docs/img/detector-side-by-side.png"))
    args = ap.parse_args()

    import torch

    from kocr_sdk.detection.anchor_free.stage import WEIGHTS_PATH
    from kocr_sdk.lab.synth.pages import PageGenerator

    torch.set_num_threads(1)
    weights = args.weights or [WEIGHTS_PATH, WEIGHTS_PATH.parent / "detector-craft.safetensors"]
    if args.gt:
        from PIL import Image

        record = json.loads(args.gt.read_text(encoding="utf-8").splitlines()[args.page])
        image = np.asarray(Image.open(args.gt.parent / record["image"]).convert("RGB"))
    else:
        image, record = PageGenerator(split="heldout", seed=args.seed).sample(args.page)
    gt = [np.asarray(w["poly"], np.float32) for w in record["words"] if not w.get("ignore")]
    size = tuple(int(v) for v in args.window.lower().split("x"))
    window = _window(gt, image.shape[:2], size)
    panels = []
    for w in weights:
        title, pred = _detect(w, image)
        panels.append(_panel(image, gt, pred, title, window))
        print(f"{w}: {len(pred)} words")
    gap = np.full((panels[0].shape[0], 12, 3), 255, np.uint8)
    out = panels[0]
    for p in panels[1:]:
        out = np.hstack([out, gap, p])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
    print(f"wrote {args.out} (layout {record.get('layout', record.get('source'))}, window {window})")


if __name__ == "__main__":
    main()
