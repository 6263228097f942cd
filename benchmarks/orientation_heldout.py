"""Page orientation on held-out pages: the detector's own call, and after the recogniser's check.

    python benchmarks/orientation_heldout.py [--pages 100] [--seed 1] [--probes 16] [--out results.json]

Pages come from ``PageGenerator(split="heldout", seed)`` (fonts the models never trained on),
about half of them turned 90°/180°/270°. Each goes through the engine with the shipped detector
and recogniser (NER, clustering and templates off: they do not touch orientation). The
orientation-check stage record says whether it turned the page, so one run gives both figures:
the detector's page orientation (issue 4's target: ≥ 0.99) and the engine's after the check,
plus the check's cost per page.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import Counter
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--probes", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    import cv2
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(args.threads)
    from kocr_sdk import Engine
    from kocr_sdk.synth.pages import PageGenerator

    engine = Engine(entity_recognizer="none", clusterer="none", template_matcher="none",
                    orientation_probes=args.probes)
    gen = PageGenerator(split="heldout", seed=args.seed)
    rows = []
    for i in range(args.pages):
        image, record = gen.sample(i)
        page = engine.read(image).pages[0]
        check = next((s for s in page.stages if s.stage == "orientation_check"), None)
        turned = bool(check and check.status == "ran" and check.message and check.message.endswith("turned"))
        truth = int(record.get("orientation", 0)) % 360
        detector = (page.orientation + 180) % 360 if turned else page.orientation
        rows.append({"truth": truth, "detector": detector, "engine": page.orientation, "turned": turned,
                     "check_status": check.status if check else None,
                     "check_s": round(check.seconds, 4) if check else 0.0, "words": len(page.words)})

    n = len(rows)
    result = {
        "pages": n, "seed": args.seed, "probes": args.probes, "threads": args.threads,
        "truth_orientations": dict(Counter(r["truth"] for r in rows)),
        "detector_accuracy": round(sum(r["detector"] == r["truth"] for r in rows) / n, 4),
        "engine_accuracy": round(sum(r["engine"] == r["truth"] for r in rows) / n, 4),
        "axis_accuracy": round(sum(r["detector"] % 180 == r["truth"] % 180 for r in rows) / n, 4),
        "turned_pages": sum(r["turned"] for r in rows),
        "check_seconds_median": round(statistics.median(r["check_s"] for r in rows), 4),
        "errors": [dict(r, page=i) for i, r in enumerate(rows) if r["engine"] != r["truth"]],
    }
    print(json.dumps({k: v for k, v in result.items() if k != "errors"}, indent=1))
    print("pages still wrong:", [(e["page"], e["truth"], e["engine"]) for e in result["errors"]])
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
