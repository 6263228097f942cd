"""Quadrilaterals and boxes in image pixels, and the few operations every stage needs on them.

A quad is four ``(x, y)`` points in reading order of the text they enclose: top-left, top-right,
bottom-right, bottom-left *as the text reads*. For text rotated by 90° the "top-left" point is
therefore not the one with the smallest coordinates; keeping the reading order in the point order
is what lets a recogniser turn any crop upright without knowing how it was found.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def quad_from_box(box: Sequence[float]) -> Quad:
    """The axis-aligned quad of ``(x0, y0, x1, y1)``, points clockwise from the top-left."""
    x0, y0, x1, y1 = (float(v) for v in box)
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def box_from_quad(quad: Sequence[Sequence[float]]) -> Box:
    """The smallest axis-aligned box holding ``quad``."""
    xs = [float(p[0]) for p in quad]
    ys = [float(p[1]) for p in quad]
    return (min(xs), min(ys), max(xs), max(ys))


def union_box(boxes: Sequence[Sequence[float]]) -> Box:
    """The smallest box holding every box in ``boxes`` (which must not be empty)."""
    arr = np.asarray(boxes, dtype=float)
    return (float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 2].max()), float(arr[:, 3].max()))


def scale_quad(quad: Sequence[Sequence[float]], factor: float) -> Quad:
    """``quad`` with every coordinate multiplied by ``factor`` (for images that were resized)."""
    return tuple((float(x) * factor, float(y) * factor) for x, y in quad)  # type: ignore[return-value]


def quad_size(quad: Sequence[Sequence[float]]) -> tuple[float, float]:
    """Width along the reading direction and height across it, in pixels."""
    q = np.asarray(quad, dtype=float)
    width = (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
    height = (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
    return float(width), float(height)


def rotate_points(points: np.ndarray, angle: int, width: int, height: int) -> np.ndarray:
    """Map points of a ``width``×``height`` image into the same image rotated counter-clockwise
    by ``angle`` degrees (0/90/180/270), the way ``np.rot90`` rotates the pixel array."""
    pts = np.asarray(points, dtype=float).copy()
    x, y = pts[..., 0].copy(), pts[..., 1].copy()
    angle %= 360
    if angle == 0:
        return pts
    if angle == 90:
        pts[..., 0], pts[..., 1] = y, width - x
    elif angle == 180:
        pts[..., 0], pts[..., 1] = width - x, height - y
    elif angle == 270:
        pts[..., 0], pts[..., 1] = height - y, x
    else:
        raise ValueError(f"angle must be a multiple of 90, got {angle}")
    return pts


def grow_quad(quad: Sequence[Sequence[float]], margin: float) -> np.ndarray:
    """``quad`` grown by ``margin`` × its height on every side, along its own axes (so a rotated
    or skewed quad grows in its reading frame, not in image axes)."""
    q = np.asarray(quad, dtype=np.float64)
    if margin == 0:
        return q
    _, h = quad_size(q)
    pad = margin * max(h, 1.0)
    along = (q[1] - q[0]) + (q[2] - q[3])
    across = (q[3] - q[0]) + (q[2] - q[1])
    along /= max(np.linalg.norm(along), 1e-9)
    across /= max(np.linalg.norm(across), 1e-9)
    signs = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    return q + pad * (signs[:, :1] * along + signs[:, 1:] * across)


def crop_quad(image: np.ndarray, quad: Sequence[Sequence[float]], height: int | None = None,
              margin: float = 0.0, others: Sequence[Sequence[Sequence[float]]] = ()) -> np.ndarray:
    """Cut the text inside ``quad`` out of ``image`` and warp it upright (reading left to right).

    The output keeps the quad's aspect ratio; with ``height`` given it is scaled to that height.
    Warping by the quad's point order is what turns rotated text upright. ``margin`` (a fraction
    of the quad's height, on every side) leaves the breathing room recognisers were trained with:
    detector and ground-truth quads hug the ink, training crops do not.

    ``others`` are the quads of neighbouring words: where a side margin reaches into one of
    them, the crop ends where that word begins, so a recogniser does not read the first letter
    of the next word as the last of this one (``10월2`` for ``10월``). The word's own quad is
    always kept whole.
    """
    import cv2

    q = grow_quad(quad, margin).astype(np.float32)
    w, h = quad_size(q)
    w, h = max(1.0, w), max(1.0, h)
    if height is not None:
        w, h = max(1.0, w * height / h), float(height)
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(q, dst)
    size = (int(round(w)), int(round(h)))
    crop = cv2.warpPerspective(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if len(others) and margin > 0:
        crop = _trim_neighbours(crop, matrix, quad, others)
    return crop


def _trim_neighbours(crop: np.ndarray, matrix: np.ndarray, quad: Sequence[Sequence[float]],
                     others: Sequence[Sequence[Sequence[float]]]) -> np.ndarray:
    """``crop`` cut short where its side margins reach into one of ``others`` (image quads).

    Only neighbours beside the word along its line count (they overlap the word's own rows); the
    crop then ends where the neighbour begins, which still leaves a crop recognisers were
    trained on (training margins start at zero). Painting the neighbour out instead leaves a
    flat patch whose edges read as punctuation.
    """
    import cv2

    def warp(points: Sequence[Sequence[float]]) -> np.ndarray:
        pts = np.asarray(points, dtype=np.float32).reshape(-1, 1, 2)
        return np.round(cv2.perspectiveTransform(pts, matrix).reshape(-1, 2)).astype(np.int32)

    own = warp(quad)
    x0, x1 = int(own[:, 0].min()), int(own[:, 0].max())
    y0, y1 = max(0, int(own[:, 1].min())), min(crop.shape[0], int(own[:, 1].max()) + 1)
    if y1 - y0 < 2:
        return crop
    mask = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillPoly(mask, [warp(o) for o in others], 255)
    cols = np.flatnonzero(mask[y0 + (y1 - y0) // 4: y1 - (y1 - y0) // 4].any(axis=0))
    left, right = 0, crop.shape[1]
    before, after = cols[cols < x0], cols[cols > x1]
    if before.size:
        left = int(before.max()) + 1
    if after.size:
        right = int(after.min())
    if left == 0 and right == crop.shape[1]:
        return crop
    return crop[:, left:right]


def neighbour_quads(quads: Sequence[Sequence[Sequence[float]]], margin: float) -> list[list[np.ndarray]]:
    """For each quad, the other quads whose bounding box meets its box grown by ``margin`` × its height."""
    if not len(quads):
        return []
    arr = np.asarray(quads, dtype=np.float64).reshape(len(quads), 4, 2)
    lo, hi = arr.min(axis=1), arr.max(axis=1)
    pad = margin * np.array([max(quad_size(q)[1], 1.0) for q in arr])[:, None]
    glo, ghi = lo - pad, hi + pad
    meets = np.all((glo[:, None, :] <= hi[None, :, :]) & (lo[None, :, :] <= ghi[:, None, :]), axis=2)
    np.fill_diagonal(meets, False)
    return [[arr[j] for j in np.flatnonzero(row)] for row in meets]


def turn_upright(image: np.ndarray, orientation: int) -> tuple[np.ndarray, Callable[[Quad], Quad]]:
    """``image`` turned so that text at ``orientation`` (90 or 270: the clockwise turn that makes
    the page upright, the detector's convention) reads left to right, and a function mapping a
    quad in the turned image back to ``image``'s pixels (point order, hence reading direction, kept)."""
    h, w = image.shape[:2]
    if orientation % 360 == 270:  # a quarter turn counter-clockwise: (x, y) -> (y, w - x)
        return np.ascontiguousarray(np.rot90(image, 1)), lambda q: tuple((w - y, x) for x, y in q)  # type: ignore[return-value]
    if orientation % 360 == 90:  # a quarter turn clockwise: (x, y) -> (h - y, x)
        return np.ascontiguousarray(np.rot90(image, 3)), lambda q: tuple((y, h - x) for x, y in q)  # type: ignore[return-value]
    raise ValueError(f"turn_upright turns sideways pages (90 or 270), not {orientation}")


def reading_orientation(quads: Sequence[Sequence[Sequence[float]]]) -> int:
    """The page orientation (detector convention: the clockwise turn that makes it upright) most
    quads read in, from each quad's first edge; 0 when there are none."""
    votes = [0, 0, 0, 0]
    for q in quads:
        (x0, y0), (x1, y1) = q[0], q[1]
        direction = int(round(math.degrees(math.atan2(y1 - y0, x1 - x0)) / 90)) % 4  # clockwise from +x
        votes[direction] += 1
    return (4 - int(np.argmax(votes))) % 4 * 90 if any(votes) else 0


def apply_homography(matrix: Sequence[Sequence[float]], points: Sequence[Sequence[float]]) -> np.ndarray:
    """(N, 2) points mapped by a 3×3 matrix (a perspective transform of pixel coordinates)."""
    m = np.asarray(matrix, dtype=np.float64).reshape(3, 3)
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    h = p @ m[:, :2].T + m[:, 2]
    return h[:, :2] / h[:, 2:3]


def warp_homography(image: np.ndarray, matrix: Sequence[Sequence[float]], width: int, height: int) -> np.ndarray:
    """``image`` warped by ``matrix`` into a ``width``×``height`` image.

    ``matrix`` maps the continuous coordinates every quad uses (pixel ``(r, c)`` covers
    ``[c, c+1) × [r, r+1)``); OpenCV's warp maps pixel centres, so the matrix is conjugated by
    the half-pixel shift between the two, and a quad mapped by ``matrix`` lands on its pixels.
    """
    import cv2

    t = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1.0]])
    centres = np.linalg.inv(t) @ np.asarray(matrix, dtype=np.float64).reshape(3, 3) @ t
    return cv2.warpPerspective(image, centres, (int(width), int(height)), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
