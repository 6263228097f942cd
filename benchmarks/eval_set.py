"""kocr and its peers on one ground-truth set, as one markdown table for docs/benchmarks.md.

    python benchmarks/eval_set.py FUNSD_TEST/gt.jsonl --name funsd-test

runs Tesseract (benchmarks/peers/tesseract.py) and kocr's installed engine (``kocr eval`` in
engine mode) through the same harness, writes each report to ``benchmarks/results/<name>.<tool>.json``
and prints the rows. A figure kocr could not measure (a stage not installed) prints as "—"
with the reason below the table, never as a zero.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

HERE = Path(__file__).resolve().parent
COLUMNS = (("word_hmean", "word det H"), ("e2e_hmean", "e2e word H"), ("char_f1", "char F1"), ("cer", "CER"),
           ("crop_accuracy", "crop acc"), ("seconds_per_page", "s/page"))


def _cell(value, key: str) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if key == "seconds_per_page" else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("gt", type=Path)
    parser.add_argument("--name", help="set name for result files (default: the GT file's folder name)")
    parser.add_argument("--images", type=Path)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--no-crops", action="store_true", help="skip reading ground-truth crops with kocr")
    parser.add_argument("--skip", action="append", default=[], choices=["tesseract", "kocr"])
    args = parser.parse_args(argv)
    name = args.name or args.gt.resolve().parent.name
    results = HERE / "results"

    from kocr_sdk.lab.eval import EvalReport
    from kocr_sdk.lab.eval.format import read_pages

    reports: dict[str, EvalReport] = {}
    common = ([] if args.images is None else ["--images", str(args.images)]) + \
             ([] if args.limit is None else ["--limit", str(args.limit)])
    if "tesseract" not in args.skip:
        sys.path.insert(0, str(HERE / "peers"))
        import tesseract

        out = results / f"{name}.tesseract.json"
        if tesseract.main([str(args.gt), "--out", str(out), *common]) != 0:
            return 1
        reports["Tesseract"] = EvalReport.model_validate_json(out.read_text(encoding="utf-8"))
    if "kocr" not in args.skip:
        from kocr_sdk.engine import Engine
        from kocr_sdk.lab.eval import evaluate, run_engine

        gt_pages = read_pages(args.gt, args.limit)
        engine = Engine(threads=1)
        preds = run_engine(engine, gt_pages, args.images or args.gt.parent, crops=not args.no_crops)
        report = evaluate(gt_pages, preds, sources={"gt": str(args.gt), "engine": str(engine.describe())})
        report.print()
        report.write(results / f"{name}.kocr.json")
        reports["kocr"] = report

    print(f"\n| tool ({name}) | " + " | ".join(h for _, h in COLUMNS) + " |")
    print("|---|" + "---|" * len(COLUMNS))
    for tool, report in reports.items():
        print(f"| {tool} | " + " | ".join(_cell(report.overall.get(k), k) for k, _ in COLUMNS) + " |")
    for tool, report in reports.items():
        for note in report.notes:
            print(f"- {tool}: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
