"""Page orientation on held-out pages: the detector's own call, and after the recogniser's check.

    python benchmarks/orientation_heldout.py [--pages 100] [--seed 1] [--probes 16] [--first-probes 4] [--out results.json]

Pages come from ``PageGenerator(split="heldout", seed)`` (fonts the models never trained on),
about half of them turned 90°/180°/270°. Each goes through the engine with the shipped detector
and recogniser (NER, clustering and templates off: they do not touch orientation). The
orientation-check stage record says whether it turned the page, so one run gives both figures:
the detector's page orientation (target: ≥ 0.99) and the engine's after the check,
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
    ap.add_argument("--first-probes", type=int, default=4,
                    help="probes read before deciding whether the rest are needed (0: all at once)")
    ap.add_argument("--sure-margin", type=float, default=0.3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--weights", type=Path, help="anchor-free detector weights (default: the shipped ones)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    import cv2
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(args.threads)
    from kocr_sdk import Engine
    from kocr_sdk.lab.synth.pages import PageGenerator

    engine = Engine(entity_recognizer="none", clusterer="none", template_matcher="none",
                    orientation_probes=args.probes, orientation_first_probes=args.first_probes,
                    orientation_sure_margin=args.sure_margin,
                    options={"anchor-free": {"weights": str(args.weights)}} if args.weights else {})
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
                     "check_s": round(check.seconds, 4) if check else 0.0, "words": len(page.words),
                     "probes_read": int(check.message.split()[0]) if check and check.status == "ran" else 0})

    n = len(rows)
    result = {
        "pages": n, "seed": args.seed, "probes": args.probes, "first_probes": args.first_probes,
        "sure_margin": args.sure_margin, "threads": args.threads,
        **({"weights": str(args.weights)} if args.weights else {}),
        "probes_read_mean": round(statistics.mean(r["probes_read"] for r in rows), 2),
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
