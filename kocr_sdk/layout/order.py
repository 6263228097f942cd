"""Reading order: lines top to bottom and left to right, blocks by recursive XY-cut.

XY-cut (Nagy and Seth, 1984) splits a set of boxes at the whitespace bands that cross the whole
set, first across the page (rows, read top to bottom) and, where no such band exists, down the
page (columns, read left to right), recursing into every part. Trying rows first is what makes a
key and its value in a far column, or the cells of a table row, read together, while two
columns of text, which no horizontal band crosses, are read one after the other.
"""

from __future__ import annotations

import numpy as np


def rows_of(boxes: np.ndarray, overlap: float = 0.5) -> list[list[int]]:
    """Indices of ``boxes`` (N, 4) grouped into rows, top to bottom, each row left to right.

    A box joins the row above it when they overlap vertically by ``overlap`` of the shorter one;
    rows are what "same line" means across a gap too wide for one Line (a key and its value).
    """
    n = len(boxes)
    if n == 0:
        return []
    centre = (boxes[:, 1] + boxes[:, 3]) / 2
    order = np.argsort(centre, kind="stable")
    rows: list[list[int]] = []
    top = bottom = 0.0
    for k in order.tolist():
        y0, y1 = boxes[k, 1], boxes[k, 3]
        if rows and min(bottom, y1) - max(top, y0) >= overlap * min(bottom - top, y1 - y0):
            rows[-1].append(k)
            top, bottom = min(top, y0), max(bottom, y1)
        else:
            rows.append([k])
            top, bottom = y0, y1
    return [sorted(row, key=lambda k: (boxes[k, 0], boxes[k, 1])) for row in rows]


def row_order(boxes: np.ndarray, overlap: float = 0.5) -> list[int]:
    """Indices of ``boxes`` (N, 4) in reading order of rows: by vertical position, and left to
    right among boxes that overlap vertically by ``overlap`` of the shorter one."""
    return [k for row in rows_of(boxes, overlap) for k in row]


def _groups(lo: np.ndarray, hi: np.ndarray) -> list[np.ndarray]:
    """Positions grouped by overlapping ``[lo, hi]`` intervals, groups in increasing order."""
    order = np.argsort(lo, kind="stable")
    reach = np.maximum.accumulate(hi[order])
    cuts = np.nonzero(lo[order][1:] > reach[:-1])[0] + 1
    return np.split(order, cuts)


def xy_cut(boxes: np.ndarray, tolerance: float = 0.1) -> list[int]:
    """Indices of ``boxes`` (N, 4: x0, y0, x1, y1 in the reading frame) in reading order.

    Each box is shrunk by ``tolerance`` of its height before looking for gaps, so that skew or a
    tall glyph overlapping the next row by a pixel does not hide the whitespace between them.
    """
    n = len(boxes)
    if n == 0:
        return []
    pad = tolerance * (boxes[:, 3] - boxes[:, 1])
    shrunk = boxes.astype(np.float64).copy()
    shrunk[:, 1] += pad
    shrunk[:, 3] -= pad
    shrunk[:, 0] += np.minimum(pad, (boxes[:, 2] - boxes[:, 0]) * tolerance)
    shrunk[:, 2] -= np.minimum(pad, (boxes[:, 2] - boxes[:, 0]) * tolerance)
    out: list[int] = []
    stack: list[np.ndarray] = [np.arange(n)]
    # Depth-first with an explicit stack (parts pushed in reverse) so deep pages cannot hit the
    # recursion limit; the output order is that of the recursive definition.
    while stack:
        idx = stack.pop()
        if len(idx) == 1:
            out.append(int(idx[0]))
            continue
        parts = _groups(shrunk[idx, 1], shrunk[idx, 3])
        if len(parts) == 1:
            parts = _groups(shrunk[idx, 0], shrunk[idx, 2])
        if len(parts) == 1:
            out.extend(int(idx[k]) for k in row_order(boxes[idx]))
            continue
        stack.extend(idx[p] for p in reversed(parts))
    return out
