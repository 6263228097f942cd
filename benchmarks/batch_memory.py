"""Memory of each batch worker over a long run: it must stay flat, whatever the page count.

    kocr synth pages --n 20 --split heldout --seed 7 --out /tmp/pages
    python benchmarks/batch_memory.py /tmp/pages --pages 200 --workers 2 \
        --out benchmarks/results/batch_memory.json

The page images are repeated (as hard links with distinct names) until ``--pages`` inputs
exist, and read with ``run_batch`` on a process pool; every finished task reports its worker's
resident set (``/proc/self/statm``) and its peak so far (``ru_maxrss``). Printed: for each
worker, resident MB after its first tenth of pages, at the middle and at the end, and the peak;
the JSON holds the whole curve. ``--pages 10000`` is the issue's figure; on 2 loaded cores it
takes hours, so the default is what fits in ~10 minutes. With ``--out`` the curve so far is
written every ``--save-every`` pages (marked ``"partial": true``), so a run stopped early still
leaves its figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kocr_sdk import EngineConfig  # noqa: E402
from kocr_sdk.batch import BatchOptions, EngineSpec, run_batch  # noqa: E402
from kocr_sdk.batch.runner import Reporter  # noqa: E402


class Curve(Reporter):
    """Collects each worker's resident memory per finished task; with ``out``, writes the curve so
    far every ``every`` pages (a run of hours that is stopped still leaves its figures)."""

    def __init__(self, out: Path | None = None, every: int = 250) -> None:
        self.points: dict[int, list[tuple[int, float, float]]] = defaultdict(list)
        self.pages = 0
        self.out, self.every = out, every
        self.started = time.time()

    def chunk(self, result) -> None:
        before = self.pages
        self.pages += len(result.pages)
        w = result.worker
        if "rss" in w:
            self.points[w["pid"]].append((self.pages, w["rss"] / 2**20, w.get("peak_rss", 0) / 2**20))
        if self.out and self.pages // self.every > before // self.every:
            self.save(self.report(None))

    def report(self, summary) -> dict:
        """The figures: whole-run ones from ``summary`` when the run has ended, else partial."""
        if summary is None:
            seconds = time.time() - self.started
            report = {"partial": True, "pages": self.pages, "seconds": round(seconds, 1),
                      "pages_per_s": round(self.pages / max(seconds, 1e-9), 3)}
        else:
            report = {"pages": summary.pages, "failed": summary.failed, "seconds": round(summary.seconds, 1),
                      "pages_per_s": round(summary.pages_per_second, 3)}
        report["workers"] = {}
        for pid, pts in self.points.items():
            rss = [r for _, r, _ in pts]
            k = max(1, len(rss) // 10)
            report["workers"][str(pid)] = {
                "tasks": len(pts), "rss_mb_after_first_tenth": round(rss[k - 1], 1),
                "rss_mb_middle": round(rss[len(rss) // 2], 1), "rss_mb_end": round(rss[-1], 1),
                "peak_mb": round(max(p for _, _, p in pts), 1), "curve": [(n, round(r, 1)) for n, r, _ in pts]}
        return report

    def save(self, report: dict) -> None:
        if self.out:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.out.with_suffix(".tmp")
            tmp.write_text(json.dumps(report, indent=1) + "\n")
            tmp.replace(self.out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", type=Path)
    parser.add_argument("--pages", dest="n", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runtime", default="torch", choices=["torch", "onnx"])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--save-every", type=int, default=250, help="with --out, write the curve so far every N pages")
    args = parser.parse_args(argv)
    source = sorted(args.pages.glob("*.png"))
    work = Path(tempfile.mkdtemp(prefix="kocr-mem-"))
    inputs = work / "in"
    inputs.mkdir()
    for i in range(args.n):
        os.link(source[i % len(source)], inputs / f"{i:06d}.png")
    curve = Curve(args.out, every=args.save_every)
    threads = max(1, (os.cpu_count() or 1) // args.workers)
    summary = run_batch([str(inputs)], BatchOptions(out=work / "out", backend="pool", workers=args.workers, threads=threads),
                        EngineSpec(EngineConfig(runtime=args.runtime, device="cpu")), curve)
    report = curve.report(summary)
    for pid, row in report["workers"].items():
        print(f"worker {pid}: {row['tasks']} tasks; RSS MB after 1/10 {row['rss_mb_after_first_tenth']}, middle "
              f"{row['rss_mb_middle']}, end {row['rss_mb_end']}; peak {row['peak_mb']}")
    print(f"{summary.pages} pages, {summary.failed} failed, {summary.seconds:.0f} s, {summary.pages_per_second:.2f} pages/s")
    curve.save(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
