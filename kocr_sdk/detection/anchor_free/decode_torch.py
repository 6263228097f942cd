"""The detector decoding's dense steps in torch, for maps that arrive as torch tensors.

:mod:`.decode` does these steps in numpy (the onnx runtime has no torch). numpy's and torch's
float32 ``exp`` and ``sigmoid`` differ in the last bit on some inputs, and a box shifted by a
ten-thousandth of a pixel crops a word a little differently — enough to change a rare word's
reading. So maps from the torch network (the torch runtime, training's validation) keep going
through these, the steps they were measured with, and decode exactly as before; everything
after them (containment, merging, assignment, orientation) is :mod:`.decode`'s numpy, shared.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from .decode import DecodeConfig


@torch.inference_mode()
def level(out: dict[str, torch.Tensor], level: str, threshold: float, kernel: int, cfg: DecodeConfig, stride: int,
           height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (pixels), scores and peak cells (ys, xs) of one level, clipped to the image.

    Candidates are the locations above ``threshold`` (compared as logits: sigmoid is increasing,
    so it runs on candidates only); each predicts a box. Which candidates become detections is
    the ``peaks`` rule (module docstring).
    """
    ctr, reg, off = out[f"{level}_ctr"][0], out[f"{level}_reg"], out[f"{level}_off"]
    ys, xs = (ctr >= math.log(threshold / (1 - threshold))).nonzero(as_tuple=True)
    value = ctr[ys, xs]
    d = reg[:, ys, xs].clamp(-cfg.max_log_distance, cfg.max_log_distance).exp()  # cells: l, t, r, b
    o = off[:, ys, xs]
    cx, cy = xs.to(o.dtype) + 0.5 + o[0], ys.to(o.dtype) + 0.5 + o[1]  # centres, in cells
    hw, hh = (d[0] + d[2]) / 2, (d[1] + d[3]) / 2
    boxes_t = torch.stack([cx - hw, cy - hh, cx + hw, cy + hh], dim=1)  # cells
    if cfg.peaks == "votes":
        boxes_t, scores_t, cells_t = _vote_peaks(ctr.shape, ys, xs, value.sigmoid(), boxes_t, kernel, cfg.same_box)
    else:
        keep = _centerness_peaks(ctr, off, ys, xs, value, cx, cy, hw, hh, kernel, cfg.same_box)
        boxes_t, scores_t, cells_t = boxes_t[keep], value[keep].sigmoid(), torch.stack([ys, xs], dim=1)[keep]
    boxes = (boxes_t * stride).double().numpy()
    scores, cells = scores_t.double().numpy(), cells_t.numpy()
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


def _same_box(dx: torch.Tensor, dy: torch.Tensor, tol_x: torch.Tensor, tol_y: torch.Tensor) -> torch.Tensor:
    return (dx.abs() < tol_x) & (dy.abs() < tol_y)


def _centerness_peaks(ctr, off, ys, xs, value, cx, cy, hw, hh, kernel: int, same_box: float) -> torch.Tensor:
    """Mask of the candidates that no higher location of their window *predicting the same box*
    beats (``same_box <= 0``: any higher location — the plain max-pool rule)."""
    h, w = ctr.shape
    r = kernel // 2
    if same_box <= 0:
        pooled = F.max_pool2d(ctr[None, None], kernel, stride=1, padding=r)[0, 0]
        return pooled[ys, xs] <= value
    tol_x, tol_y = (same_box * 2 * hw).clamp(min=1.0), (same_box * 2 * hh).clamp(min=1.0)
    suppressed = torch.zeros_like(value, dtype=torch.bool)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy == 0 and dx == 0:
                continue
            ny, nx = ys + dy, xs + dx
            inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
            ny, nx = ny.clamp(0, h - 1), nx.clamp(0, w - 1)
            ncx = nx.to(cx.dtype) + 0.5 + off[0, ny, nx]
            ncy = ny.to(cy.dtype) + 0.5 + off[1, ny, nx]
            suppressed |= inside & (ctr[ny, nx] > value) & _same_box(ncx - cx, ncy - cy, tol_x, tol_y)
    return ~suppressed


def _vote_peaks(shape: tuple[int, int], ys, xs, score, boxes, kernel: int, same_box: float):
    """Centre voting: every candidate votes, with its centerness, for the cell its box is centred
    in. A cell's box is the vote-weighted mean of its voters' boxes, its score their best
    centerness, its location (for orientation) its best voter's. A cell is a detection unless a
    cell of its window has more votes *and a box centred within* ``same_box`` of its size (at
    least a cell) — the same word, split across neighbouring cells by noisy offsets."""
    h, w = shape
    kx, ky = boxes[:, [0, 2]].mean(dim=1).floor().long(), boxes[:, [1, 3]].mean(dim=1).floor().long()
    inmap = (kx >= 0) & (kx < w) & (ky >= 0) & (ky < h)
    ys, xs, score, boxes, kx, ky = ys[inmap], xs[inmap], score[inmap], boxes[inmap], kx[inmap], ky[inmap]
    if not len(score):
        return boxes, score, torch.zeros((0, 2), dtype=torch.long)
    key = ky * w + kx
    votes = torch.zeros(h * w, dtype=score.dtype).index_add_(0, key, score)
    summed = torch.zeros(h * w, 4, dtype=boxes.dtype).index_add_(0, key, boxes * score[:, None])
    order = torch.argsort(score, descending=True, stable=True)
    keys_sorted = key[order].numpy()
    _, first = np.unique(keys_sorted, return_index=True)
    best = order[torch.from_numpy(first)]  # best voter of each occupied cell
    cells_key = key[best]
    mean_box = summed[cells_key] / votes[cells_key, None]
    mcx, mcy = (mean_box[:, 0] + mean_box[:, 2]) / 2, (mean_box[:, 1] + mean_box[:, 3]) / 2
    centre_x = torch.zeros(h * w, dtype=boxes.dtype)
    centre_y = torch.zeros(h * w, dtype=boxes.dtype)
    centre_x[cells_key], centre_y[cells_key] = mcx, mcy
    occupied = torch.zeros(h * w, dtype=torch.bool)
    occupied[cells_key] = True
    tol_x = (same_box * (mean_box[:, 2] - mean_box[:, 0])).clamp(min=1.0)
    tol_y = (same_box * (mean_box[:, 3] - mean_box[:, 1])).clamp(min=1.0)
    cy0, cx0 = cells_key // w, cells_key % w
    mine = votes[cells_key]
    suppressed = torch.zeros(len(cells_key), dtype=torch.bool)
    r = kernel // 2
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy == 0 and dx == 0:
                continue
            ny, nx = cy0 + dy, cx0 + dx
            inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
            nk = ny.clamp(0, h - 1) * w + nx.clamp(0, w - 1)
            suppressed |= (inside & occupied[nk] & (votes[nk] > mine)
                           & _same_box(centre_x[nk] - mcx, centre_y[nk] - mcy, tol_x, tol_y))
    keep = ~suppressed
    return mean_box[keep], score[best][keep], torch.stack([ys[best], xs[best]], dim=1)[keep]


@torch.inference_mode()
def orientation_votes(orient: torch.Tensor, cells: np.ndarray, window: int) -> np.ndarray:
    """(N, 4) mean orientation probabilities over the ``window``² cells around each peak."""
    if not len(cells):
        return np.zeros((0, 4))
    _, h, w = orient.shape
    ys, xs = torch.from_numpy(cells[:, 0]), torch.from_numpy(cells[:, 1])
    total = torch.zeros(len(cells), 4)
    count = torch.zeros(len(cells), 1)
    r = window // 2
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            ny, nx = ys + dy, xs + dx
            inside = ((ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)).float()[:, None]
            p = orient[:, ny.clamp(0, h - 1), nx.clamp(0, w - 1)].T.sigmoid()
            total += p * inside
            count += inside
    return (total / count).double().numpy()
