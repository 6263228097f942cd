"""One-to-one matching of predicted and ground-truth polygons at IoU >= 0.5.

Why one-to-one: a detector that reports the same word twice, or splits one word into pieces
that each overlap it, must not score twice. Each ground-truth polygon is matched to at most one
prediction and vice versa; every other prediction is a false positive, so duplicates are
penalised.

Why Hungarian and not greedy: greedy-by-IoU (take the best-overlapping pair, remove both,
repeat) is what many scripts do and gives the same answer whenever a box overlaps at most one
box of the other side at IoU >= 0.5 — the usual case. Where boxes overlap several (touching
words, a prediction spanning two short words), greedy can take a pair that blocks two others
and lose a match. :func:`match_polygons` instead solves the assignment exactly with
``scipy.optimize.linear_sum_assignment``: it maximises the *number* of matched pairs, and among
equally many, the total IoU. The score is therefore independent of the order of the boxes.

Polygon IoU is exact for convex quads (``cv2.intersectConvexConvex``); a non-convex or
self-intersecting quad, which no sane producer writes, is replaced by its convex hull.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

IOU_THRESHOLD = 0.5


def _as_array(polys: Sequence[Sequence[Sequence[float]]]) -> np.ndarray:
    arr = np.asarray(polys, dtype=np.float64)
    return arr.reshape(-1, 4, 2) if arr.size else np.zeros((0, 4, 2))


def polygon_area(poly: np.ndarray) -> float:
    """Area of a simple polygon (shoelace), whatever its orientation."""
    x, y = poly[:, 0], poly[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def _hull(poly: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.convexHull(poly.astype(np.float32)).reshape(-1, 2)


def _is_axis_aligned(poly: np.ndarray) -> bool:
    xs, ys = poly[:, 0], poly[:, 1]
    return bool(
        len(set(np.round(xs, 6))) <= 2 and len(set(np.round(ys, 6))) <= 2
    )


def intersection_area(a: np.ndarray, b: np.ndarray) -> float:
    """Area shared by two quads (convex hulls for non-convex ones)."""
    if _is_axis_aligned(a) and _is_axis_aligned(b):
        ix = min(a[:, 0].max(), b[:, 0].max()) - max(a[:, 0].min(), b[:, 0].min())
        iy = min(a[:, 1].max(), b[:, 1].max()) - max(a[:, 1].min(), b[:, 1].min())
        return float(max(0.0, ix) * max(0.0, iy))
    import cv2

    area, _ = cv2.intersectConvexConvex(_hull(a), _hull(b))
    return float(max(0.0, area))


def polygon_iou(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> float:
    """Intersection over union of two quads."""
    pa, pb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    inter = intersection_area(pa, pb)
    union = _area(pa) + _area(pb) - inter
    return inter / union if union > 0 else 0.0


def _area(poly: np.ndarray) -> float:
    return polygon_area(_hull(poly)) if not _is_axis_aligned(poly) else polygon_area(poly)


def _bounds(polys: np.ndarray) -> np.ndarray:
    return np.concatenate([polys.min(axis=1), polys.max(axis=1)], axis=1)  # x0, y0, x1, y1


def intersection_matrix(gt: Sequence, pred: Sequence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intersection area of every ground-truth quad (rows) with every predicted quad (columns),
    with each side's areas: what IoU, and the coverages the error kinds (:mod:`.errors`) read, are
    made of.

    Only pairs whose bounding boxes overlap are intersected exactly, so a page of a few hundred
    words costs milliseconds, not seconds.
    """
    g, p = _as_array(gt), _as_array(pred)
    out = np.zeros((len(g), len(p)))
    g_area = np.array([_area(q) for q in g])
    p_area = np.array([_area(q) for q in p])
    if not len(g) or not len(p):
        return out, g_area, p_area
    gb, pb = _bounds(g), _bounds(p)
    ix = np.minimum(gb[:, None, 2], pb[None, :, 2]) - np.maximum(gb[:, None, 0], pb[None, :, 0])
    iy = np.minimum(gb[:, None, 3], pb[None, :, 3]) - np.maximum(gb[:, None, 1], pb[None, :, 1])
    for i, j in zip(*np.nonzero((ix > 0) & (iy > 0))):
        out[i, j] = intersection_area(g[i], p[j])
    return out, g_area, p_area


def iou_matrix(gt: Sequence, pred: Sequence) -> np.ndarray:
    """IoU of every ground-truth quad (rows) with every predicted quad (columns)."""
    inter, g_area, p_area = intersection_matrix(gt, pred)
    union = g_area[:, None] + p_area[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def coverage_matrix(regions: Sequence, pred: Sequence) -> np.ndarray:
    """Share of each predicted quad's area (columns) lying inside each region (rows).

    Used for "don't care" regions: ICDAR 2015 drops a detection whose area lies more than half
    inside one, instead of calling it a false positive.
    """
    inter, _, p_area = intersection_matrix(regions, pred)
    return np.divide(inter, p_area[None, :], out=np.zeros_like(inter), where=p_area[None, :] > 0)


@dataclass
class Matching:
    """The pairs ``(gt_index, pred_index, iou)`` and the indices left unmatched on each side."""

    pairs: list[tuple[int, int, float]] = field(default_factory=list)
    unmatched_gt: list[int] = field(default_factory=list)
    unmatched_pred: list[int] = field(default_factory=list)

    @property
    def gt_to_pred(self) -> dict[int, int]:
        return {g: p for g, p, _ in self.pairs}

    @property
    def pred_to_gt(self) -> dict[int, int]:
        return {p: g for g, p, _ in self.pairs}


def match_polygons(gt: Sequence, pred: Sequence, threshold: float = IOU_THRESHOLD) -> Matching:
    """Maximum one-to-one matching of ``gt`` and ``pred`` quads at IoU >= ``threshold``.

    Most pairs, then highest total IoU (see the module docstring for why not greedy).
    """
    from scipy.optimize import linear_sum_assignment

    ious = iou_matrix(gt, pred)
    valid = ious >= threshold
    rows = np.nonzero(valid.any(axis=1))[0]
    cols = np.nonzero(valid.any(axis=0))[0]
    pairs: list[tuple[int, int, float]] = []
    if len(rows):
        sub_valid = valid[np.ix_(rows, cols)]
        sub_iou = ious[np.ix_(rows, cols)]
        # A valid pair is worth 1 plus a tie-breaker smaller than what one more pair is worth:
        # k + 1 pairs always beat k pairs, and among k pairs the larger IoU sum wins.
        eps = 1.0 / (min(len(rows), len(cols)) + 1)
        weight = np.where(sub_valid, 1.0 + eps * sub_iou, 0.0)
        r, c = linear_sum_assignment(weight, maximize=True)
        pairs = [
            (int(rows[i]), int(cols[j]), float(sub_iou[i, j])) for i, j in zip(r, c) if sub_valid[i, j]
        ]
        pairs.sort()
    matched_g = {g for g, _, _ in pairs}
    matched_p = {p for _, p, _ in pairs}
    return Matching(
        pairs=pairs,
        unmatched_gt=[i for i in range(len(ious)) if i not in matched_g],
        unmatched_pred=[j for j in range(ious.shape[1]) if j not in matched_p],
    )
