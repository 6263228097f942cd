"""Ground truth → CRAFT's region and affinity heatmaps.

The input is the anchor-free detector's :class:`~kocr_sdk.detection.anchor_free.targets.GroundTruth`
(quads in reading order, the characters of each word in reading order), so both families train
on exactly the same crops. Every Gaussian is **axis-aligned** on the box it stands for, like the
anchor-free targets: pages are upright or turned by a multiple of 90° (plus a degree or two of
skew), where a box is the right shape; CRAFT warps a Gaussian into the quad, which differs
only on skewed text.

For a box of centre ``(cx, cy)`` and size ``(w, h)`` the value at a map location ``p`` (a cell
centre, ``(j + 0.5)·stride``) is::

    g(p) = exp(-(u² + v²) / (2·sigma²)),   u = (px - cx) / (w/2),   v = (py - cy) / (h/2)

inside the box and 0 outside it, so 1 at the centre and ``exp(-1 / (2·sigma²))`` (0.135 with
``sigma`` 0.5) in the middle of an edge. Where Gaussians overlap, the larger value wins (CRAFT).

``region``
    One Gaussian per character box.
``affinity``
    One Gaussian per pair of consecutive characters of a word, on CRAFT's affinity box: the
    quad through the centroids of the *top* and *bottom* triangles of the two characters (each
    triangle is an edge of the character quad, in reading order, and the quad's centre), i.e.
    from one character centre to the next, over the middle two thirds of their height. Its
    axis-aligned box is used, so a word read at 90° gets a vertical link.
``ignore``
    "Don't care" cells, left out of the loss: ``ignore`` words, boxes cut by a crop edge (less
    than ``min_visible`` inside), and words without character annotations (their region and
    affinity are unknown, and a heatmap of 0 there would teach "no text").

A box smaller than a cell is grown to one cell around its centre before rendering, and a box
under two cells is drawn with its best cell at 1 — sampled at cell centres that may all lie off
its centre, its Gaussian would otherwise peak as low as 0.37, below the decoder's thresholds —
so a ``.`` or a thin ``l`` still lights a cell as a character.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..anchor_free.targets import GroundTruth, map_size, quad_boxes


class CraftTargetConfig(BaseModel):
    """How ground truth becomes heatmaps (saved with the weights: decoding needs ``stride`` and ``sigma``)."""

    model_config = ConfigDict(extra="forbid")

    stride: int = Field(2, description="Of the output maps; must match the architecture's.")
    sigma: float = Field(0.5, gt=0, le=2, description="Gaussian width, in half-sizes of its box.")
    min_visible: float = Field(0.6, ge=0, le=1, description="A box less visible than this in a crop is 'don't care'.")


def affinity_boxes(gt: GroundTruth) -> np.ndarray:
    """(K, 4) axis-aligned affinity boxes between consecutive characters of the same word."""
    q = gt.char_quads
    if len(q) < 2:
        return np.zeros((0, 4))
    centre = q.mean(axis=1)
    top = (q[:, 0] + q[:, 1] + centre) / 3  # centroid of the triangle on the top edge (TL, TR, centre)
    bottom = (q[:, 2] + q[:, 3] + centre) / 3
    pair = np.nonzero((gt.char_word[:-1] == gt.char_word[1:]) & ~gt.char_ignore[:-1] & ~gt.char_ignore[1:])[0]
    quads = np.stack([top[pair], top[pair + 1], bottom[pair + 1], bottom[pair]], axis=1)
    return quad_boxes(quads)


def render_gaussians(heatmap: np.ndarray, boxes: np.ndarray, stride: int, sigma: float) -> None:
    """Draw one Gaussian per box into ``heatmap`` (H, W), keeping the larger value per cell."""
    h, w = heatmap.shape
    for x0, y0, x1, y1 in boxes:
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        hw, hh = max((x1 - x0) / 2, stride / 2), max((y1 - y0) / 2, stride / 2)
        ja, jb = max(0, math.ceil((cx - hw) / stride - 0.5)), min(w, math.floor((cx + hw) / stride - 0.5) + 1)
        ia, ib = max(0, math.ceil((cy - hh) / stride - 0.5)), min(h, math.floor((cy + hh) / stride - 0.5) + 1)
        if ja >= jb or ia >= ib:
            continue
        u = ((np.arange(ja, jb) + 0.5) * stride - cx) / hw
        v = ((np.arange(ia, ib) + 0.5) * stride - cy) / hh
        g = np.exp(-(v[:, None] ** 2 + u[None, :] ** 2) / (2 * sigma * sigma)).astype(np.float32)
        if hw < stride or hh < stride:  # under two cells: sampled off-centre, its peak could be 0.37
            g /= g.max()
        np.maximum(heatmap[ia:ib, ja:jb], g, out=heatmap[ia:ib, ja:jb])


def _fill(mask: np.ndarray, boxes: np.ndarray, stride: int) -> None:
    h, w = mask.shape
    for x0, y0, x1, y1 in boxes:
        ja, jb = max(0, int(math.floor(x0 / stride))), min(w, int(math.ceil(x1 / stride)))
        ia, ib = max(0, int(math.floor(y0 / stride))), min(h, int(math.ceil(y1 / stride)))
        if ja < jb and ia < ib:
            mask[ia:ib, ja:jb] = True


def encode(gt: GroundTruth, height: int, width: int, cfg: CraftTargetConfig | None = None) -> dict[str, np.ndarray]:
    """``region``, ``affinity`` (float32) and ``ignore`` (bool) maps, each (1, H/stride, W/stride)."""
    cfg = cfg or CraftTargetConfig()
    s = cfg.stride
    h, w = map_size(height, width, s)
    region = np.zeros((h, w), np.float32)
    affinity = np.zeros((h, w), np.float32)
    ignore = np.zeros((h, w), bool)
    word_boxes = quad_boxes(gt.word_quads)
    _fill(ignore, word_boxes[gt.word_ignore | ~gt.word_has_chars], s)
    _fill(ignore, quad_boxes(gt.char_quads)[gt.char_ignore], s)
    render_gaussians(region, quad_boxes(gt.char_quads)[~gt.char_ignore], s, cfg.sigma)
    render_gaussians(affinity, affinity_boxes(gt), s, cfg.sigma)
    ignore &= (region == 0) & (affinity == 0)  # a cell that holds a kept target is never don't-care
    return {"region": region[None], "affinity": affinity[None], "ignore": ignore[None]}
