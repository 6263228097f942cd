"""How well the page rectifier finds the paper in synthetic photos whose geometry is known.

    python benchmarks/rectify_photos.py GT.jsonl [--out results.json]

GT is a set written by ``kocr synth pages --set capture=photo`` (or ``thermal``): each record
holds ``paper``, the sheet's corners in the picture, and ``curl``, how far it bends. For every
page the ``paper`` rectifier runs as the engine runs it; the figure is the corner error — the
mean distance of the four corners it found from the true ones, in picture pixels — split into
flat sheets and curled ones (a curled sheet's corners are its curled tips, which a straight side
through the middle of a bowed edge misses), and how many pages it flattened or left alone, and
why. The end-to-end effect is ``kocr eval`` with the rectifier on and off (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gt", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    import cv2
    import numpy as np

    from kocr_sdk.rectify import PaperRectifier

    cv2.setNumThreads(1)
    rectifier = PaperRectifier()
    rows = []
    reasons: Counter[str] = Counter()
    for line in args.gt.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        image = cv2.cvtColor(cv2.imread(str(args.gt.parent / rec["image"])), cv2.COLOR_BGR2RGB)
        start = time.perf_counter()
        result = rectifier.rectify(image)
        seconds = time.perf_counter() - start
        reasons[result.message.split(":")[0].split(" (")[0]] += 1
        row = {"image": rec["image"], "curl": rec.get("curl", 0.0), "background": rec.get("background"),
               "applied": result.applied, "seconds": round(seconds, 3)}
        if result.paper is not None and "paper" in rec:
            found, truth = np.asarray(result.paper), np.asarray(rec["paper"])
            row["corner_error"] = round(min(float(np.linalg.norm(np.roll(found, k, axis=0) - truth, axis=1).mean())
                                            for k in range(4)), 2)
        rows.append(row)

    def summary(part: list[dict]) -> dict:
        errs = sorted(r["corner_error"] for r in part if "corner_error" in r)
        return {"pages": len(part), "paper_found": len(errs), "flattened": sum(r["applied"] for r in part),
                "corner_error_median": round(statistics.median(errs), 2) if errs else None,
                "corner_error_p90": round(errs[int(0.9 * (len(errs) - 1))], 2) if errs else None,
                "within_5px": round(sum(e <= 5 for e in errs) / len(part), 3) if part else None}

    report = {"gt": str(args.gt), "all": summary(rows), "flat_sheets": summary([r for r in rows if not r["curl"]]),
              "curled_sheets": summary([r for r in rows if r["curl"]]),
              "by_background": {b: summary([r for r in rows if r["background"] == b])
                                for b in sorted({r["background"] for r in rows if r["background"]})},
              "outcomes": dict(reasons.most_common()),
              "seconds_per_page": round(statistics.mean(r["seconds"] for r in rows), 3), "pages": rows}
    print(json.dumps({k: v for k, v in report.items() if k != "pages"}, indent=1, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
