"""Throughput of the synthetic generator on one core: word crops/s and full pages/s.

    OMP_NUM_THREADS=1 python benchmarks/synth_speed.py [--crops 2000] [--pages 30]

Each generator is built first (font discovery is a one-off cost per process, reported apart),
then ``sample(i)`` is timed over consecutive indices, degradations on, as training uses it.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--crops", type=int, default=2000)
    ap.add_argument("--pages", type=int, default=30)
    ap.add_argument("--forms", type=int, default=30)
    args = ap.parse_args()
    import cv2

    cv2.setNumThreads(1)
    from kocr_sdk.lab.synth.crops import CropGenerator
    from kocr_sdk.lab.synth.forms import FormGenerator
    from kocr_sdk.lab.synth.pages import PageGenerator

    result = {}
    for name, make, n in (("crops", lambda: CropGenerator("train", 0), args.crops),
                          ("pages", lambda: PageGenerator("train", 0), args.pages),
                          ("forms", lambda: FormGenerator("train", 0), args.forms)):
        t0 = time.perf_counter()
        gen = make()
        setup = time.perf_counter() - t0
        gen.sample(0)
        t0 = time.perf_counter()
        for i in range(1, n + 1):
            gen.sample(i)
        rate = n / (time.perf_counter() - t0)
        result[name] = {"per_s": round(rate, 1), "n": n, "setup_s": round(setup, 2)}
        print(f"{name}: {rate:,.1f}/s over {n} (setup {setup:.1f} s)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
