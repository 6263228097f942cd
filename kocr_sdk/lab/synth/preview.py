"""Pictures of generated data, for looking at it (docs/data.md) before training on it.

Looking is the only check that catches a whole class of generator bugs — boxes a few pixels
off, text that came out illegible, a degradation that is far too strong — so these helpers are
part of the package: ``kocr synth`` users can draw their own data the same way.
"""

from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np

__all__ = ["draw_overlay", "crop_grid"]


def draw_overlay(image: np.ndarray, record: dict[str, Any], chars: bool = True, thickness: int = 1) -> np.ndarray:
    """``image`` (RGB) with the ground truth drawn on it: words red, characters green, the first
    point of each word (its reading-order top-left) blue, "don't care" words grey."""
    out = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    for w in record.get("words", []):
        colour = (150, 150, 150) if w.get("ignore") else (220, 30, 30)
        if chars:
            for c in w.get("chars", []):
                _poly(out, c["poly"], (20, 170, 40), thickness)
        _poly(out, w["poly"], colour, thickness)
        x, y = w["poly"][0]
        cv2.circle(out, (int(round(x)), int(round(y))), max(2, thickness + 1), (30, 60, 230), -1, cv2.LINE_AA)
    return out


def _poly(img: np.ndarray, poly: Sequence[Sequence[float]], colour: tuple[int, int, int], thickness: int) -> None:
    pts = np.round(np.asarray(poly, np.float64) * 4).astype(np.int32)
    cv2.polylines(img, [pts], True, colour, thickness, cv2.LINE_AA, shift=2)


def crop_grid(crops: Sequence[np.ndarray], columns: int = 2, height: int = 40, width: int = 380, gap: int = 6) -> np.ndarray:
    """Crops scaled to ``height`` (aspect kept, cut at ``width``) in a grid on a grey background."""
    rows = -(-len(crops) // columns)
    grid = np.full((rows * (height + gap) + gap, columns * (width + gap) + gap, 3), 128, np.uint8)
    for i, crop in enumerate(crops):
        rgb = crop if crop.ndim == 3 else cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB)
        w = max(1, int(round(rgb.shape[1] * height / rgb.shape[0])))
        tile = cv2.resize(rgb, (w, height), interpolation=cv2.INTER_AREA)[:, :width]
        r, c = divmod(i, columns)
        y, x = gap + r * (height + gap), gap + c * (width + gap)
        grid[y:y + height, x:x + width] = 255
        grid[y:y + height, x:x + tile.shape[1]] = tile
    return grid
