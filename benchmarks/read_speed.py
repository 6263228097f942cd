"""How long a user waits for ``kocr read`` with no flags, against Tesseract, as whole processes.

    python benchmarks/read_speed.py FUNSD_TEST_DIR [--n 10] [--rounds 3] [--config CFG] [--out results.json]

Three figures, each timed from outside as the wall time of whole processes (start-up, imports,
model loading, reading and writing included) and the peak resident memory of the largest one:

- **pages**: ``kocr read`` of the first ``--n`` images of the folder in one process (``--out``
  a temporary folder, JSON), against ``tesseract IMAGE OUT -l LANG`` (``--lang``, default ``eng``; plain text) run once
  per page — how each is used on a folder of scans;
- **cold start**: ``kocr read`` of the one page shipped with kocr (``kocr_sdk/data/sample_ko.png``);
- **per page**: the first figure divided by ``--n``.

Both run on one thread (``KOCR_THREADS=1``; ``OMP_THREAD_LIMIT=1`` for Tesseract). The machine's
speed drifts, so the commands alternate, round after round, and each round's ratio is taken
within the round; the medians are reported. ``--config`` adds ``--config CFG`` to kocr's command
(to time a setting against the default, run the script twice). Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "kocr_sdk" / "data" / "sample_ko.png"
KOCR = [sys.executable, "-m", "kocr_sdk.cli.main"]


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one process, measured by the parent (``wait4``)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed ({proc.returncode}): {err[-500:]}")
    return wall, usage.ru_maxrss / 1024


def kocr_pages(images: list[Path], out: Path, config: Path | None, env: dict[str, str]) -> tuple[float, float]:
    shutil.rmtree(out, ignore_errors=True)
    extra = ["--config", str(config)] if config else []
    return timed([*KOCR, "read", *map(str, images), "--out", str(out), "-q", *extra], env)


def tesseract_pages(images: list[Path], out: Path, env: dict[str, str], lang: str = "eng") -> tuple[float, float]:
    out.mkdir(parents=True, exist_ok=True)
    wall, peak = 0.0, 0.0
    for image in images:
        w, m = timed(["tesseract", str(image), str(out / image.stem), "-l", lang], env)
        wall, peak = wall + w, max(peak, m)
    return wall, peak


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pages", type=Path, help="a folder of page images (e.g. FUNSD's test scans)")
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--config", type=Path)
    ap.add_argument("--lang", default="eng", help="Tesseract's languages (kor+eng for Korean pages)")
    ap.add_argument("--no-tesseract", action="store_true")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    images = sorted(p for p in args.pages.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".tif", ".tiff"})
    images = images[:args.n]
    if not images:
        raise SystemExit(f"{args.pages}: no images")
    env = {**os.environ, "KOCR_THREADS": "1", "OMP_THREAD_LIMIT": "1", "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        kocr_pages(images[:1], tmpdir / "warm", args.config, env)  # first use: ONNX graphs, font caches
        rounds = []
        for r in range(args.rounds):
            row: dict[str, float] = {}
            row["kocr_wall"], row["kocr_peak_mb"] = kocr_pages(images, tmpdir / "k", args.config, env)
            if not args.no_tesseract:
                row["tesseract_wall"], row["tesseract_peak_mb"] = tesseract_pages(images, tmpdir / "t", env, args.lang)
                row["ratio"] = row["kocr_wall"] / row["tesseract_wall"]
            row["cold_wall"], row["cold_peak_mb"] = kocr_pages([SAMPLE], tmpdir / "c", args.config, env)
            rounds.append(row)
            print(f"round {r + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in row.items()), flush=True)
    med = {k: round(statistics.median(row[k] for row in rounds), 3) for k in rounds[0]}
    result = {"cpu": cpu_name(), "pages": len(images), "folder": args.pages.name, "config": str(args.config or "default"),
              "rounds": rounds, "median": med,
              "kocr_seconds_per_page": round(med["kocr_wall"] / len(images), 3)}
    if "tesseract_wall" in med:
        result["tesseract_seconds_per_page"] = round(med["tesseract_wall"] / len(images), 3)
    print(json.dumps({k: v for k, v in result.items() if k != "rounds"}, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
