"""The page's reading frame: coordinates in which text reads left to right, top to bottom.

Clustering and reading order reason about "same line", "right of" and "below". On a page turned
by 90° or scanned with a few degrees of skew those words mean nothing in image axes, so every
quad is first rotated into the frame where the text is upright; results are rotated back, which
keeps Line and Block quads in reading order (top-left *as the text reads* first), like words'.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..document import Page, Word
from ..geometry import Quad


@dataclass(frozen=True)
class ReadingFrame:
    """A rotation by ``angle`` (radians, image axes with y down) that maps the reading direction to +x."""

    angle: float = 0.0

    @classmethod
    def for_page(cls, page: Page, deskew: bool = True, quads: np.ndarray | None = None) -> "ReadingFrame":
        """The frame of ``page``: from its words' own reading direction, else from ``page.orientation``.

        Word quads list their points in reading order, so ``(TR - TL) + (BR - BL)`` points the way
        the text reads; a length-weighted circular mean of those directions gives both the page's
        rotation and its skew; where a word's characters climb or fall across its quad, their slope
        corrects its direction (:func:`_char_skew`). When the page says it is turned (``orientation``) but the quads
        disagree by a quarter turn or more, the quads came from a detector that only knows
        axis-aligned boxes, and the page's orientation wins. ``quads`` (N, 4, 2) saves
        converting the words' quads again when the caller already has them.
        """
        turned = -math.radians(page.orientation % 360)
        if not deskew or not page.words:
            return cls(_wrap(turned))
        if quads is None:
            quads = np.asarray([w.quad for w in page.words], dtype=np.float64)
        direction = (quads[:, 1] - quads[:, 0]) + (quads[:, 2] - quads[:, 3])
        weight = np.linalg.norm(direction, axis=1)
        if weight.sum() <= 0:
            return cls(_wrap(turned))
        angles = np.arctan2(direction[:, 1], direction[:, 0])
        mean = _circular_mean(angles, weight)
        # again without the words far off that direction (a vertical label, a box read sideways):
        # one 90° word among a hundred level ones would otherwise tilt the frame by a degree
        near = np.abs(np.arctan2(np.sin(angles - mean), np.cos(angles - mean))) < OUTLIER_ANGLE
        if near.any() and weight[near].sum() > 0:
            mean = _circular_mean(angles[near], weight[near])
        slopes, sloped = _char_skew(page, angles)
        if sloped.any():  # only words with enough letters vote on the skew; the rest cannot see it
            mean += float(np.average(slopes[sloped], weights=weight[sloped]))
        if page.orientation and abs(_wrap(mean - turned)) >= math.pi / 4:
            return cls(_wrap(turned))
        return cls(mean)

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """Points (..., 2) in image pixels → the same points in the reading frame."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        x, y = points[..., 0], points[..., 1]
        return np.stack([x * c + y * s, -x * s + y * c], axis=-1)

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """Points (..., 2) in the reading frame → image pixels."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        x, y = points[..., 0], points[..., 1]
        return np.stack([x * c - y * s, x * s + y * c], axis=-1)

    def quad_of(self, box: Sequence[float]) -> Quad:
        """The image-space quad of a frame box ``(x0, y0, x1, y1)``, its points in reading order."""
        x0, y0, x1, y1 = box
        corners = self.to_image(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64))
        return tuple((float(x), float(y)) for x, y in corners)  # type: ignore[return-value]

    def page_box(self, page: Page) -> tuple[float, float, float, float]:
        """The page's own rectangle in frame coordinates (for page-relative regions)."""
        w, h = page.width, page.height
        corners = self.to_frame(np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64))
        return (float(corners[:, 0].min()), float(corners[:, 1].min()),
                float(corners[:, 0].max()), float(corners[:, 1].max()))


@dataclass(frozen=True)
class WordGeometry:
    """Every word of a page in the reading frame, as arrays (one row per word, in ``page.words`` order).

    ``boxes`` are axis-aligned in the frame; ``heights`` are each quad's own height across its
    reading direction, which stays true for a long word that residual skew would make look tall.
    """

    frame: ReadingFrame
    boxes: np.ndarray  # (N, 4) x0, y0, x1, y1
    heights: np.ndarray  # (N,)

    @classmethod
    def of(cls, words: Sequence[Word] | np.ndarray, frame: ReadingFrame) -> "WordGeometry":
        """Geometry of ``words`` (Word objects, or their quads as an (N, 4, 2) array)."""
        if len(words) == 0:
            return cls(frame, np.zeros((0, 4)), np.zeros(0))
        quads = words if isinstance(words, np.ndarray) else np.asarray([w.quad for w in words], dtype=np.float64)
        pts = frame.to_frame(quads)
        boxes = np.concatenate([pts.min(axis=1), pts.max(axis=1)], axis=1)
        across = (np.linalg.norm(quads[:, 3] - quads[:, 0], axis=1) + np.linalg.norm(quads[:, 2] - quads[:, 1], axis=1)) / 2
        # A quad whose own reading direction is off the frame's by 45° or more (a box-only
        # detector on a turned page) has its height along the text: use its extent in the frame.
        direction = frame.to_frame((quads[:, 1] - quads[:, 0]) + (quads[:, 2] - quads[:, 3]))
        aligned = np.abs(direction[:, 0]) > np.abs(direction[:, 1])
        heights = np.maximum(np.where(aligned, across, boxes[:, 3] - boxes[:, 1]), 1e-3)
        return cls(frame, boxes, heights)


#: Words whose direction is further than this from the page's are left out of its skew.
OUTLIER_ANGLE = math.radians(30)
#: Words with fewer characters say little about the baseline's slope.
MIN_SKEW_CHARS = 3
#: A slope steeper than this against the word's own box is a misassigned character, not skew.
MAX_CHAR_SKEW = math.radians(15)


def _char_skew(page: Page, angles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per word, the angle between its quad's direction and the line through its characters'
    centres; and which words had the letters to measure it.

    Why: a detector that knows only axis-aligned boxes (the shipped anchor-free one) gives a page
    scanned 3° askew perfectly level word quads, so the frame would not deskew it; but the
    centres of a word's characters still climb or fall with the baseline. Across a 350-pixel gap
    between a label and its value, 3° is 18 pixels — most of a text row — so without this the
    two no longer share a row. Least-squares slope of the centres in each word's own frame;
    words with too few characters, or an implausible slope, are left out of the vote (a page of
    short words and one long one must not read as level because most words cannot tell).
    """
    owners, centres = [], []
    for i, word in enumerate(page.words):
        if len(word.chars) >= MIN_SKEW_CHARS:
            owners.extend([i] * len(word.chars))
            centres.extend(np.asarray(c.quad, dtype=np.float64).mean(axis=0) for c in word.chars)
    skew = np.zeros(len(page.words))
    sloped = np.zeros(len(page.words), dtype=bool)
    if not owners:
        return skew, sloped
    own = np.asarray(owners)
    pts = np.asarray(centres)
    cos, sin = np.cos(angles[own]), np.sin(angles[own])
    u = pts[:, 0] * cos + pts[:, 1] * sin  # along the word's quad
    v = -pts[:, 0] * sin + pts[:, 1] * cos  # across it
    n = np.bincount(own, minlength=len(skew)).astype(np.float64)
    has = n > 0
    mu = np.bincount(own, u, len(skew))[has] / n[has]
    mv = np.bincount(own, v, len(skew))[has] / n[has]
    du = u - np.repeat(mu, n[has].astype(int))
    dv = v - np.repeat(mv, n[has].astype(int))
    suu = np.bincount(own, du * du, len(skew))[has]
    suv = np.bincount(own, du * dv, len(skew))[has]
    slope = np.arctan2(suv, np.where(suu > 0, suu, 1.0))
    ok = (suu > 0) & (np.abs(slope) <= MAX_CHAR_SKEW)
    skew[has] = np.where(ok, slope, 0.0)
    sloped[np.nonzero(has)[0][ok]] = True
    return skew, sloped


def _circular_mean(angles: np.ndarray, weight: np.ndarray) -> float:
    return math.atan2(float((weight * np.sin(angles)).sum()), float((weight * np.cos(angles)).sum()))


def _wrap(angle: float) -> float:
    """``angle`` in (-π, π]."""
    return math.atan2(math.sin(angle), math.cos(angle))
