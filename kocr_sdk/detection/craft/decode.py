"""CRAFT's post-processing: threshold, union, connected components → words and characters.

1. **Words.** A cell is text when ``region ≥ region_threshold`` or ``affinity ≥
   affinity_threshold``; the 8-connected components of that union
   (``cv2.connectedComponentsWithStats``) are the word candidates. A candidate is a word when
   it has at least ``min_area`` cells and its highest region value reaches ``text_threshold``
   (CRAFT's ``text_threshold``: a smudge of affinity alone, or a faint blob, is not a word).
   Its score is that highest region value, clipped to [0, 1]: the region map is a regression
   with no sigmoid, and a confident peak overshoots 1.
2. **Characters.** The components of ``region ≥ char_threshold`` inside the kept words. A
   thresholded Gaussian is an ellipse over the central ``r = sigma·sqrt(-2·ln t)`` of its
   box's half-size (:mod:`.targets`), so each character's box is its component's extent
   scaled by ``1 / r`` about its centre — the box the target Gaussian was drawn on.
3. **Word boxes.** The union of the word's character boxes and of its component's own
   extent. The component alone is too small — it stops where the region Gaussian of the first
   and last characters falls below the threshold, about a third of a character short at each
   end — and the characters put that back.
4. **Orientation.** There is no orientation head: every word and the page are reported at
   0°, with no confidence. Characters are ordered along the longer side of their word box
   (left to right, or top to bottom for a word taller than wide).

All boxes are axis-aligned (``x0, y0, x1, y1``), in the pixels of the decoded image, clipped
to it: padding beyond ``height``×``width`` never yields a detection.

Why this is the AS-IS design: words are whatever the thresholds connect, so two words
whose heatmaps touch merge into one, a letter-spaced label splits into several, and the work
is per pixel (a dense page has ~550k cells at stride 2) before it is per box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..anchor_free.decode import Decoded


class CraftDecodeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region_threshold: float = Field(0.4, gt=0, lt=1, description="CRAFT's low_text: a cell is text from here on.")
    affinity_threshold: float = Field(0.4, gt=0, lt=1, description="CRAFT's link_threshold.")
    text_threshold: float = Field(0.7, gt=0, lt=1, description="A word's highest region value must reach this.")
    char_threshold: float = Field(0.4, gt=0, lt=1, description="Characters: components of region ≥ this.")
    min_area: int = Field(2, ge=1, description="Cells a word component needs at least.")

    @model_validator(mode="after")
    def _ordered(self) -> "CraftDecodeConfig":
        if self.char_threshold > self.text_threshold:
            raise ValueError("char_threshold above text_threshold would leave words without characters")
        return self


@dataclass
class CraftDecoded(Decoded):
    """:class:`Decoded` from heatmaps: orientation is unknown (always 0), so a word's height is
    the shorter side of its box — the longer one on a page turned by 90° would be its length."""

    def text_heights(self) -> np.ndarray:
        b = self.word_boxes
        return np.minimum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])


def extent_ratio(threshold: float, sigma: float) -> float:
    """Share of a box's half-size where its Gaussian falls to ``threshold`` (≤ 1: the Gaussian
    is cut at the box's edge)."""
    return min(1.0, sigma * math.sqrt(-2.0 * math.log(threshold)))


def _peaks(labels: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Highest value of each label ``0..n-1`` and the row and column where it is (−inf and 0 for
    labels without cells, such as the background)."""
    best = np.full(n, -np.inf)
    rows, cols = np.zeros(n, np.int64), np.zeros(n, np.int64)
    ys, xs = np.nonzero(labels)
    if len(ys):
        v = values[ys, xs]
        order = np.argsort(-v, kind="stable")
        lab = labels[ys, xs][order]
        uniq, first = np.unique(lab, return_index=True)
        best[uniq], rows[uniq], cols[uniq] = v[order][first], ys[order][first], xs[order][first]
    return best, rows, cols


def _crossing(grid: np.ndarray, line: np.ndarray, inner: np.ndarray, outer: np.ndarray, threshold: float) -> np.ndarray:
    """Where ``grid[line]`` falls to ``threshold`` between the cells ``inner`` (≥ it) and
    ``outer`` (< it), as a fraction of the way from one to the other (linear interpolation)."""
    v_in, v_out = grid[line, inner], grid[line, outer]
    return np.clip((v_in - threshold) / np.maximum(v_in - v_out, 1e-6), 0.0, 1.0)


def _extents(values: np.ndarray, stats: np.ndarray, peak_y: np.ndarray, peak_x: np.ndarray, threshold: float,
             stride: int) -> np.ndarray:
    """Pixel boxes where each component's map crosses ``threshold`` — to a fraction of a cell.

    The component's outermost cells along the row and the column of its peak are interpolated
    against their outside neighbours; where the outermost cell is not on that line (a ragged
    blob) or the map ends, the cell's edge is used. At stride 2 a cell is a quarter of an
    8-pixel character: without interpolation its box would be off by up to a cell per side.
    """
    import cv2

    h, w = values.shape
    left = stats[:, cv2.CC_STAT_LEFT].astype(np.int64)
    top = stats[:, cv2.CC_STAT_TOP].astype(np.int64)
    right = left + stats[:, cv2.CC_STAT_WIDTH] - 1
    bottom = top + stats[:, cv2.CC_STAT_HEIGHT] - 1
    edges = []
    for lo, hi, line, _other, size, horizontal in ((left, right, peak_y, peak_x, w, True),
                                                  (top, bottom, peak_x, peak_y, h, False)):
        grid = values if horizontal else values.T
        lo_out, hi_out = np.maximum(lo - 1, 0), np.minimum(hi + 1, size - 1)
        lo_ok = (lo > 0) & (grid[line, lo] >= threshold)
        hi_ok = (hi < size - 1) & (grid[line, hi] >= threshold)
        lo_frac = _crossing(grid, line, lo, lo_out, threshold)
        hi_frac = _crossing(grid, line, hi, hi_out, threshold)
        # cell centres are at (index + 0.5)·stride; the fallback is the outer cell edge
        lo_px = np.where(lo_ok, (lo + 0.5 - lo_frac) * stride, lo * stride)
        hi_px = np.where(hi_ok, (hi + 0.5 + hi_frac) * stride, (hi + 1) * stride)
        edges.append((lo_px, hi_px))
    (x0, x1), (y0, y1) = edges
    return np.stack([x0, y0, x1, y1], axis=1).astype(np.float64)


def _grown(boxes: np.ndarray, ratio: float) -> np.ndarray:
    """Boxes scaled by ``1 / ratio`` about their centres."""
    c = np.stack([boxes[:, 0] + boxes[:, 2], boxes[:, 1] + boxes[:, 3]], axis=1) / 2
    half = np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1) / (2 * ratio)
    return np.concatenate([c - half, c + half], axis=1)


def _empty() -> CraftDecoded:
    z4, z = np.zeros((0, 4)), np.zeros(0)
    return CraftDecoded(z4, z, np.zeros(0, np.int64), z, z4.copy(), z.copy(), np.zeros(0, np.int64), 0, None)


def _map(value: Any) -> np.ndarray:
    """One (…, H', W') heatmap as a float32 (H', W') array; torch tensors are converted (this
    module imports no torch, so registering the stage does not load it)."""
    if not isinstance(value, np.ndarray):
        value = value.detach().float().cpu().numpy()
    return np.asarray(value, dtype=np.float32).reshape(value.shape[-2:])


def decode(out: dict[str, Any], height: int, width: int, cfg: CraftDecodeConfig | None = None,
           stride: int = 2, sigma: float = 0.5) -> CraftDecoded:
    """Decode one image's heatmaps (each (1, 1, H', W') or (1, H', W')); ``sigma`` is the
    training targets' (:class:`~.targets.CraftTargetConfig`)."""
    import cv2

    cfg = cfg or CraftDecodeConfig()
    region, affinity = _map(out["region"]), _map(out["affinity"])
    mh, mw = min(region.shape[0], math.ceil(height / stride)), min(region.shape[1], math.ceil(width / stride))
    region, affinity = region[:mh, :mw], affinity[:mh, :mw]  # the padding holds no text

    text = ((region >= cfg.region_threshold) | (affinity >= cfg.affinity_threshold)).astype(np.uint8)
    n_words, word_labels, word_stats, _ = cv2.connectedComponentsWithStats(text, connectivity=8)
    peak, _, _ = _peaks(word_labels, region, n_words)
    keep = (word_stats[:, cv2.CC_STAT_AREA] >= cfg.min_area) & (peak >= cfg.text_threshold)
    keep[0] = False  # background
    if not keep.any():
        return _empty()
    kept_mask = keep[word_labels]

    chars = ((region >= cfg.char_threshold) & kept_mask).astype(np.uint8)
    n_chars, char_labels, char_stats, _ = cv2.connectedComponentsWithStats(chars, connectivity=8)
    owner_word = np.zeros(n_chars, np.int64)
    owner_word[char_labels[chars > 0]] = word_labels[chars > 0]  # every cell of a character lies in one word
    char_peak, peak_y, peak_x = _peaks(char_labels, region, n_chars)

    word_ids = np.nonzero(keep)[0]
    index_of = np.full(n_words, -1, np.int64)
    index_of[word_ids] = np.arange(len(word_ids))
    char_ids = np.arange(1, n_chars)
    extents = _extents(region, char_stats[char_ids], peak_y[char_ids], peak_x[char_ids], cfg.char_threshold, stride)
    char_boxes = _grown(extents, extent_ratio(cfg.char_threshold, sigma))
    char_word = index_of[owner_word[char_ids]]

    st = word_stats[word_ids].astype(np.float64)
    word_boxes = np.stack([st[:, 0], st[:, 1], st[:, 0] + st[:, 2], st[:, 1] + st[:, 3]], axis=1) * stride
    if len(char_ids):  # grow each word to hold its characters
        np.minimum.at(word_boxes[:, 0], char_word, char_boxes[:, 0])
        np.minimum.at(word_boxes[:, 1], char_word, char_boxes[:, 1])
        np.maximum.at(word_boxes[:, 2], char_word, char_boxes[:, 2])
        np.maximum.at(word_boxes[:, 3], char_word, char_boxes[:, 3])
    for boxes in (word_boxes, char_boxes):
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)

    # characters grouped by word, in order along the word's longer side
    wide = (word_boxes[:, 2] - word_boxes[:, 0]) >= (word_boxes[:, 3] - word_boxes[:, 1])
    centres = np.stack([char_boxes[:, 0] + char_boxes[:, 2], char_boxes[:, 1] + char_boxes[:, 3]], axis=1) / 2
    along = np.where(wide[char_word], centres[:, 0], centres[:, 1]) if len(char_word) else np.zeros(0)
    order = np.lexsort((along, char_word))
    n = len(word_ids)
    word_scores = np.clip(peak[word_ids], 0.0, 1.0).astype(np.float64)
    char_scores = np.clip(char_peak[char_ids][order], 0.0, 1.0).astype(np.float64)
    return CraftDecoded(word_boxes, word_scores, np.zeros(n, np.int64), np.zeros(n),
                        char_boxes[order], char_scores, char_word[order], 0, None)
