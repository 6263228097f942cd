"""The detector's maps → word and character boxes in reading order, without NMS.

1. **Candidates.** Every location whose centerness is at least ``threshold`` predicts a box:
   its centre is the location plus the offset (``p + offset·stride``), its size ``(l + r, t + b)``
   from the regressed distances. The offset pins the position to sub-cell precision whatever
   the size, while the log-space regression is relative — used alone on a 600-pixel word, a 2%
   error on one side would move the box by 6 pixels.
2. **Peaks** (``peaks="votes"``, the default). Each candidate votes, with its centerness, for the
   cell its box is centred in — a Hough vote, one ``index_add``. A cell's box is the
   vote-weighted mean of its voters' boxes. A cell is a detection unless a cell of its
   ``kernel``×``kernel`` window has more votes *and* a box centred within ``same_box`` (a
   quarter) of its size, at least one cell: the same word, split across neighbouring cells.
   Why votes and not the centerness map's own maxima: FCOS centerness is flat along a long
   word (one cell off the centre of a 200-px word scores 0.96), so a trained network's map has
   several local maxima along it, cells apart; their boxes agree on the centre, so their votes
   land together. Measured on a half-trained model (docs/models.md): duplicates 17.5% → 4.1% of
   words, word H-mean 0.68 → 0.79, characters unchanged.
   ``peaks="centerness"`` is the classic rule — a location not beaten by a higher one in its
   window — with the same same-box condition (``same_box=0``: the plain k×k max-pool), and
   boxes centred in the same cell merged.
   The same-box condition is what keeps narrow letters apart: a 3×3 max-pool needs centres two
   cells (8 px) apart, while ``il`` or ``1.`` put them one cell apart; a neighbour that
   predicts another box's centre does not suppress. Both rules are a fixed number of shifted
   comparisons over the candidates: no IoU and no greedy suppression loop — no NMS pass.
3. **Clipping.** Boxes are clipped to the image; the padding added to reach a multiple of 32
   never yields a detection. Then **containment** (``contained``, default 0.5): a word box that
   lies, for that share of its area or more, inside a larger word box is dropped — the piece of
   a long word that a second peak, too far from the first for the vote window, regressed. One
   vectorised pairwise test, not a greedy NMS loop: a box is only ever dropped for a strictly
   larger one. On 100 held-out pages it took duplicates from 7.8 % to 0.04 % and word H-mean
   from 0.816 to 0.898 (docs/models.md). Then **merging**: word boxes on one line that overlap
   *along* it by a fifth of their height or more (``merge_overlap``) and share a letter (a
   character centre inside both) are pieces of one word (two peaks, neither piece half inside
   the other) and become their union.
4. **Characters → words.** A character belongs to the smallest word box holding its centre.
   A character outside every word that continues a word's line, closer than a word space to its
   start or end, is **adopted** by it and the word box grows to hold it (``adopt_gap``; a word
   box regressed from a far peak is often short by part of its first or last letter). Other
   characters outside every word are dropped (``keep_orphan_chars`` keeps them as one-character
   words). Inside a word they are sorted along its reading direction.
5. **Orientation.** The four orientation probabilities are averaged over the
   ``orientation_window``² neighbourhood of each word's peak; the largest decides how the word's
   corners are ordered (reading order: top-left, top-right, bottom-right, bottom-left *as the
   text reads*). The page's orientation is the majority over its words, its confidence the share
   of words that agree.

Everything is vectorised: a page's decoding costs milliseconds next to the network's forward
pass. It is numpy throughout, whichever runtime computed the maps (torch maps are converted first):
one implementation, and the onnx runtime needs no torch.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .constants import STRIDE
from .targets import ORIENTATIONS


class DecodeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    char_threshold: float = Field(0.25, gt=0, lt=1)
    word_threshold: float = Field(0.25, gt=0, lt=1)
    char_kernel: int = Field(3, ge=1, description="Peak window (odd) on the character map.")
    word_kernel: int = Field(5, ge=1, description="Peak window (odd) on the word map.")
    peaks: Literal["votes", "centerness"] = Field(
        "votes", description="Detections at local maxima of centre votes, or of the centerness map itself.")
    same_box: float = Field(0.25, ge=0, description="Neighbours whose centres agree within this share of the box size "
                                                   "(and at least a cell) are the same box; 0: plain k×k max-pool peaks.")
    orientation_window: int = Field(3, ge=1)
    centre_votes: bool = True
    assign_margin: float = Field(1.0, ge=0, description="Pixels a character centre may lie outside its word box.")
    merge_overlap: float | None = Field(
        0.2, description="Two word boxes on one line that overlap along it by at least this share of their height "
                         "are pieces of one word: they are merged into their union; None: never.")
    adopt_gap: float | None = Field(
        0.15, description="An orphan character (centre outside every word) on a word's line, at most this share "
                          "of the word's height away from its start or end, is taken into the word, which grows to "
                          "hold it; None: never.")
    grow_to_chars: bool = Field(
        True, description="Grow each word box along its reading direction to hold its characters' boxes whole.")
    keep_orphan_chars: bool = False
    contained: float = Field(
        0.5, ge=0, le=1,
        description="Drop a word box when at least this share of its area lies inside a larger word box "
                    "(a piece of a long word found by a second peak); 0 keeps every box.")
    max_log_distance: float = Field(8.0, description="Clamp of regressed log-distances (exp(8)·4 ≈ 12k px).")


@dataclass
class Decoded:
    """Boxes (``x0, y0, x1, y1``) in the pixels of the decoded image, and how they belong together.

    ``char_word[j]`` is the word of character ``j``; characters are grouped by word and sorted in
    reading order. ``word_orientation`` indexes ``ORIENTATIONS``.
    """

    word_boxes: np.ndarray
    word_scores: np.ndarray
    word_orientation: np.ndarray
    word_orientation_scores: np.ndarray
    char_boxes: np.ndarray
    char_scores: np.ndarray
    char_word: np.ndarray
    orientation: int = 0
    orientation_confidence: float | None = None

    def __len__(self) -> int:
        return len(self.word_boxes)

    def scaled(self, factor: float) -> "Decoded":
        """The same detections in an image ``factor`` times as large (of the same class: other
        detector families subclass this one)."""
        return dataclasses.replace(self, word_boxes=self.word_boxes * factor, char_boxes=self.char_boxes * factor)

    def text_heights(self) -> np.ndarray:
        """Height of each word across its reading direction (what auto-scaling measures)."""
        b = self.word_boxes
        sideways = np.isin(self.word_orientation, (1, 3))
        return np.where(sideways, b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])

    def word_quads(self) -> np.ndarray:
        """(N, 4, 2) word quads in reading order."""
        return boxes_to_quads(self.word_boxes, self.word_orientation)

    def char_quads(self) -> np.ndarray:
        """(M, 4, 2) character quads, in reading order of their words."""
        orient = self.word_orientation[self.char_word] if len(self.char_word) else np.zeros(0, np.int64)
        return boxes_to_quads(self.char_boxes, orient)

    def chars_of(self, word: int) -> np.ndarray:
        return np.nonzero(self.char_word == word)[0]


def boxes_to_quads(boxes: np.ndarray, orientation: np.ndarray) -> np.ndarray:
    """Corners of each box, starting at the corner where its text starts reading.

    Clockwise from the image's top-left corner the box is ``(x0,y0) (x1,y0) (x1,y1) (x0,y1)``;
    text turned by 90° counter-clockwise starts at ``(x0, y1)``, by 180° at ``(x1, y1)``, by 270°
    at ``(x1, y0)`` — so the list is rolled by ``(4 - k) % 4`` for orientation ``k·90°``.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    corners = np.stack([boxes[:, [0, 1]], boxes[:, [2, 1]], boxes[:, [2, 3]], boxes[:, [0, 3]]], axis=1)
    start = (4 - np.asarray(orientation, np.int64).reshape(-1)) % 4
    idx = (start[:, None] + np.arange(4)[None, :]) % 4
    return np.take_along_axis(corners, idx[:, :, None], axis=1)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """float32 logistic function."""
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32, copy=False)


def _level(out: Mapping[str, np.ndarray], level: str, threshold: float, kernel: int, cfg: DecodeConfig, stride: int,
           height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (pixels), scores and peak cells (ys, xs) of one level, clipped to the image.

    Candidates are the locations above ``threshold`` (compared as logits: sigmoid is increasing,
    so it runs on candidates only); each predicts a box. Which candidates become detections is
    the ``peaks`` rule (module docstring).
    """
    ctr, reg, off = out[f"{level}_ctr"][0], out[f"{level}_reg"], out[f"{level}_off"]
    ys, xs = np.nonzero(ctr >= np.float32(_logit(threshold)))
    value = ctr[ys, xs]
    d = np.exp(np.clip(reg[:, ys, xs], -cfg.max_log_distance, cfg.max_log_distance))  # cells: l, t, r, b
    o = off[:, ys, xs]
    cx = xs.astype(np.float32) + np.float32(0.5) + o[0]  # centres, in cells
    cy = ys.astype(np.float32) + np.float32(0.5) + o[1]
    hw, hh = (d[0] + d[2]) / np.float32(2), (d[1] + d[3]) / np.float32(2)
    boxes_c = np.stack([cx - hw, cy - hh, cx + hw, cy + hh], axis=1)  # cells
    if cfg.peaks == "votes":
        boxes_c, scores_c, cells = _vote_peaks(ctr.shape, ys, xs, _sigmoid(value), boxes_c, kernel, cfg.same_box)
    else:
        keep = _centerness_peaks(ctr, off, ys, xs, value, cx, cy, hw, hh, kernel, cfg.same_box)
        boxes_c, scores_c, cells = boxes_c[keep], _sigmoid(value[keep]), np.stack([ys, xs], axis=1)[keep]
    boxes = (boxes_c * np.float32(stride)).astype(np.float64)
    scores, cells = scores_c.astype(np.float64), cells.astype(np.int64)
    bx, by = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    inside = (bx >= 0) & (bx < width) & (by >= 0) & (by < height)
    boxes, scores, cells, bx, by = boxes[inside], scores[inside], cells[inside], bx[inside], by[inside]
    if cfg.peaks == "centerness" and cfg.centre_votes and len(boxes):
        key = np.floor(by / stride).astype(np.int64) * (width // stride + 2) + np.floor(bx / stride).astype(np.int64)
        order = np.argsort(-scores, kind="stable")
        _, first = np.unique(key[order], return_index=True)
        sel = np.sort(order[first])
        boxes, scores, cells = boxes[sel], scores[sel], cells[sel]
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    ok = (boxes[:, 2] - boxes[:, 0] >= 1) & (boxes[:, 3] - boxes[:, 1] >= 1)
    return boxes[ok], scores[ok], cells[ok]


def _same_box(dx: np.ndarray, dy: np.ndarray, tol_x: np.ndarray, tol_y: np.ndarray) -> np.ndarray:
    return (np.abs(dx) < tol_x) & (np.abs(dy) < tol_y)


def _centerness_peaks(ctr, off, ys, xs, value, cx, cy, hw, hh, kernel: int, same_box: float) -> np.ndarray:
    """Mask of the candidates that no higher location of their window *predicting the same box*
    beats (``same_box <= 0``: any higher location — the plain max-pool rule)."""
    h, w = ctr.shape
    r = kernel // 2
    if same_box <= 0:  # k×k max-pool, the border padded with -inf
        padded = np.pad(ctr, r, constant_values=-np.inf)
        pooled = np.full_like(ctr, -np.inf)
        for dy in range(kernel):
            for dx in range(kernel):
                np.maximum(pooled, padded[dy:dy + h, dx:dx + w], out=pooled)
        return pooled[ys, xs] <= value
    tol_x = np.maximum(np.float32(same_box) * 2 * hw, np.float32(1.0))
    tol_y = np.maximum(np.float32(same_box) * 2 * hh, np.float32(1.0))
    suppressed = np.zeros(value.shape, dtype=bool)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy == 0 and dx == 0:
                continue
            ny, nx = ys + dy, xs + dx
            inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
            ny, nx = ny.clip(0, h - 1), nx.clip(0, w - 1)
            ncx = nx.astype(cx.dtype) + np.float32(0.5) + off[0, ny, nx]
            ncy = ny.astype(cy.dtype) + np.float32(0.5) + off[1, ny, nx]
            suppressed |= inside & (ctr[ny, nx] > value) & _same_box(ncx - cx, ncy - cy, tol_x, tol_y)
    return ~suppressed


def _vote_peaks(shape: tuple[int, int], ys, xs, score, boxes, kernel: int, same_box: float):
    """Centre voting: every candidate votes, with its centerness, for the cell its box is centred
    in. A cell's box is the vote-weighted mean of its voters' boxes, its score their best
    centerness, its location (for orientation) its best voter's. A cell is a detection unless a
    cell of its window has more votes *and a box centred within* ``same_box`` of its size (at
    least a cell) — the same word, split across neighbouring cells by noisy offsets."""
    h, w = shape
    kx = np.floor((boxes[:, 0] + boxes[:, 2]) / np.float32(2)).astype(np.int64)
    ky = np.floor((boxes[:, 1] + boxes[:, 3]) / np.float32(2)).astype(np.int64)
    inmap = (kx >= 0) & (kx < w) & (ky >= 0) & (ky < h)
    ys, xs, score, boxes, kx, ky = ys[inmap], xs[inmap], score[inmap], boxes[inmap], kx[inmap], ky[inmap]
    if not len(score):
        return boxes, score, np.zeros((0, 2), dtype=np.int64)
    key = ky * w + kx
    votes = np.zeros(h * w, dtype=score.dtype)
    np.add.at(votes, key, score)  # in candidate order, as a float32 running sum
    summed = np.zeros((h * w, 4), dtype=boxes.dtype)
    np.add.at(summed, key, boxes * score[:, None])
    order = np.argsort(-score, kind="stable")
    _, first = np.unique(key[order], return_index=True)
    best = order[first]  # best voter of each occupied cell
    cells_key = key[best]
    mean_box = summed[cells_key] / votes[cells_key, None]
    mcx, mcy = (mean_box[:, 0] + mean_box[:, 2]) / np.float32(2), (mean_box[:, 1] + mean_box[:, 3]) / np.float32(2)
    centre_x = np.zeros(h * w, dtype=boxes.dtype)
    centre_y = np.zeros(h * w, dtype=boxes.dtype)
    centre_x[cells_key], centre_y[cells_key] = mcx, mcy
    occupied = np.zeros(h * w, dtype=bool)
    occupied[cells_key] = True
    tol_x = np.maximum(np.float32(same_box) * (mean_box[:, 2] - mean_box[:, 0]), np.float32(1.0))
    tol_y = np.maximum(np.float32(same_box) * (mean_box[:, 3] - mean_box[:, 1]), np.float32(1.0))
    cy0, cx0 = cells_key // w, cells_key % w
    mine = votes[cells_key]
    suppressed = np.zeros(len(cells_key), dtype=bool)
    r = kernel // 2
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy == 0 and dx == 0:
                continue
            ny, nx = cy0 + dy, cx0 + dx
            inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
            nk = ny.clip(0, h - 1) * w + nx.clip(0, w - 1)
            suppressed |= (inside & occupied[nk] & (votes[nk] > mine)
                           & _same_box(centre_x[nk] - mcx, centre_y[nk] - mcy, tol_x, tol_y))
    keep = ~suppressed
    return mean_box[keep], score[best][keep], np.stack([ys[best], xs[best]], axis=1)[keep]


def _not_contained(boxes: np.ndarray, share: float) -> np.ndarray:
    """Mask of boxes that do not lie, for ``share`` of their area or more, inside a larger box.

    A long word's centerness can peak twice along it; the second peak's box is then a piece of
    the word inside the whole one, and a reader concatenating words would read the word twice.
    One vectorised pairwise test, no ordering loop: a box is dropped only for a strictly larger
    one (equal areas: the earlier index wins), so two boxes can never remove each other.
    """
    b = np.asarray(boxes, dtype=np.float64)
    area = np.maximum(b[:, 2] - b[:, 0], 0) * np.maximum(b[:, 3] - b[:, 1], 0)
    iw = np.clip(np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1]), 0, None)
    inside = iw * ih / np.maximum(area[:, None], 1e-9)  # [i, j]: share of box i inside box j
    idx = np.arange(len(b))
    larger = (area[None, :] > area[:, None]) | ((area[None, :] == area[:, None]) & (idx[None, :] < idx[:, None]))
    return ~((inside >= share) & larger).any(axis=1)


def _assign(char_boxes: np.ndarray, word_boxes: np.ndarray, margin: float, grid: float = 4.0) -> np.ndarray:
    """Index of the smallest word box holding each character's centre (within ``margin`` px), -1
    when none does.

    Words are painted onto a coarse grid, largest first so that the smallest wins, and each
    character looks up the cell of its centre; the rare character whose looked-up word does not
    hold it exactly (cells at a word's edge are shared) is tested against every word. A
    page-sized dense test (4,000 characters × 1,000 words) would cost ~25 ms; this costs ~2.
    """
    owner = np.full(len(char_boxes), -1, np.int64)
    if not len(char_boxes) or not len(word_boxes):
        return owner
    cx = (char_boxes[:, 0] + char_boxes[:, 2]) / 2
    cy = (char_boxes[:, 1] + char_boxes[:, 3]) / 2
    area = (word_boxes[:, 2] - word_boxes[:, 0]) * (word_boxes[:, 3] - word_boxes[:, 1])

    def holds(words: np.ndarray, chars: np.ndarray) -> np.ndarray:
        b = word_boxes[words]
        return ((cx[chars] >= b[..., 0] - margin) & (cx[chars] <= b[..., 2] + margin)
                & (cy[chars] >= b[..., 1] - margin) & (cy[chars] <= b[..., 3] + margin))

    gx = np.clip(((word_boxes[:, [0, 2]] + [-margin, margin]) / grid), 0, None)
    gy = np.clip(((word_boxes[:, [1, 3]] + [-margin, margin]) / grid), 0, None)
    cells_x = int(max(gx[:, 1].max(), (cx / grid).max())) + 2
    cells_y = int(max(gy[:, 1].max(), (cy / grid).max())) + 2
    painted = np.full((cells_y, cells_x), -1, np.int64)
    for i in np.argsort(-area, kind="stable"):
        painted[int(gy[i, 0]):int(np.ceil(gy[i, 1])) + 1, int(gx[i, 0]):int(np.ceil(gx[i, 1])) + 1] = i
    every = np.arange(len(char_boxes))
    found = painted[np.clip((cy / grid).astype(np.int64), 0, cells_y - 1), np.clip((cx / grid).astype(np.int64), 0, cells_x - 1)]
    ok = (found >= 0) & holds(np.maximum(found, 0), every)
    owner[ok] = found[ok]
    rest = every[~ok]
    if len(rest):  # exact test against every word, smallest holding word wins
        inside = holds(np.arange(len(word_boxes))[None, :], rest[:, None])
        cost = np.where(inside, area[None, :], np.inf)
        best = cost.argmin(axis=1)
        owner[rest] = np.where(np.isfinite(cost[np.arange(len(rest)), best]), best, -1)
    return owner


def _along_across(boxes: np.ndarray, vertical: np.ndarray) -> tuple[np.ndarray, ...]:
    """(lo, hi) along the reading direction and (lo, hi) across it, per box."""
    x0, y0, x1, y1 = (boxes[..., k] for k in range(4))
    return (np.where(vertical, y0, x0), np.where(vertical, y1, x1), np.where(vertical, x0, y0), np.where(vertical, x1, y1))


def _overlapping_groups(boxes: np.ndarray, orient: np.ndarray, share: float,
                        char_centres: np.ndarray | None = None) -> np.ndarray:
    """Group label per word box: boxes on one line that overlap *along* it share a group.

    Why: two peaks along one long word, too far apart for the vote window, each regress a piece
    of it; when neither piece lies half inside the other, containment keeps both, and the reader
    gets the overlap twice (``㈜이노코어솔루`` + ``루션``, ``585-74-6`` + ``67065``). Separate
    words on a line never overlap along it — a space lies between them — so an overlap of
    ``share`` × the line's height or more (a fifth of a letter by default) marks pieces of one
    word. Same line: the same reading axis, heights within a factor 1.6, and overlapping across
    the line by 60 % of the smaller height. With ``char_centres`` (N, 2), a pair must also
    share a letter — a character centre inside both boxes — the mark of one glyph read twice:
    neighbouring words whose regressed boxes overshoot into the space between them share none
    (without this test, word recall on held-out pages fell from 0.892 to 0.861). Chains (three
    pieces) join through union-find.
    """
    vertical = np.isin(orient, (1, 3))
    a_lo, a_hi, b_lo, b_hi = _along_across(boxes, vertical)
    h = b_hi - b_lo
    hmin = np.minimum(h[:, None], h[None, :])
    across = np.minimum(b_hi[:, None], b_hi[None, :]) - np.maximum(b_lo[:, None], b_lo[None, :])
    along = np.minimum(a_hi[:, None], a_hi[None, :]) - np.maximum(a_lo[:, None], a_lo[None, :])
    ratio = np.maximum(h[:, None], h[None, :]) / np.maximum(hmin, 1e-6)
    pair = ((vertical[:, None] == vertical[None, :]) & (across >= 0.6 * hmin) & (ratio <= 1.6)
            & (along >= share * hmin))
    np.fill_diagonal(pair, False)
    pairs = list(zip(*np.nonzero(np.triu(pair))))
    if char_centres is not None:
        cx, cy = char_centres[:, 0], char_centres[:, 1]

        def shares_a_letter(i: int, j: int) -> bool:
            x0, y0 = max(boxes[i, 0], boxes[j, 0]), max(boxes[i, 1], boxes[j, 1])
            x1, y1 = min(boxes[i, 2], boxes[j, 2]), min(boxes[i, 3], boxes[j, 3])
            return bool(((cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1)).any())

        pairs = [(i, j) for i, j in pairs if shares_a_letter(i, j)]
    parent = np.arange(len(boxes))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    roots = np.array([root(i) for i in range(len(boxes))])
    return np.unique(roots, return_inverse=True)[1]


def _merge_groups(groups: np.ndarray, boxes: np.ndarray, scores: np.ndarray, orient: np.ndarray,
                  orient_score: np.ndarray) -> tuple[np.ndarray, ...]:
    """One box per group: the union; score, orientation from the group's most confident piece."""
    n = int(groups.max()) + 1
    out = np.empty((n, 4))
    out[:, 0], out[:, 1] = np.inf, np.inf
    out[:, 2], out[:, 3] = -np.inf, -np.inf
    np.minimum.at(out[:, 0], groups, boxes[:, 0])
    np.minimum.at(out[:, 1], groups, boxes[:, 1])
    np.maximum.at(out[:, 2], groups, boxes[:, 2])
    np.maximum.at(out[:, 3], groups, boxes[:, 3])
    best = np.full(n, -1)
    for i in np.argsort(scores, kind="stable"):  # ascending: the last write is the best piece
        best[groups[i]] = i
    return out.astype(boxes.dtype), scores[best], orient[best], orient_score[best]


def _adopt_orphans(char_boxes: np.ndarray, word_boxes: np.ndarray, word_orient: np.ndarray, owner: np.ndarray,
                   gap: float) -> int:
    """Give each orphan character that continues a word's line to that word; grow the word. In place.

    Why: a word box regressed from a peak far from the word's ends is often short by part of
    its first or last letter; that letter's centre then falls outside the box, and both the
    character and — worse — the text the recogniser reads lose it (``682-82-79455`` read as
    ``82-82-79455``: 11 of the 32 misses on the template benchmark's tax-invoice and receipt
    fields). The character map usually still has the letter. An orphan is adopted when it
    overlaps the word's line across the reading direction (by half the smaller height or more),
    is 0.4–1.6 times the word's height, and lies at most ``gap`` × the word's height beyond its
    start or end — closer than a word space (≈ 0.25 em), so a separate one-letter word stays
    apart. The nearest such word wins; its box grows along the reading direction only.
    Returns how many characters were adopted.
    """
    orphans = np.nonzero(owner < 0)[0]
    if not len(orphans):
        return 0
    vertical = np.isin(word_orient, (1, 3))[None, :]  # reading along y for 90°/270° words
    # along / across intervals of each word's reading direction, per (orphan, word) pair
    c_lo_a, c_hi_a, c_lo_b, c_hi_b = _along_across(char_boxes[orphans][:, None, :], vertical)
    w_lo_a, w_hi_a, w_lo_b, w_hi_b = _along_across(word_boxes[None, :, :], vertical)
    c_h, w_h = c_hi_b - c_lo_b, w_hi_b - w_lo_b
    overlap = np.minimum(c_hi_b, w_hi_b) - np.maximum(c_lo_b, w_lo_b)
    same_line = (overlap >= 0.5 * np.minimum(c_h, w_h)) & (c_h >= 0.4 * w_h) & (c_h <= 1.6 * w_h)
    distance = np.maximum(w_lo_a - c_hi_a, c_lo_a - w_hi_a)  # negative when the boxes overlap
    centre = (c_lo_a + c_hi_a) / 2
    outside = (centre < w_lo_a) | (centre > w_hi_a)
    ok = same_line & outside & (distance <= gap * w_h)
    cost = np.where(ok, distance, np.inf)
    best = cost.argmin(axis=1)
    adopted = 0
    for k, o in enumerate(orphans):
        if not np.isfinite(cost[k, best[k]]):
            continue
        j = best[k]
        lo, hi = (1, 3) if vertical[0, j] else (0, 2)
        word_boxes[j, lo] = min(word_boxes[j, lo], char_boxes[o, lo])
        word_boxes[j, hi] = max(word_boxes[j, hi], char_boxes[o, hi])
        owner[o] = j
        adopted += 1
    return adopted


def _grow_to_chars(char_boxes: np.ndarray, word_boxes: np.ndarray, word_orient: np.ndarray,
                   owner: np.ndarray) -> np.ndarray:
    """Word boxes grown along their reading direction to hold every character assigned to them."""
    out = word_boxes.copy()
    has = owner >= 0
    w, c = owner[has], char_boxes[has]
    vertical = np.isin(word_orient, (1, 3))
    for lo, hi, mask in ((0, 2, ~vertical), (1, 3, vertical)):
        lo_v, hi_v = out[:, lo].copy(), out[:, hi].copy()
        np.minimum.at(lo_v, w, c[:, lo])
        np.maximum.at(hi_v, w, c[:, hi])
        out[mask, lo], out[mask, hi] = lo_v[mask], hi_v[mask]
    return out


def _orientation_votes(orient: np.ndarray, cells: np.ndarray, window: int) -> np.ndarray:
    """(N, 4) mean orientation probabilities over the ``window``² cells around each peak."""
    if not len(cells):
        return np.zeros((0, 4))
    _, h, w = orient.shape
    ys, xs = cells[:, 0], cells[:, 1]
    total = np.zeros((len(cells), 4), np.float32)
    count = np.zeros((len(cells), 1), np.float32)
    r = window // 2
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            ny, nx = ys + dy, xs + dx
            inside = ((ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)).astype(np.float32)[:, None]
            p = _sigmoid(orient[:, ny.clip(0, h - 1), nx.clip(0, w - 1)].T)
            total += p * inside
            count += inside
    return (total / count).astype(np.float64)


def _as_maps(out: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each map as a float32 (C, H', W') array."""
    maps = {}
    for k, v in out.items():
        v = np.asarray(v, dtype=np.float32)
        maps[k] = v[0] if v.ndim == 4 else v
    return maps


# Unit vector of the reading direction for each orientation index (image y grows downwards).
_READING_DIRECTION = np.array([[1.0, 0.0], [0.0, -1.0], [-1.0, 0.0], [0.0, 1.0]])


def decode(out: Mapping[str, Any], height: int, width: int, cfg: DecodeConfig | None = None,
           stride: int = STRIDE) -> Decoded:
    """Decode one image's maps (each (1, C, H', W') or (C, H', W'), numpy arrays or torch
    tensors); boxes are clipped to the ``height``×``width`` image the maps were computed on
    (padding beyond it is ignored)."""
    cfg = cfg or DecodeConfig()
    level, orientation_votes = _level, _orientation_votes
    if not all(isinstance(v, np.ndarray) for v in out.values()):  # torch maps (the torch runtime, training)
        out = {k: v.detach().float().cpu().numpy() for k, v in out.items()}
    out = _as_maps(out)
    word_boxes, word_scores, word_cells = level(out, "word", cfg.word_threshold, cfg.word_kernel, cfg, stride, height, width)
    char_boxes, char_scores, _ = level(out, "char", cfg.char_threshold, cfg.char_kernel, cfg, stride, height, width)
    if cfg.contained > 0 and len(word_boxes) > 1:
        keep = _not_contained(word_boxes, cfg.contained)
        word_boxes, word_scores, word_cells = word_boxes[keep], word_scores[keep], word_cells[keep]

    orient_p = orientation_votes(out["orient"], word_cells, cfg.orientation_window)
    word_orient = orient_p.argmax(axis=1) if len(orient_p) else np.zeros(0, np.int64)
    word_orient_score = orient_p.max(axis=1) if len(orient_p) else np.zeros(0)

    if cfg.merge_overlap is not None and len(word_boxes) > 1:
        centres = np.stack([(char_boxes[:, 0] + char_boxes[:, 2]) / 2, (char_boxes[:, 1] + char_boxes[:, 3]) / 2], 1)
        groups = _overlapping_groups(word_boxes, word_orient, cfg.merge_overlap, centres)
        if groups.max() + 1 < len(word_boxes):
            word_boxes, word_scores, word_orient, word_orient_score = _merge_groups(
                groups, word_boxes, word_scores, word_orient, word_orient_score)
    owner = _assign(char_boxes, word_boxes, cfg.assign_margin)
    if cfg.adopt_gap is not None and (owner < 0).any() and len(word_boxes):
        word_boxes = word_boxes.copy()
        for _ in range(2):  # a second pass takes a second letter the first one made adjacent
            if not _adopt_orphans(char_boxes, word_boxes, word_orient, owner, cfg.adopt_gap):
                break
    if cfg.grow_to_chars and (owner >= 0).any():
        word_boxes = _grow_to_chars(char_boxes, word_boxes, word_orient, owner)
    if cfg.keep_orphan_chars and (owner < 0).any():
        orphans = np.nonzero(owner < 0)[0]
        new = len(word_boxes) + np.arange(len(orphans))
        word_boxes = np.concatenate([word_boxes, char_boxes[orphans]])
        word_scores = np.concatenate([word_scores, char_scores[orphans]])
        word_orient = np.concatenate([word_orient, np.zeros(len(orphans), np.int64)])
        word_orient_score = np.concatenate([word_orient_score, np.zeros(len(orphans))])
        owner[orphans] = new
    kept = owner >= 0
    char_boxes, char_scores, owner = char_boxes[kept], char_scores[kept], owner[kept]
    if len(owner):
        centres = np.stack([(char_boxes[:, 0] + char_boxes[:, 2]) / 2, (char_boxes[:, 1] + char_boxes[:, 3]) / 2], 1)
        along = (centres * _READING_DIRECTION[word_orient[owner]]).sum(axis=1)
        order = np.lexsort((along, owner))
        char_boxes, char_scores, owner = char_boxes[order], char_scores[order], owner[order]

    orientation, confidence = 0, None
    if len(word_orient):
        votes = np.bincount(word_orient, minlength=4)
        winner = int(votes.argmax())
        orientation, confidence = ORIENTATIONS[winner], float(votes[winner] / votes.sum())
    return Decoded(word_boxes, word_scores, word_orient.astype(np.int64), word_orient_score, char_boxes, char_scores,
                   owner.astype(np.int64), orientation, confidence)
