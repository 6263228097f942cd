"""Finding the sheet of paper in a photo: the largest bright quadrilateral with an edge all round.

A phone photo shows the page at an angle, on a table; the detector reads flat, upright pages
best (docs/benchmarks.md, "Page rectification"). This module only *finds* the paper's four
corners with classic image processing (OpenCV), and says why when it finds none:

1. The picture is analysed at about 1,000 pixels (``analysis_side``); the paper is whatever
   differs from the picture's border (the table: colour distance from the border's median
   colour, thresholded by Otsu) or is brighter than it (lightness, Otsu), so two segmentations
   give candidates; each candidate's largest region is closed over its text and reduced to the
   quadrilateral around its convex hull.
2. A candidate counts only when its region fills the quadrilateral (a sheet merged with a
   bright patch of the table does not) and each of its four sides is a real paper edge: the
   picture on either side of it differs along most of the side (``min_contrast``, in Lab units),
   and no side lies on the picture's border (a page that runs off the picture cannot be flattened from its corners). A ruled box
   on a flat scan has paper on both sides of its lines, so it is never taken for the paper.
3. A line is fitted (Huber) to each side's outline points away from the corners, then moved at
   full resolution onto the strongest lightness step across it where those steps line up (a
   patterned tablecloth's do not); the paper's corners are where the lines meet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["PaperQuad", "find_paper", "order_corners"]


@dataclass(frozen=True)
class PaperQuad:
    """The paper's corners (TL, TR, BR, BL as the picture shows them, (4, 2) pixel coordinates)
    and how sure the finder is of each side (the smallest contrast across a side)."""

    corners: np.ndarray
    contrast: float
    area: float  # share of the picture


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Four points clockwise on screen from the one nearest the top-left, so that the flattened
    page is turned as little as possible (a sideways page stays sideways: the detector turns it)."""
    pts = np.asarray(pts, np.float64).reshape(4, 2)
    c = pts.mean(axis=0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    pts = pts[np.argsort(ang)]  # clockwise on screen (y grows downwards)
    start = int(np.argmin(pts[:, 0] + pts[:, 1]))
    return np.roll(pts, -start, axis=0)


def _quad_of(contour: np.ndarray) -> np.ndarray | None:
    """The four-cornered polygon approximating a region's convex hull, or None."""
    hull = cv2.convexHull(contour)
    peri = cv2.arcLength(hull, True)
    for eps in (0.01, 0.02, 0.03, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float64)
        if len(approx) < 4:
            return None
    return None


def _angles_ok(q: np.ndarray, lo: float = 35.0) -> bool:
    for i in range(4):
        a, b, c = q[i - 1], q[i], q[(i + 1) % 4]
        u, v = a - b, c - b
        cos = float(np.dot(u, v) / max(np.linalg.norm(u) * np.linalg.norm(v), 1e-9))
        ang = math.degrees(math.acos(max(-1.0, min(1.0, cos))))
        if not lo <= ang <= 180 - lo:
            return False
    return cv2.isContourConvex(q.astype(np.float32).reshape(-1, 1, 2))


def _regions(lab: np.ndarray) -> list[np.ndarray]:
    """Binary masks of 'paper' by two segmentations (different from the border; brighter)."""
    h, w = lab.shape[:2]
    border = np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]).astype(np.float32)
    ref = np.median(border, axis=0)
    dist = np.linalg.norm(lab.astype(np.float32) - ref, axis=2)
    dist = cv2.GaussianBlur(dist, (0, 0), 2.0)
    masks = []
    d8 = np.clip(dist * 2, 0, 255).astype(np.uint8)
    if float(d8.max()) > 20:
        _, m = cv2.threshold(d8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        masks.append(m)
    light = cv2.GaussianBlur(lab[..., 0], (0, 0), 2.0)
    _, m = cv2.threshold(light, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    masks.append(m)
    k = max(3, (min(h, w) // 60) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    out = []
    for m in masks:
        m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, kernel)  # close the paper over its text
        m = cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel)  # cut thin bridges to the table's texture
        out.append(m)
    out.append(_edge_regions(light))
    return out


def _edge_regions(light: np.ndarray) -> np.ndarray:
    """Regions enclosed by sharp edges (a shadow's edge is soft, the paper's is not): where a
    threshold on lightness fails under uneven light, the paper's outline still closes."""
    gx = cv2.Sobel(light, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(light, cv2.CV_32F, 0, 1, ksize=3)
    mag = cv2.magnitude(gx, gy)
    hi = max(40.0, float(np.percentile(mag, 97)))
    edges = cv2.Canny(light, hi * 0.4, hi, L2gradient=True)
    edges = cv2.dilate(edges, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    h, w = light.shape
    filled = np.zeros((h + 2, w + 2), np.uint8)
    inv = cv2.bitwise_not(edges)
    # what the border's flood does not reach is enclosed by edges
    for seed in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)):
        if inv[seed[1], seed[0]] and not filled[seed[1] + 1, seed[0] + 1]:
            cv2.floodFill(inv, filled, seed, 0)
    region = cv2.bitwise_or(inv, edges)
    region[filled[1:-1, 1:-1] > 0] = 0
    k = max(5, (min(h, w) // 60) | 1)  # cut edge chains that tie the sheet to the table's texture
    return cv2.morphologyEx(region, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))


def _side_contrast(lab: np.ndarray, q: np.ndarray, gap: float) -> list[float]:
    """For each side, the Lab difference between points just inside and just outside it that
    three quarters of the side exceed; -1 for a side that lies on the picture's border."""
    h, w = lab.shape[:2]
    c = q.mean(axis=0)
    out = []
    for i in range(4):
        a, b = q[i], q[(i + 1) % 4]
        if (max(a[0], b[0]) < 3 or min(a[0], b[0]) > w - 4 or max(a[1], b[1]) < 3 or min(a[1], b[1]) > h - 4):
            out.append(-1.0)
            continue
        t = np.linspace(0.1, 0.9, 24)[:, None]
        pts = a + (b - a) * t
        n = np.array([(b - a)[1], -(b - a)[0]]) / max(np.linalg.norm(b - a), 1e-9)
        if np.dot(c - a, n) < 0:
            n = -n  # n points inwards
        inner = np.round(pts + n * gap).astype(int)
        outer = np.round(pts - n * gap).astype(int)
        ok = ((outer[:, 0] >= 0) & (outer[:, 0] < w) & (outer[:, 1] >= 0) & (outer[:, 1] < h)
              & (inner[:, 0] >= 0) & (inner[:, 0] < w) & (inner[:, 1] >= 0) & (inner[:, 1] < h))
        if ok.sum() < 6:
            out.append(-1.0)
            continue
        d = np.linalg.norm(lab[inner[ok, 1], inner[ok, 0]].astype(np.float32)
                           - lab[outer[ok, 1], outer[ok, 0]].astype(np.float32), axis=1)
        out.append(float(np.percentile(d, 25)))  # an edge along most of the side, not just part of it
    return out


def _side_lines(contour: np.ndarray, q: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """A line (point, direction) fitted to each side's outline points, away from the corners.

    The polygon's corners sit on outline pixels a pixel or two off; a line fitted (Huber) to a
    side's hundreds of points, away from the corners (curled or torn corners are rounded), is
    far steadier. Falls back to the polygon's side where too few points lie along it.
    """
    pts = contour.reshape(-1, 2).astype(np.float64)
    c = q.mean(axis=0)
    lines = []
    for i in range(4):
        a, b = q[i], q[(i + 1) % 4]
        length = max(float(np.linalg.norm(b - a)), 1e-9)
        u = (b - a) / length
        n = np.array([u[1], -u[0]])
        if np.dot(c - a, n) > 0:
            n = -n  # outwards
        t = (pts - a) @ u
        d = (pts - a) @ n
        near = (t > 0.08 * length) & (t < 0.92 * length) & (np.abs(d) < max(3.0, 0.03 * length))
        if near.sum() < 8:
            lines.append((a, u))
            continue
        vx, vy, x0, y0 = cv2.fitLine(pts[near].astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0], np.float64), np.array([vx, vy], np.float64)))
    return lines


def _refine(gray: np.ndarray, lines: list[tuple[np.ndarray, np.ndarray]], centre: np.ndarray,
            reach: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each side moved onto the strongest lightness step across it at full resolution, where
    those steps line up (a paper edge is straight; a patterned tablecloth's steps are not)."""
    h, w = gray.shape
    g = cv2.GaussianBlur(gray, (0, 0), 1.0).astype(np.float32)
    corners = _meet(lines)
    out = []
    for i, (p0, u) in enumerate(lines):
        a, b = corners[i], corners[(i + 1) % 4]
        length = float(np.linalg.norm(b - a))
        n = np.array([u[1], -u[0]])
        if np.dot(centre - p0, n) > 0:
            n = -n  # outwards
        ts = np.linspace(0.1, 0.9, max(8, int(length / 5)))
        offs = np.arange(-reach, reach + 0.25, 0.5)
        base = a + (b - a) * ts[:, None]
        samples = base[:, None, :] + offs[None, :, None] * n
        prof = cv2.remap(g, samples[..., 0].astype(np.float32), samples[..., 1].astype(np.float32), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
        step = np.diff(prof, axis=1)  # along the outward normal
        sign = -1.0 if np.median(step.sum(axis=1)) < 0 else 1.0  # paper lighter (or darker) than the table
        step = step * sign
        j = np.argmax(step, axis=1)
        best = step[np.arange(len(ts)), j]
        inside = ((base[:, 0] > 2) & (base[:, 0] < w - 3) & (base[:, 1] > 2) & (base[:, 1] < h - 3))
        keep = inside & (best > max(3.0, 0.5 * float(np.median(best))))
        if keep.sum() < max(6, 0.5 * len(ts)):
            out.append((p0, u))
            continue
        pts = base[keep] + ((offs[j[keep]] + 0.25)[:, None]) * n
        vx, vy, x0, y0 = cv2.fitLine(pts.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        d = np.array([vx, vy], np.float64)
        res = np.abs((pts - [x0, y0]) @ np.array([-vy, vx]))
        if np.median(res) > 0.75 or (res < 1.5).mean() < 0.6:
            out.append((p0, u))  # the steps do not line up: not the paper's edge
            continue
        out.append((np.array([x0, y0], np.float64), d))
    return out


def _meet(lines: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Corner i where side i-1 and side i meet."""
    out = []
    for i in range(4):
        (p1, d1), (p2, d2) = lines[i - 1], lines[i]
        m = np.array([d1, -d2]).T
        if abs(np.linalg.det(m)) < 1e-9:
            out.append(p2)
            continue
        s = np.linalg.solve(m, p2 - p1)
        out.append(p1 + d1 * s[0])
    return np.array(out)


def find_paper(image: np.ndarray, min_area: float = 0.12, min_contrast: float = 12.0,
               analysis_side: int = 1000) -> tuple[PaperQuad | None, str]:
    """The paper in ``image`` (RGB uint8), or None and why none was taken."""
    h, w = image.shape[:2]
    f = min(1.0, analysis_side / max(h, w))
    small = cv2.resize(image, (max(8, round(w * f)), max(8, round(h * f))), interpolation=cv2.INTER_AREA) if f < 1 else image
    sh, sw = small.shape[:2]
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)
    gap = max(3.0, 0.012 * math.hypot(sw, sh))
    best: PaperQuad | None = None
    why = "no paper edge found: nothing in the picture stands apart from its border"
    for mask in _regions(lab):
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        order = np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:3] + 1
        for idx in order:
            area = stats[idx, cv2.CC_STAT_AREA] / float(sw * sh)
            if area < min_area:
                break
            region = (labels == idx).astype(np.uint8)
            contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            if not contours:
                continue
            outline = max(contours, key=cv2.contourArea)
            q = _quad_of(outline)
            if q is None or not _angles_ok(order_corners(q)):
                why = "no paper edge found: the brightest region is not a quadrilateral"
                continue
            q = order_corners(q)
            qa = cv2.contourArea(q.astype(np.float32)) / float(sw * sh)
            if area < 0.9 * qa:  # the region fills its quadrilateral, as a sheet does (not paper merged with a table)
                why = "no paper edge found: the bright region does not fill a quadrilateral"
                continue
            if qa < min_area or qa > 0.985:
                why = ("no paper edge found: the paper fills the picture" if qa > 0.985
                       else "no paper edge found: the largest quadrilateral is too small to be the page")
                continue
            contrast = _side_contrast(lab, q, gap)
            if min(contrast) < 0:
                why = "paper runs off the picture: a side lies on the picture's border"
                continue
            if min(contrast) < min_contrast:
                why = f"no paper edge found: a side of the quadrilateral has contrast {min(contrast):.1f} < {min_contrast:g}"
                continue
            if best is None or qa > best.area:
                best, best_lines = PaperQuad(q, float(min(contrast)), float(qa)), _side_lines(outline, q)
    if best is None:
        return None, why
    # to full size (pixel centres), then onto the edges the full-size picture shows
    lines = [((p + 0.5) / f - 0.5, d) for p, d in best_lines]
    centre = (best.corners.mean(axis=0) + 0.5) / f - 0.5
    coarse = _meet(lines)
    lines = _refine(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), lines, centre, reach=max(3.0, 2.0 / f))
    corners = _meet(lines)
    if np.abs(corners - coarse).max() > max(6.0, 4.0 / f):
        corners = coarse  # refined sides that meet far from the outline's corners: keep the outline's
    return PaperQuad(order_corners(corners), best.contrast, best.area), "paper found"
