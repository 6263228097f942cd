"""Words → lines → blocks with DBSCAN, in reading order, written as ``Page.blocks``.

Two DBSCAN passes over sparse precomputed neighbourhoods (:mod:`.neighbours`): words whose
vertical extents overlap and whose horizontal gap is small against their height form lines;
lines stacked with a small vertical gap, overlapping horizontally and of similar text height,
form blocks. Both run in the page's reading frame (:mod:`.frame`), so a page turned by 90° or
skewed by two degrees clusters like an upright one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..document import Block, Line, Page
from ..geometry import box_from_quad
from .config import ClusterConfig
from .frame import ReadingFrame, WordGeometry
from .neighbours import block_pairs, dbscan_labels, line_pairs
from .order import row_order, xy_cut


@dataclass(frozen=True)
class Layout:
    """Clustering of one page in frame coordinates: what the template matcher reasons over.

    ``lines`` hold word indices (into ``page.words``) in reading order; ``blocks`` hold line
    indices; both lists are in reading order. ``line_boxes``/``block_boxes`` are frame boxes.
    """

    geometry: WordGeometry
    lines: list[list[int]]
    line_boxes: np.ndarray
    line_heights: np.ndarray
    blocks: list[list[int]]
    block_boxes: np.ndarray

    @property
    def frame(self) -> ReadingFrame:
        return self.geometry.frame


def _grouped(labels: np.ndarray, *keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Items sorted by (label, *keys) and the start of each label's run in that order."""
    order = np.lexsort((*reversed(keys), labels)) if keys else np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.nonzero(np.diff(labels[order]))[0] + 1])
    return order, starts


def _runs(order: np.ndarray, starts: np.ndarray) -> list[list[int]]:
    """``order`` cut at ``starts`` into lists (plain slicing: np.split costs more than the clustering)."""
    flat = order.tolist()
    bounds = starts.tolist() + [len(flat)]
    return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _union_boxes(boxes: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Union box of each run of ``boxes[order]`` beginning at ``starts``."""
    b = boxes[order]
    return np.stack([np.minimum.reduceat(b[:, 0], starts), np.minimum.reduceat(b[:, 1], starts),
                     np.maximum.reduceat(b[:, 2], starts), np.maximum.reduceat(b[:, 3], starts)], axis=1)


def _median_heights(labels: np.ndarray, heights: np.ndarray) -> np.ndarray:
    """Lower median of ``heights`` per label (labels 0..k-1): robust to a dot or a dash in a line."""
    order, starts = _grouped(labels, heights)
    counts = np.diff(np.concatenate([starts, [len(labels)]]))
    return heights[order[starts + (counts - 1) // 2]]


def layout_page(page: Page, config: ClusterConfig | None = None) -> Layout:
    """Cluster ``page.words`` into lines and blocks, in reading order (no Page is built)."""
    cfg = config or ClusterConfig()
    quads = np.asarray([w.quad for w in page.words], dtype=np.float64).reshape(-1, 4, 2)
    frame = ReadingFrame.for_page(page, cfg.deskew, quads)
    geo = WordGeometry.of(quads, frame)
    n = len(page.words)
    if n == 0:
        return Layout(geo, [], np.zeros((0, 4)), np.zeros(0), [], np.zeros((0, 4)))

    floor = cfg.height_floor * float(np.percentile(geo.heights, 75))
    i, j, d = line_pairs(geo.boxes, geo.heights, cfg, floor)
    word_labels = dbscan_labels(n, i, j, d, cfg.line_gap, cfg.min_samples)
    order, starts = _grouped(word_labels, geo.boxes[:, 0], geo.boxes[:, 1])  # left to right in a line
    lines = _runs(order, starts)
    line_boxes = _union_boxes(geo.boxes, order, starts)
    line_heights = _median_heights(word_labels, geo.heights)

    i, j, d = block_pairs(line_boxes, line_heights, cfg, floor)
    line_labels = dbscan_labels(len(lines), i, j, d, cfg.block_gap, cfg.min_samples)
    order, starts = _grouped(line_labels)
    blocks = [[g[k] for k in row_order(line_boxes[g])] if len(g) > 1 else g for g in _runs(order, starts)]
    block_boxes = _union_boxes(line_boxes, order, starts)

    order = xy_cut(block_boxes, cfg.cut_tolerance)
    blocks = [blocks[k] for k in order]
    block_boxes = block_boxes[order]
    # renumber lines in reading order so that Layout.lines is in reading order too
    line_order = [k for block in blocks for k in block]
    remap = {old: new for new, old in enumerate(line_order)}
    lines = [lines[k] for k in line_order]
    line_boxes, line_heights = line_boxes[line_order], line_heights[line_order]
    blocks = [[remap[k] for k in block] for block in blocks]
    return Layout(geo, lines, line_boxes, line_heights, blocks, block_boxes)


def layout_from_blocks(page: Page, config: ClusterConfig | None = None) -> Layout:
    """The :class:`Layout` of a page some clusterer already wrote ``page.blocks`` for.

    Stages after clustering reason in the reading frame; this rebuilds the frame geometry for
    whatever clusterer ran, so a plugin's lines and blocks are used as it made them.
    """
    cfg = config or ClusterConfig()
    quads = np.asarray([w.quad for w in page.words], dtype=np.float64).reshape(-1, 4, 2)
    frame = ReadingFrame.for_page(page, cfg.deskew, quads)
    geo = WordGeometry.of(quads, frame)
    index = {w.id: k for k, w in enumerate(page.words)}
    lines: list[list[int]] = []
    blocks: list[list[int]] = []
    for block in page.blocks:
        members = []
        for line in block.lines:
            words = [index[i] for i in line.word_ids if i in index]
            if words:
                members.append(len(lines))
                lines.append(words)
        if members:
            blocks.append(members)
    line_boxes = np.array([_union_boxes(geo.boxes, np.asarray(w), np.zeros(1, np.intp))[0] for w in lines]).reshape(-1, 4)
    line_heights = np.array([float(np.median(geo.heights[w])) for w in lines])
    block_boxes = np.array([_union_boxes(line_boxes, np.asarray(b), np.zeros(1, np.intp))[0] for b in blocks]).reshape(-1, 4)
    return Layout(geo, lines, line_boxes, line_heights, blocks, block_boxes)


def blocks_of(page: Page, layout: Layout) -> list[Block]:
    """The Document's blocks for ``layout``: ids in reading order, quads back in image pixels."""
    frame = layout.frame
    words = page.words
    out: list[Block] = []
    for b, block in enumerate(layout.blocks):
        lines = []
        for k in block:
            quad = frame.quad_of(layout.line_boxes[k])
            lines.append(Line.model_construct(
                id=f"p{page.index}-l{k}", quad=quad, box=box_from_quad(quad), confidence=1.0,
                word_ids=[words[w].id for w in layout.lines[k]],
            ))
        quad = frame.quad_of(layout.block_boxes[b])
        out.append(Block.model_construct(id=f"p{page.index}-b{b}", quad=quad, box=box_from_quad(quad),
                                         confidence=1.0, lines=lines))
    return out


def cluster_page(page: Page, config: ClusterConfig | None = None) -> list[Block]:
    """``page.words`` grouped into blocks of lines, in reading order."""
    return blocks_of(page, layout_page(page, config))
