"""Peak memory of reading one huge page: a 20000×20000 PNG (400 MP) through ``iter_pages``.

    python benchmarks/large_image_memory.py
    python benchmarks/large_image_memory.py --size 20000 --mode rgb gray --out benchmarks/results/large_image_memory.json

The PNG is written row by row into a temporary folder (this process never holds its pixels),
then each mode is read in a fresh Python process, which reports its resident-set peak
(``ru_maxrss``) after importing ``kocr_sdk.io`` and after reading the page. The default
``max_side`` (4096) downscales the page, so what is measured is the cost of getting there.
``--kocr DIR`` measures the ``kocr_sdk`` package found in DIR instead of this checkout's (for a
before/after comparison against an older commit unpacked there with ``git archive``).
"""

from __future__ import annotations

import argparse
import json
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import resource, sys, time
from kocr_sdk.io import iter_pages
import kocr_sdk
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
page = next(iter_pages(sys.argv[1], max_side=int(sys.argv[2])))
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(kocr_sdk.__file__, base, peak, round(seconds, 2), page.image.shape[1], page.image.shape[0], page.width,
      page.height, page.scale)
"""


def write_png(path: Path, size: int, gray: bool) -> None:
    """A size×size 8-bit PNG of "text lines" (dark bands) on a two-tone page, written row by row."""
    channels = 1 if gray else 3
    paper = (b"\xf0" if gray else b"\xff\xf8\xf0") * (size // 2) + (b"\xe0" if gray else b"\xe8\xf0\xff") * (size - size // 2)
    ink = (b"\x20" if gray else b"\x10\x10\x40") * size
    comp = zlib.compressobj(1)
    chunks = []
    for y in range(size):
        chunks.append(comp.compress(b"\x00" + (ink if y % 60 in range(20, 32) else paper)))
    chunks.append(comp.flush())

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", size, size, 8, 0 if channels == 1 else 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(chunks)) + chunk(b"IEND", b""))


def measure(path: Path, max_side: int, kocr_dir: Path) -> dict:
    """Read ``path`` in a fresh process whose first import path is ``kocr_dir``."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(max_side)], cwd=kocr_dir,
                         capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    module, base, peak, seconds, w, h, width, height, scale = out.stdout.split()
    this_checkout = Path(module).resolve().parent.parent == ROOT
    return {"kocr": "this checkout" if this_checkout else "--kocr", "import_mb": round(int(base) / 1024), "peak_mb": round(int(peak) / 1024),
            "read_mb": round((int(peak) - int(base)) / 1024), "seconds": float(seconds), "page": [int(w), int(h)],
            "original": [int(width), int(height)], "scale": float(scale)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=20000, help="side of the square PNG, pixels")
    parser.add_argument("--mode", nargs="+", choices=["rgb", "gray"], default=["rgb"])
    parser.add_argument("--max-side", type=int, default=4096)
    parser.add_argument("--kocr", type=Path, default=ROOT, help="directory holding the kocr_sdk package to measure")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.mode:
            path = Path(tmp) / f"page-{mode}.png"
            t = time.perf_counter()
            write_png(path, args.size, mode == "gray")
            made = time.perf_counter() - t
            row = {"mode": mode, "size": args.size, "file_mb": round(path.stat().st_size / 2**20, 1),
                   **measure(path, args.max_side, args.kocr.resolve())}
            rows.append(row)
            print(f"{mode} {args.size}×{args.size} ({row['file_mb']} MB file, written in {made:.1f} s): "
                  + (f"peak RSS {row['peak_mb']} MB (imports {row['import_mb']} MB, reading +{row['read_mb']} MB), "
                     f"{row['seconds']} s, page {row['page'][0]}×{row['page'][1]} at scale {row['scale']:.4f}"
                     if "error" not in row else f"failed: {row['error']}"), flush=True)
    # the largest child of this process, as the OS counted it (the same peak, measured from outside)
    print(f"largest child's peak RSS (RUSAGE_CHILDREN): {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024} MB")
    if args.out:
        args.out.write_text(json.dumps({"max_side": args.max_side, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
