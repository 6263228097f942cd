"""Time text clustering (words → lines → blocks + reading order) on a synthetic dense page.

The page is built from boxes, not pixels: a title, a key–value header, and two columns of
justified-looking paragraphs with random word widths, jittered by a pixel and optionally rotated
— ``--words`` of them in all (default 3,000, a dense A4 page at 300 dpi). The issue's target is
under 50 ms for 3,000 words; the script prints the median and best of ``--repeat`` runs, and the
time of the two parts (DBSCAN layout, and building the pydantic Blocks).

    python benchmarks/clustering_speed.py [--words 3000] [--repeat 20] [--rotate 90]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import numpy as np

from kocr_sdk.document import Page, Word
from kocr_sdk.geometry import quad_from_box, rotate_points
from kocr_sdk.layout import ClusterConfig, blocks_of, layout_page


def synthetic_page(n_words: int, seed: int = 0, rotate: int = 0) -> Page:
    """A two-column page of ``n_words`` word boxes (A4 at 300 dpi: 2480×3508, 20 px text)."""
    rng = random.Random(seed)
    width, height = 2480, 3508
    h = 20.0
    words: list[tuple[float, float, float, float]] = []
    words.append((900, 120, 1580, 190))  # title
    y = 260.0
    for _ in range(4):  # key–value rows with the value in a far column
        words.append((150, y, 150 + rng.uniform(80, 200), y + h))
        words.append((900, y, 900 + rng.uniform(200, 600), y + h))
        y += h * 2.2
    col_w, gutter, left = 1050.0, 80.0, 150.0
    top = y + h * 2
    lead = h * 1.3
    remaining = n_words - len(words)
    per_col = remaining // 2
    for col in range(2):
        x0 = left + col * (col_w + gutter)
        x, yy, placed = x0, top, 0
        target = per_col if col == 0 else remaining - per_col
        while placed < target:
            w = rng.uniform(20, 100)
            if x + w > x0 + col_w:
                x, yy = x0, yy + lead
                if rng.random() < 0.08:  # paragraph break
                    yy += lead
            jitter = rng.uniform(-1, 1)
            words.append((x, yy + jitter, x + w, yy + h + jitter))
            x += w + rng.uniform(5, 8)
            placed += 1
        if yy + h > height:
            raise SystemExit(f"{n_words} words do not fit the page; use fewer")
    quads = np.array([quad_from_box(b) for b in words], dtype=np.float64)
    if rotate:
        quads = rotate_points(quads, rotate, width, height)
        if rotate in (90, 270):
            width, height = height, width
    page_words = [Word(id=f"w{i}", quad=tuple(map(tuple, q)), text=f"w{i}") for i, q in enumerate(quads)]
    return Page(width=width, height=height, words=page_words, orientation=rotate)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--words", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--rotate", type=int, default=0, choices=(0, 90, 180, 270))
    args = ap.parse_args()
    page = synthetic_page(args.words, rotate=args.rotate)
    cfg = ClusterConfig()
    layout_page(page, cfg)  # warm-up: imports, numpy/sklearn first-call costs
    totals, layouts = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        layout = layout_page(page, cfg)
        t1 = time.perf_counter()
        blocks = blocks_of(page, layout)
        t2 = time.perf_counter()
        layouts.append((t1 - t0) * 1000)
        totals.append((t2 - t0) * 1000)
    n_lines = sum(len(b.lines) for b in blocks)
    print(f"{len(page.words)} words → {n_lines} lines, {len(blocks)} blocks (rotate {args.rotate})")
    print(f"clustering + reading order: median {statistics.median(totals):.1f} ms, best {min(totals):.1f} ms "
          f"over {args.repeat} runs (layout alone: median {statistics.median(layouts):.1f} ms)")


if __name__ == "__main__":
    main()
