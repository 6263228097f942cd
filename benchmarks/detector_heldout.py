"""The shipped (or any) detector on held-out synthetic pages, and its speed on A4.

    python benchmarks/detector_heldout.py [--weights W] [--pages 100] [--seed 1] [--out results.json]

Quality: ``--pages`` whole pages from ``PageGenerator(split="heldout", seed)`` — fonts the
detector never trained on, a seed training never used (training validates on seed 10007) —
run through the real inference path and scored with ``kocr_sdk.lab.eval`` matching (IoU ≥ 0.5):
word and character P/R/H-mean, page orientation accuracy, duplicate rate (ground-truth words
that two predictions match). Each figure set also says why words
went unmatched (``word_misses``: merged / split / loose / missed; ``word_extras`` for the
predictions; definitions in ``kocr_sdk.lab.eval.errors``).

``--gt JSONL`` scores real pages instead (a ``kocr eval`` ground truth, e.g. FUNSD's scans in
a FUNSD test ``gt.jsonl``, docs/evaluation.md), with the same decoding and matching — the detector
alone, so its word H differs from ``kocr eval``'s (which also runs the engine's orientation check).

Speed: a 1240×1754 page (A4 at 150 dpi) rendered by the generator, timed end to end
(``AnchorFreeDetector.detect``: scaling, network, decoding) on 1 and on 2 torch threads;
best and median of ``--repeats`` runs. Wall-clock figures: run on an otherwise idle machine.

``--weights`` may be any detector family's file: weights whose ``meta.arch`` is ``craft-*``
(``kocr_sdk/weights/detector-craft.safetensors``) run through the CRAFT baseline's stage and decoding,
with the same pages, scoring and output format. That baseline has no orientation head, so its
page orientation accuracy is the share of upright pages.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path


def load_detector(weights: Path):
    """The stage for a weights file of either family (its ``meta.arch``), with what
    ``detect_array`` and ``evaluate`` need to run it: (stage, inference config, decoder, stride)."""
    from kocr_sdk.detection.craft.stage import CraftDetector
    from kocr_sdk.detection.anchor_free.stage import AnchorFreeDetector
    from kocr_sdk.lab.training.detector_families import family_of
    from kocr_sdk.weights_file import read_meta

    arch = read_meta(weights, "detector")["arch"]
    family = family_of(arch)
    detector = (CraftDetector if family.name == "craft" else AnchorFreeDetector)(weights=weights)
    cfg = family.inference_config.model_validate(detector.meta.get("inference", {}))
    decoder = family.decoder_for(family.target_config.model_validate(detector.meta.get("targets", {})))
    return detector, cfg, decoder, family.stride(arch)


def _pairs(items: list[str]) -> dict:
    """``KEY=VALUE`` command-line pairs, values as JSON."""
    return {key: json.loads(value) for key, _, value in (item.partition("=") for item in items)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", type=Path, help="weights file (default: the shipped one)")
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--runtime", choices=["torch", "onnx"], default="torch",
                    help="what runs the network, for quality and speed (onnx: the `[onnx]` extra)")
    ap.add_argument("--quantize", action=argparse.BooleanOptionalAction, default=None,
                    help="onnx: the static int8 graph, or fp32 (the stage's `quantize`; unset: int8 where "
                         "the CPU has VNNI)")
    ap.add_argument("--min-text-height", type=float,
                    help="override the lower end of inference.text_height_range (auto-scale trigger)")
    ap.add_argument("--contained", type=float,
                    help="override decode.contained (drop word boxes lying this much inside a larger one)")
    ap.add_argument("--decode", action="append", default=[], metavar="KEY=VALUE",
                    help="override a DecodeConfig field (value as JSON: adopt_gap=null, grow_to_chars=true); repeatable")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="inference",
                    help="override an InferenceConfig field (value as JSON: max_side=1344, target_text_height=20); repeatable")
    ap.add_argument("--page", action="append", default=[], metavar="KEY=VALUE", dest="page_options",
                    help="a PageConfig field for the held-out pages (value as JSON: typewriter_prob=1, "
                         'layouts=["prose","invoice"]); repeatable. Default: the generator\'s defaults')
    ap.add_argument("--gt", type=Path, help="score on these pages instead (a kocr eval ground-truth JSONL, images "
                    "relative to it, e.g. FUNSD_TEST/gt.jsonl): the detector alone, without the "
                    "engine's orientation check or recogniser")
    ap.add_argument("--out", type=Path, help="write the figures here as JSON")
    args = ap.parse_args()

    import cv2
    import numpy as np
    import torch

    cv2.setNumThreads(1)
    from kocr_sdk.detection.anchor_free.stage import WEIGHTS_PATH, AnchorFreeDetector
    from kocr_sdk.lab.synth.pages import PageGenerator
    from kocr_sdk.lab.training.detector import evaluate

    weights = args.weights or WEIGHTS_PATH
    detector, cfg, decoder, stride = load_detector(weights)
    if args.min_text_height is not None:
        cfg = cfg.model_copy(update={"text_height_range": (args.min_text_height, cfg.text_height_range[1])})
        detector.config = cfg
    if args.contained is not None:
        cfg = cfg.model_copy(update={"decode": cfg.decode.model_copy(update={"contained": args.contained})})
        detector.config = cfg
    if args.decode:
        overrides = _pairs(args.decode)
        cfg = cfg.model_copy(update={"decode": cfg.decode.model_validate({**cfg.decode.model_dump(), **overrides})})
        detector.config = cfg
    if args.inference:
        overrides = _pairs(args.inference)
        cfg = cfg.model_validate({**cfg.model_dump(), **overrides})
        detector.config = cfg
    if args.runtime == "onnx":  # the stage's own onnxruntime session, used for quality and speed alike
        onnx_stage = AnchorFreeDetector(weights=weights, runtime="onnx", quantize=args.quantize)
        onnx_stage.config = detector.config
        detector.model = onnx_stage.model
    page_options = _pairs(args.page_options)
    gen = PageGenerator(split="heldout", seed=args.seed, **page_options)
    torch.set_num_threads(1)
    if args.gt:
        pages = []
        for line in args.gt.read_text(encoding="utf-8").splitlines()[: args.pages]:
            record = json.loads(line)
            image = cv2.imread(str(args.gt.parent / record["image"]), cv2.IMREAD_COLOR)
            pages.append((cv2.cvtColor(image, cv2.COLOR_BGR2RGB), {**record, "layout": record.get("source", "real")}))
    else:
        pages = [gen.sample(i) for i in range(args.pages)]
    quality = evaluate(detector.model, pages, cfg, stride=stride, decoder=decoder)
    layouts: dict[str, list] = {}
    for page in pages:
        layouts.setdefault(page[1]["layout"], []).append(page)
    by_layout = {name: evaluate(detector.model, group, cfg, stride=stride, decoder=decoder)
                 for name, group in sorted(layouts.items())}
    result = {"weights": str(weights), "step": detector.meta.get("step"), "pages": len(pages),
              "runtime": args.runtime,
              "int8": bool(args.runtime == "onnx" and onnx_stage.model.path.name.endswith("-int8.onnx")),
              **({"gt": str(args.gt)} if args.gt else {"seed": args.seed}),
              **({"page_options": page_options} if page_options else {}),
              "inference": cfg.model_dump(mode="json"),
              "quality": quality, "by_layout": by_layout}
    print(json.dumps(quality, indent=1))
    for name, q in by_layout.items():
        print(f"  {name:10s} pages {q['pages']:3d}  word H {q['word_hmean']}  char H {q['char_hmean']}  "
              f"orientation {q['orientation_accuracy']}  misses {q['word_misses']}")

    if not args.no_speed:
        a4 = None
        for i in range(200):  # the first upright full-size A4 page of the generator
            image, record = gen.sample(10_000 + i)
            if image.shape[:2] == (1754, 1240):
                a4 = image
                break
        if a4 is None:
            a4 = np.full((1754, 1240, 3), 255, np.uint8)
        speed = {}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            timed = detector
            if args.runtime == "onnx":  # an onnxruntime session takes its thread count when it is made
                timed = AnchorFreeDetector(weights=weights, runtime="onnx", quantize=args.quantize)
                timed.config = detector.config
            timed.detect(a4)
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                found = timed.detect(a4)
                times.append(time.perf_counter() - t0)
            speed[f"{threads}_thread"] = {"best_s": round(min(times), 3), "median_s": round(statistics.median(times), 3),
                                          "words": len(found.words)}
        result["speed_a4"] = {"runtime": args.runtime, **speed}
        print("A4 1240×1754, end to end:", json.dumps(speed))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
