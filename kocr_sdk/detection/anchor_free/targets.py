"""Ground truth → the per-location maps the detector is trained to predict, at stride 4.

Input is a page's words and characters as quads in reading order (the evaluation JSONL format:
``words[i].poly``, ``words[i].chars[j].poly``), in the pixels of the (possibly rotated) image the
network sees. Every map is built from the **axis-aligned boxes** of those quads: pages are
upright or turned by a multiple of 90° (plus a degree or two of skew), so a box is the right
shape, and the separate orientation map says how to turn its corners back into reading order.

A location is the centre of a stride-4 cell, ``p = ((j + 0.5)·4, (i + 0.5)·4)``. For each level
(characters, words):

``*_ctr``
    FCOS centerness ``sqrt(min(l, r) / max(l, r) · min(t, b) / max(t, b))`` of the location in
    its box, on the *centre region* only — the locations within ``center_ratio`` of the box's
    half-size from its centre, and never fewer than the cell that holds the centre (so an 8-pixel
    character, two cells wide, still has a positive location). Everywhere else 0. Centerness is
    measured on the box grown to at least two cells around its centre: for a box smaller than a
    cell the centre cell would otherwise sit on the box's edge and score 0.
``*_reg``
    ``log(d / stride)`` for the distances ``d = (l, t, r, b)`` from the location to the box's
    left, top, right and bottom sides (floored at ``min_distance`` pixels). Log space makes the
    L1 loss relative: a 10% error costs the same on an 8-pixel character as on a 600-pixel line,
    and the values stay O(1) for both (an 8-px character: ~0; a 600-px word: ~4.3).
``*_off``
    ``(centre - p) / stride``: where the box centre lies, in cells. The decoder places a box at
    its peak location plus this offset; the regression gives its size (see :mod:`.decode`).
``*_ignore``
    "Don't care" locations, left out of the centerness loss: ``ignore`` words, boxes cut by a crop
    edge (less than ``min_visible`` of them inside), and — on the character map — words whose
    characters are not annotated.

When boxes' centre regions overlap, the smaller box wins the location (boxes are written from
the largest to the smallest). ``orient`` is a one-hot of the reading direction of the word
covering each location (0/90/180/270, counter-clockwise like :func:`kocr_sdk.geometry.rotate_points`),
``orient_mask`` says where it is defined: every location inside a word box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ...geometry import rotate_points
from .constants import STRIDE

ORIENTATIONS = (0, 90, 180, 270)


class TargetConfig(BaseModel):
    """How ground truth becomes maps (saved with the weights: decoding must use the same stride)."""

    model_config = ConfigDict(extra="forbid")

    stride: int = STRIDE
    center_ratio: float = Field(0.5, gt=0, le=1, description="Centre region: this share of the box's half-size.")
    min_distance: float = Field(1.0, gt=0, description="Floor (pixels) of regression distances before the log.")
    min_visible: float = Field(0.6, ge=0, le=1, description="A box less visible than this in a crop is 'don't care'.")


@dataclass
class GroundTruth:
    """A page's words and characters as arrays, and the geometry augmentation needs."""

    word_quads: np.ndarray  # (N, 4, 2) reading order
    char_quads: np.ndarray  # (M, 4, 2) reading order
    char_word: np.ndarray  # (M,) index of the word each character belongs to
    word_ignore: np.ndarray | None = None  # (N,) bool; none ignored when None
    char_ignore: np.ndarray | None = None  # (M,) bool
    orientation: int = 0  # of the page, as labelled

    def __post_init__(self) -> None:
        self.word_quads = np.asarray(self.word_quads, np.float64).reshape(-1, 4, 2)
        self.char_quads = np.asarray(self.char_quads, np.float64).reshape(-1, 4, 2)
        self.char_word = np.asarray(self.char_word, np.int64).reshape(-1)
        if self.word_ignore is None:
            self.word_ignore = np.zeros(len(self.word_quads), bool)
        if self.char_ignore is None:
            self.char_ignore = np.zeros(len(self.char_quads), bool)
        self.word_ignore = np.asarray(self.word_ignore, bool).reshape(-1)
        self.char_ignore = np.asarray(self.char_ignore, bool).reshape(-1).copy()
        if len(self.char_word):
            self.char_ignore |= self.word_ignore[self.char_word]  # a "don't care" word's characters too

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> "GroundTruth":
        """From a page of the evaluation JSONL format (``words[].poly``, ``words[].chars[].poly``)."""
        words, chars, owner, ignore, char_ignore = [], [], [], [], []
        for i, w in enumerate(record.get("words", [])):
            words.append(w["poly"])
            ignore.append(bool(w.get("ignore", False)))
            for c in w.get("chars") or []:
                chars.append(c["poly"])
                owner.append(i)
                char_ignore.append(bool(c.get("ignore", False)))
        return cls(np.asarray(words, np.float64), np.asarray(chars, np.float64), np.asarray(owner, np.int64),
                   np.asarray(ignore, bool), np.asarray(char_ignore, bool), int(record.get("orientation", 0) or 0) % 360)

    @property
    def word_has_chars(self) -> np.ndarray:
        has = np.zeros(len(self.word_quads), bool)
        has[self.char_word] = True
        return has

    def word_orientations(self) -> np.ndarray:
        """Reading direction of each word as an index into ``ORIENTATIONS``."""
        return quad_orientations(self.word_quads)

    def affine(self, scale: float, dx: float, dy: float) -> "GroundTruth":
        """Coordinates mapped by ``p → p·scale + (dx, dy)`` (a resize then a crop/shift)."""
        off = np.array([dx, dy])
        return GroundTruth(self.word_quads * scale + off, self.char_quads * scale + off, self.char_word.copy(),
                           self.word_ignore.copy(), self.char_ignore.copy(), self.orientation)

    def rot90(self, k: int, width: int, height: int) -> "GroundTruth":
        """Follow ``np.rot90(image, k)`` of a ``width``×``height`` image (point order, i.e. reading
        order, is kept: that is what turns the labelled orientation with the page)."""
        angle = (k % 4) * 90
        return GroundTruth(rotate_points(self.word_quads, angle, width, height),
                           rotate_points(self.char_quads, angle, width, height), self.char_word.copy(),
                           self.word_ignore.copy(), self.char_ignore.copy(), (self.orientation + angle) % 360)

    def clip(self, width: int, height: int, min_visible: float) -> "GroundTruth":
        """Keep what lies in ``[0, width)×[0, height)``; boxes less than ``min_visible`` inside it
        become "don't care" (a half-seen word must be neither a target nor a negative)."""
        wvis = _visible_share(quad_boxes(self.word_quads), width, height)
        cvis = _visible_share(quad_boxes(self.char_quads), width, height)
        keep_w = wvis > 0
        keep_c = (cvis > 0) & keep_w[self.char_word] if len(self.char_word) else cvis > 0
        remap = np.cumsum(keep_w) - 1
        return GroundTruth(self.word_quads[keep_w], self.char_quads[keep_c], remap[self.char_word[keep_c]],
                           (self.word_ignore | (wvis < min_visible))[keep_w],
                           (self.char_ignore | (cvis < min_visible))[keep_c], self.orientation)


def quad_boxes(quads: np.ndarray) -> np.ndarray:
    """(N, 4, 2) quads → (N, 4) boxes ``x0, y0, x1, y1``."""
    quads = np.asarray(quads, np.float64).reshape(-1, 4, 2)
    return np.concatenate([quads.min(axis=1), quads.max(axis=1)], axis=1)


def quad_orientations(quads: np.ndarray) -> np.ndarray:
    """Index into ``ORIENTATIONS`` of each quad's reading direction (its top edge, TL → TR, and
    bottom edge, BL → BR, averaged), to the nearest multiple of 90°."""
    quads = np.asarray(quads, np.float64).reshape(-1, 4, 2)
    v = (quads[:, 1] - quads[:, 0]) + (quads[:, 2] - quads[:, 3])
    angle = np.degrees(np.arctan2(-v[:, 1], v[:, 0]))  # image y grows downwards
    return (np.round(angle / 90.0).astype(np.int64)) % 4


def _visible_share(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    if not len(boxes):
        return np.zeros(0)
    area = np.maximum(boxes[:, 2] - boxes[:, 0], 1e-6) * np.maximum(boxes[:, 3] - boxes[:, 1], 1e-6)
    iw = np.clip(np.minimum(boxes[:, 2], width) - np.maximum(boxes[:, 0], 0), 0, None)
    ih = np.clip(np.minimum(boxes[:, 3], height) - np.maximum(boxes[:, 1], 0), 0, None)
    return iw * ih / area


def map_size(height: int, width: int, stride: int = STRIDE) -> tuple[int, int]:
    return math.ceil(height / stride), math.ceil(width / stride)


def _span(lo: float, hi: float, stride: int, n: int) -> tuple[int, int]:
    """Cells ``[a, b)`` whose centres ``(j + 0.5)·stride`` lie in ``[lo, hi]``, clipped to ``[0, n)``."""
    a = max(0, math.ceil(lo / stride - 0.5 - 1e-9))
    b = min(n, math.floor(hi / stride - 0.5 + 1e-9) + 1)
    return a, b


def _centre_cell(c: float, stride: int, n: int) -> int:
    return min(n - 1, max(0, int(math.floor(c / stride))))


def _encode_level(boxes: np.ndarray, ctr: np.ndarray, reg: np.ndarray, off: np.ndarray, cfg: TargetConfig) -> None:
    """Write centerness, regression and offset targets of ``boxes``, the smallest winning overlaps."""
    s = cfg.stride
    h, w = ctr.shape[-2:]
    order = np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), kind="stable")
    for x0, y0, x1, y1 in boxes[order]:
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        hx = max(cfg.center_ratio * (x1 - x0) / 2, s / 2)
        hy = max(cfg.center_ratio * (y1 - y0) / 2, s / 2)
        ja, jb = _span(cx - hx, cx + hx, s, w)
        ia, ib = _span(cy - hy, cy + hy, s, h)
        jc, ic = _centre_cell(cx, s, w), _centre_cell(cy, s, h)
        if not (0 <= cx < w * s and 0 <= cy < h * s):
            continue  # centre outside the map: nothing here can stand for the box
        ja, jb = min(ja, jc), max(jb, jc + 1)
        ia, ib = min(ia, ic), max(ib, ic + 1)
        px = (np.arange(ja, jb) + 0.5) * s
        py = (np.arange(ia, ib) + 0.5) * s
        # centerness on the box grown to >= 2 cells around its centre
        gx0, gx1 = min(x0, cx - s), max(x1, cx + s)
        gy0, gy1 = min(y0, cy - s), max(y1, cy + s)
        lx, rx = np.clip(px - gx0, 0, None), np.clip(gx1 - px, 0, None)
        ty, by = np.clip(py - gy0, 0, None), np.clip(gy1 - py, 0, None)
        cxr = np.minimum(lx, rx) / np.maximum(np.maximum(lx, rx), 1e-9)
        cyr = np.minimum(ty, by) / np.maximum(np.maximum(ty, by), 1e-9)
        # floored above 0: every location of the region is a positive of the loss (target > 0)
        ctr[0, ia:ib, ja:jb] = np.maximum(np.sqrt(cyr[:, None] * cxr[None, :]), 1e-3)
        floor = cfg.min_distance
        lg = np.log(np.clip(px - x0, floor, None) / s)
        rg = np.log(np.clip(x1 - px, floor, None) / s)
        tg = np.log(np.clip(py - y0, floor, None) / s)
        bg = np.log(np.clip(y1 - py, floor, None) / s)
        reg[0, ia:ib, ja:jb] = lg[None, :]
        reg[1, ia:ib, ja:jb] = tg[:, None]
        reg[2, ia:ib, ja:jb] = rg[None, :]
        reg[3, ia:ib, ja:jb] = bg[:, None]
        off[0, ia:ib, ja:jb] = ((cx - px) / s)[None, :]
        off[1, ia:ib, ja:jb] = ((cy - py) / s)[:, None]


def _fill_boxes(mask: np.ndarray, boxes: np.ndarray, stride: int) -> None:
    """Mark every cell a box touches."""
    h, w = mask.shape[-2:]
    for x0, y0, x1, y1 in boxes:
        ja, jb = max(0, int(math.floor(x0 / stride))), min(w, int(math.ceil(x1 / stride)))
        ia, ib = max(0, int(math.floor(y0 / stride))), min(h, int(math.ceil(y1 / stride)))
        if ja < jb and ia < ib:
            mask[0, ia:ib, ja:jb] = True


def encode(gt: GroundTruth, height: int, width: int, cfg: TargetConfig | None = None) -> dict[str, np.ndarray]:
    """The training maps of one ``height``×``width`` image; each is (channels, H/stride, W/stride)."""
    cfg = cfg or TargetConfig()
    s = cfg.stride
    h, w = map_size(height, width, s)
    maps: dict[str, np.ndarray] = {}
    for level in ("char", "word"):
        maps[f"{level}_ctr"] = np.zeros((1, h, w), np.float32)
        maps[f"{level}_reg"] = np.zeros((4, h, w), np.float32)
        maps[f"{level}_off"] = np.zeros((2, h, w), np.float32)
        maps[f"{level}_ignore"] = np.zeros((1, h, w), bool)
    maps["orient"] = np.zeros((4, h, w), np.float32)
    maps["orient_mask"] = np.zeros((1, h, w), bool)

    word_boxes = quad_boxes(gt.word_quads)
    char_boxes = quad_boxes(gt.char_quads)
    _fill_boxes(maps["word_ignore"], word_boxes[gt.word_ignore], s)
    unannotated = gt.word_ignore | ~gt.word_has_chars
    _fill_boxes(maps["char_ignore"], word_boxes[unannotated], s)
    _fill_boxes(maps["char_ignore"], char_boxes[gt.char_ignore], s)

    _encode_level(word_boxes[~gt.word_ignore], maps["word_ctr"], maps["word_reg"], maps["word_off"], cfg)
    _encode_level(char_boxes[~gt.char_ignore], maps["char_ctr"], maps["char_reg"], maps["char_off"], cfg)
    for level in ("char", "word"):
        maps[f"{level}_ignore"] &= maps[f"{level}_ctr"] == 0

    kept = np.nonzero(~gt.word_ignore)[0]
    orient = gt.word_orientations()
    areas = (word_boxes[:, 2] - word_boxes[:, 0]) * (word_boxes[:, 3] - word_boxes[:, 1])
    for i in kept[np.argsort(-areas[kept], kind="stable")]:
        x0, y0, x1, y1 = word_boxes[i]
        ja, jb = _span(x0, x1, s, w)
        ia, ib = _span(y0, y1, s, h)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        if not (0 <= cx < w * s and 0 <= cy < h * s):
            continue
        ja, jb = min(ja, _centre_cell(cx, s, w)), max(jb, _centre_cell(cx, s, w) + 1)
        ia, ib = min(ia, _centre_cell(cy, s, h)), max(ib, _centre_cell(cy, s, h) + 1)
        maps["orient"][:, ia:ib, ja:jb] = 0.0
        maps["orient"][orient[i], ia:ib, ja:jb] = 1.0
        maps["orient_mask"][0, ia:ib, ja:jb] = True
    return maps


def collate(samples: Sequence[dict[str, np.ndarray]]) -> dict[str, "Any"]:
    """Stack per-image maps into batched tensors (bool maps stay bool)."""
    import torch

    return {k: torch.from_numpy(np.stack([s[k] for s in samples])) for k in samples[0]}
