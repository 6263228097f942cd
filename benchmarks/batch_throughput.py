"""Pages a second through the whole pipeline with ``kocr batch``, against Tesseract on the same
pages with the same cores; and, with ``--ray``, whether Ray writes the same bytes as the pool.

    kocr synth pages --n 20 --split heldout --seed 7 --out /tmp/pages
    python benchmarks/batch_throughput.py /tmp/pages --n 20 --workers 1 2 --ray \
        --out benchmarks/results/batch_throughput.json
    python benchmarks/batch_throughput.py /tmp/pages --n 40 --workers 1 2 --runtime onnx --only-ray-scaling \
        --out benchmarks/results/ray_scaling.json

kocr: ``run_batch`` with a process pool of W workers × (cores / W) torch threads, ``--runtime``
torch or onnx, every stage the installation has (detection, script identification when its
weights ship, recognition, NER, clustering, templates), JSON outputs written; the time is the
wall clock of the whole run, worker start-up and model loading included. Tesseract: the same
pages, ``kor+eng``, page segmentation mode 3, ``image_to_data``, ``OMP_THREAD_LIMIT=1`` and as
many processes as cores (the same threads). Pages/s on a machine that is doing other work is a
lower bound: say so next to the figures (``load`` in the output is the 1-minute load average
before each run). ``pages_per_s`` is the whole run; ``steady_pages_per_s`` counts only the pages
after every worker has delivered its first one (start-up, imports and model loading excluded),
``first_page_s`` is the wait for the first page.

Ratios to Tesseract: ``--rounds N`` runs every kocr row (each ``--config``, e.g. the shipped
default and the one-pass setting) and then Tesseract, N times over, and reports each round's
ratio and their median (``x_tesseract``). The CPU is recorded with them (``cpu``): the ratio
differs between CPUs — on one with an int8 dot product (VNNI) the detector and NER run int8.

    python benchmarks/batch_throughput.py HELDOUT --n 100 --workers 2 --runtime onnx --rounds 3 \
        --config default onepass.yaml --out benchmarks/results/batch_throughput.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kocr_sdk import EngineConfig  # noqa: E402
from kocr_sdk.batch import BatchOptions, EngineSpec, run_batch  # noqa: E402
from kocr_sdk.batch.options import machine_cores  # noqa: E402
from kocr_sdk.batch.runner import Reporter  # noqa: E402


class Clock(Reporter):
    """When each task came back and from which worker, to separate start-up from steady state."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.events: list[tuple[float, int, int]] = []  # (seconds since start, worker pid, pages)

    def chunk(self, result) -> None:
        self.events.append((time.perf_counter() - self.t0, result.worker.get("pid", 0), len(result.pages)))

    def steady(self) -> tuple[float | None, float | None]:
        """(seconds to the first page, pages/s once every worker has delivered its first page)."""
        if not self.events:
            return None, None
        seen: set[int] = set()
        pids = {pid for _, pid, _ in self.events}
        warm_at, pages_after = None, 0
        for t, pid, n in self.events:
            if warm_at is not None:
                pages_after += n
            seen.add(pid)
            if warm_at is None and seen == pids:
                warm_at = t
        span = self.events[-1][0] - warm_at if warm_at is not None else 0
        return self.events[0][0], (pages_after / span if span > 0 and pages_after else None)


def _tesseract_page(path: str) -> int:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    import pytesseract
    from PIL import Image

    with Image.open(path) as im:
        data = pytesseract.image_to_data(im, lang="kor+eng", config="--psm 3", output_type=pytesseract.Output.DICT)
    return sum(1 for t in data["text"] if (t or "").strip())


def tesseract(pages: list[Path], processes: int) -> dict:
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with ProcessPoolExecutor(processes) as pool:
        words = sum(pool.map(_tesseract_page, [str(p) for p in pages]))
    seconds = time.perf_counter() - start
    return {"system": "tesseract kor+eng psm 3", "processes": processes, "threads_each": 1, "pages": len(pages),
            "seconds": round(seconds, 2), "pages_per_s": round(len(pages) / seconds, 3), "words": words, "load": load}


def kocr(pages: list[Path], out: Path, workers: int, runtime: str, backend: str = "pool",
         threads: int | None = None, config: Path | None = None) -> dict:
    threads = threads or max(1, machine_cores() // workers)
    load = os.getloadavg()[0]
    spec = EngineSpec(EngineConfig.load(config, runtime=runtime, device="cpu"))
    clock = Clock()
    summary = run_batch([str(p) for p in pages], BatchOptions(out=out, backend=backend, workers=workers, threads=threads,
                                                              redo=True), spec, clock)
    first, steady = clock.steady()
    words = sum(len(p["words"]) for f in out.glob("*.json") for p in json.loads(f.read_text())["pages"])
    return {"system": f"kocr ({backend}, {runtime})", "config": config.stem if config else "default",
            "processes": summary.workers, "threads_each": summary.threads,
            "pages": summary.pages, "failed": summary.failed, "seconds": round(summary.seconds, 2),
            "pages_per_s": round(summary.pages_per_second, 3), "words": words, "load": load,
            "first_page_s": round(first, 2) if first else None, "steady_pages_per_s": round(steady, 3) if steady else None}


def cpu_model() -> dict:
    """Which CPU measured the rows: kocr's ratio to Tesseract differs between CPUs (int8 kernels among them)."""
    from kocr_sdk.runtime.cpu import int8_is_fast

    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            name = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), name)
    except OSError:
        pass
    return {"model": name, "int8_dot_product": int8_is_fast()}


def ratios(rows: list[dict]) -> dict:
    """Per kocr row kind (runtime, workers, config): pages/s over Tesseract's of the same round, each
    round and the median, whole run and steady."""
    tess = {r["round"]: r["pages_per_s"] for r in rows if r["system"].startswith("tesseract")}
    out: dict[str, dict] = {}
    for r in rows:
        if r["system"].startswith("tesseract") or r["round"] not in tess:
            continue
        key = f"{r['system']} {r['processes']}x{r['threads_each']} {r['config']}"
        entry = out.setdefault(key, {"whole": [], "steady": []})
        entry["whole"].append(round(r["pages_per_s"] / tess[r["round"]], 3))
        if r.get("steady_pages_per_s"):
            entry["steady"].append(round(r["steady_pages_per_s"] / tess[r["round"]], 3))
    for entry in out.values():
        entry["whole_median"] = statistics.median(entry["whole"])
        entry["steady_median"] = statistics.median(entry["steady"]) if entry["steady"] else None
    return out


def same_bytes(a: Path, b: Path) -> dict:
    names = sorted(p.name for p in a.glob("*.json"))
    differ = [n for n in names if not (b / n).exists() or (a / n).read_bytes() != (b / n).read_bytes()]
    first = None
    if differ and (b / differ[0]).exists():  # what differs, to tell a bug from a code change mid-run
        import difflib

        lines = difflib.unified_diff((a / differ[0]).read_text().splitlines(), (b / differ[0]).read_text().splitlines(),
                                     lineterm="", n=1)
        first = list(lines)[:12]
    return {"outputs": len(names), "identical": len(names) - len(differ), "differ": differ[:10], "first_diff": first}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", type=Path, help="folder of page images (e.g. from `kocr synth pages`)")
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[machine_cores()])
    parser.add_argument("--runtime", nargs="+", default=["auto"], choices=["auto", "torch", "onnx"])
    parser.add_argument("--threads", type=int, help="threads per worker (default: cores / workers)")
    parser.add_argument("--ray", action="store_true", help="also run on a local Ray and compare the bytes")
    parser.add_argument("--skip-tesseract", action="store_true")
    parser.add_argument("--only-ray-identity", action="store_true",
                        help="run only the pool and the Ray backend (max --workers, first --runtime) and compare")
    parser.add_argument("--only-ray-scaling", action="store_true",
                        help="run only Ray, once per --workers count (first --runtime), and report the speed-up")
    parser.add_argument("--config", type=Path, nargs="+", default=[None],
                        help="engine config YAML(s) for kocr's runs (e.g. a detector setting), each a row; "
                             "`default` for the shipped configuration")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every kocr row and Tesseract this many times, alternating, and report the "
                             "median ratio of each round (the CPU's speed drifts within a sitting)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    args.config = [None if c is None or str(c) == "default" else c for c in args.config]
    pages = sorted(args.pages.glob("*.png"))[: args.n]
    work = Path(tempfile.mkdtemp(prefix="kocr-bench-"))
    rows, result = [], {"cores": machine_cores(), "pages": len(pages)}
    if args.only_ray_identity:
        args.runtime, args.workers, args.skip_tesseract, args.ray = args.runtime[:1], [max(args.workers)], True, True
    if args.only_ray_scaling:
        args.runtime, args.skip_tesseract = args.runtime[:1], True
    if args.ray or args.only_ray_scaling:  # before the pool's run, not after it: a missing extra should cost seconds, not the pool's minutes
        from kocr_sdk.batch.ray_backend import require_ray

        require_ray()
    if args.only_ray_scaling:
        for w in args.workers:
            rows.append(kocr(pages, work / f"ray-{w}", w, args.runtime[0], backend="ray", threads=args.threads,
                             config=args.config[0]))
            print(rows[-1], flush=True)
        base = rows[0]["pages_per_s"]
        result["ray_scaling"] = {f"{r['processes']} actors": round(r["pages_per_s"] / base, 2) for r in rows}
        print(result["ray_scaling"], flush=True)
        args.runtime = []  # nothing else to run
    for round_ in range(1, args.rounds + 1):
        for runtime in args.runtime:
            for w in args.workers:
                for config in args.config:
                    rows.append({"round": round_, **kocr(pages, work / f"pool-{runtime}-{w}", w, runtime,
                                                          threads=args.threads, config=config)})
                    print(rows[-1], flush=True)
        if not args.skip_tesseract:
            rows.append({"round": round_, **tesseract(pages, machine_cores())})
            print(rows[-1], flush=True)
    result["cpu"] = cpu_model()
    if not args.skip_tesseract:
        result["x_tesseract"] = ratios(rows)
        print(json.dumps(result["x_tesseract"], indent=1), flush=True)
    if args.ray:
        w = max(args.workers)
        runtime = args.runtime[0]
        rows.append(kocr(pages, work / "ray", w, runtime, backend="ray", config=args.config[0]))
        print(rows[-1], flush=True)
        result["ray_vs_pool"] = same_bytes(work / f"pool-{runtime}-{w}", work / "ray")
        print(result["ray_vs_pool"], flush=True)
    result["rows"] = rows
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
