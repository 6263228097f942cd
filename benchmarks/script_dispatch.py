"""Why script identification exists: CER with per-script dispatch vs every word read by the Korean weights.

    kocr synth pages --split heldout --seed 7 --n 60 --out /tmp/heldout-pages
    python benchmarks/script_dispatch.py /tmp/heldout-pages/gt.jsonl [--out results.json]

Every ground-truth word of the set is cropped (as ``kocr eval --crops`` does: the recognisers
measured apart from the detector) and read three ways by the installed engine:

- ``hangul-only``: no script identifier; every word goes to the ``hangul`` recogniser;
- ``dispatch``: the installed script identifier picks each word's recogniser (the default);
- ``oracle``: the ground-truth script picks it (the ceiling dispatch can reach).

Reported: crop accuracy and CER overall and by ground-truth script, and seconds per arm. A
recogniser that is not installed makes its words unreadable, which the report says, never
zeros in disguise. Run it with both ``vitstr-tiny-hangul`` and ``vitstr-tiny-latin`` shipped.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gt", type=Path)
    ap.add_argument("--images", type=Path)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--threshold", type=float, default=0.0, help="script_fallback_threshold of the dispatch arm")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)

    from kocr_sdk import Engine
    from kocr_sdk.lab.eval import evaluate, run_engine
    from kocr_sdk.lab.eval.format import read_pages

    gt_pages = read_pages(args.gt)[: args.limit]
    root = args.images or args.gt.parent
    arms = {
        "hangul-only": ({"script_identifier": "none", "default_script": "hangul"}, False),
        "dispatch": ({"script_fallback_threshold": args.threshold}, False),
        "oracle": ({}, True),
    }
    result: dict = {"gt": str(args.gt), "pages": len(gt_pages), "arms": {}}
    for name, (overrides, gt_scripts) in arms.items():
        engine = Engine(detector="none", clusterer="none", template_matcher="none", entity_recognizer="none", **overrides)
        start = time.perf_counter()
        preds = run_engine(engine, gt_pages, root, pages=False, crops=True, gt_scripts=gt_scripts)
        seconds = time.perf_counter() - start
        report = evaluate(gt_pages, preds)
        keep = ("crop_words", "crop_accuracy", "crop_cer")
        arm = {"stages": engine.describe(), "seconds": round(seconds, 2),
               "overall": {k: report.overall.get(k) for k in keep},
               "by_script": {s: {k: f.get(k) for k in keep} for s, f in report.by_script.items()},
               "notes": report.notes}
        result["arms"][name] = arm
        o = arm["overall"]
        print(f"{name:12s} crop acc {o['crop_accuracy']}  CER {o['crop_cer']}  ({seconds:.1f} s)")
        for s, f in arm["by_script"].items():
            print(f"   {s:8s} n={f['crop_words']} acc {f['crop_accuracy']} CER {f['crop_cer']}")
        for note in report.notes:
            print("   note:", note)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
