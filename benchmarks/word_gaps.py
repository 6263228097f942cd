"""Gaps between neighbouring words on a line, in word heights: a ground-truth set against another.

    python benchmarks/word_gaps.py FUNSD_TEST/gt.jsonl HELDOUT/gt.jsonl

For each upright page's words (axis-aligned bounds of their quads), the gap from a word to the
nearest word on its right that shares at least 60 % of the smaller height, divided by the
word's height (gaps over 3 heights are column breaks, not word gaps). Prints the count and the
10th/25th/50th/75th percentiles per file. Written to compare the synthetic pages the detector
trains on with real scans: a detector that never saw narrow gaps regresses one box over several
words (docs/models.md, "AS-IS baseline").
"""

import json
import sys

import numpy as np


def gaps(path: str, limit: int = 200) -> np.ndarray:
    out = []
    for n, line in enumerate(open(path, encoding="utf-8")):
        if n >= limit:
            break
        r = json.loads(line)
        if r.get("orientation", 0) not in (0, None):
            continue
        b = np.array([[min(p[0] for p in w["poly"]), min(p[1] for p in w["poly"]),
                       max(p[0] for p in w["poly"]), max(p[1] for p in w["poly"])]
                      for w in r["words"] if not w.get("ignore")], float)
        if len(b) < 2:
            continue
        h = b[:, 3] - b[:, 1]
        for i in range(len(b)):
            overlap = np.minimum(b[:, 3], b[i, 3]) - np.maximum(b[:, 1], b[i, 1])
            right = (overlap > 0.6 * np.minimum(h, h[i])) & (b[:, 0] >= b[i, 2] - 1)
            right[i] = False
            if right.any():
                g = (b[right, 0] - b[i, 2]).min()
                if g < 3 * h[i]:
                    out.append(g / h[i])
    return np.array(out)


if __name__ == "__main__":
    for path in sys.argv[1:]:
        a = gaps(path)
        print(path, len(a), "p10/p25/p50/p75:", np.percentile(a, [10, 25, 50, 75]).round(3).tolist())
