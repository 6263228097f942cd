"""kocr's page rectifier: the paper found in a photo (:mod:`.paper`) warped flat and upright-ish.

Why a homography from the paper's corners: a phone photo of a page is, to first order, a plane
seen in perspective, and four corners fix a plane's perspective exactly; the detector was
trained on flat pages (docs/benchmarks.md, "Page rectification"). A curled sheet is flattened
only as far as its corners say (its bend stays).

It must never hurt a flat scan, so it leaves a page alone (``skipped``, with the reason) when no
paper edge is found, when the paper fills the picture or runs off it, and when the paper is
already an upright rectangle (``flat_tolerance``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from ..errors import KocrConfigError
from ..interfaces import PageRectification, Rectifier
from .paper import find_paper

__all__ = ["PaperRectifier", "flattening"]


def flattening(corners: np.ndarray, max_side: int | None = None) -> tuple[np.ndarray, int, int]:
    """The homography taking ``corners`` (TL, TR, BR, BL; pixel-edge coordinates) to an upright
    rectangle, and that rectangle's size: as wide as the longer of top and bottom, as tall as
    the longer of the sides (the near end keeps its resolution), at most ``max_side`` long."""
    q = np.asarray(corners, np.float64).reshape(4, 2)
    w = max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3]))
    h = max(np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1]))
    if max_side is not None and max(w, h) > max_side:
        f = max_side / max(w, h)
        w, h = w * f, h * f
    width, height = max(1, int(round(w))), max(1, int(round(h)))
    dst = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    return cv2.getPerspectiveTransform(q.astype(np.float32), dst).astype(np.float64), width, height


class PaperRectifier(Rectifier):
    """Finds the paper in a photo by its edges and flattens its perspective (a homography)."""

    name: ClassVar[str] = "paper"
    priority: ClassVar[int] = 0
    description: ClassVar[str] = "paper outline in a photo (OpenCV) → perspective flattened; flat scans left alone"

    def __init__(self, device: str = "cpu", min_area: float = 0.12, min_contrast: float = 12.0,
                 flat_tolerance: float = 0.01, analysis_side: int = 1000, **options: Any) -> None:
        super().__init__(device, **options)
        if options:
            raise KocrConfigError(f"rectifier 'paper': unknown option(s) {', '.join(sorted(options))} (known: "
                                  "min_area, min_contrast, flat_tolerance, analysis_side)")
        if not 0 < min_area < 1 or min_contrast < 0 or not 0 <= flat_tolerance < 0.5 or analysis_side < 64:
            raise KocrConfigError("rectifier 'paper': min_area must lie in (0, 1), min_contrast ≥ 0, flat_tolerance "
                                  "in [0, 0.5) and analysis_side ≥ 64")
        self.min_area, self.min_contrast = float(min_area), float(min_contrast)
        self.flat_tolerance, self.analysis_side = float(flat_tolerance), int(analysis_side)

    def rectify(self, image: np.ndarray) -> PageRectification:
        found, why = find_paper(image, self.min_area, self.min_contrast, self.analysis_side)
        if found is None:
            return PageRectification(message=why)
        corners = found.corners + 0.5  # pixel centres → the pixel-edge coordinates of every quad
        h, w = image.shape[:2]
        lo, hi = corners.min(axis=0), corners.max(axis=0)
        upright = np.array([lo, [hi[0], lo[1]], hi, [lo[0], hi[1]]])
        off = float(np.linalg.norm(corners - upright, axis=1).max())
        tolerance = max(2.0, self.flat_tolerance * float(min(hi - lo)))
        paper = tuple((float(x), float(y)) for x, y in corners)
        if off <= tolerance:
            return PageRectification(paper=paper, message=f"already flat: the paper's corners lie within {off:.1f} px "
                                     f"of an upright rectangle (tolerance {tolerance:.1f} px)")
        matrix, width, height = flattening(corners, max_side=int(max(h, w) * 1.25))
        return PageRectification(
            matrix=matrix.tolist(), width=width, height=height, paper=paper,
            message=f"paper found ({found.area:.0%} of the picture, edge contrast {found.contrast:.0f}); "
                    f"flattened to {width}×{height}")
