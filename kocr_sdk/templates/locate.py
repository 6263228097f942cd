"""Where a field's value lies relative to its label: the template format's ``position`` rules.

All geometry is in the page's reading frame (:mod:`kocr_sdk.layout.frame`), so "right of" and
"below" mean what a reader means on a turned or skewed page too. Distances are in text heights.

- ``right``: the rest of the label's Line; when the label ends its Line (a key and a value in a
  far column are separate Lines, as clustering must keep them), the nearest Line to its right
  in the same row.
- ``below``: the nearest Line under the label that overlaps it horizontally.
- ``same_cluster``: what follows the label in its Block, in reading order, up to a line that
  has a partner across a gap in its row (the next key–value row, not the value wrapping on).
- ``region``: the words whose centres lie in a page-relative rectangle of the upright page.

A value stops where another field's label starts (``blocked``), so that ``상호 ㈜한빛 대표자 홍길동``
read as one Line still yields two fields. Punctuation-only words right after a label (``:``,
``-``) are separators, not values.
"""

from __future__ import annotations

import math
import re
from typing import Collection, Sequence

import numpy as np

from ..layout import ReadingFrame
from .fuzzy import PageIndex


_SEPARATOR = re.compile(r"^[:：;\-–—=|>»·.,/]+$")


def _take(words: Sequence[int], blocked: Collection[int], texts: Sequence[str]) -> list[int]:
    """``words`` without leading separators, cut before the first blocked word."""
    out: list[int] = []
    for w in words:
        if w in blocked:
            break
        if not out and (not texts[w].strip() or _SEPARATOR.match(texts[w].strip())):
            continue
        out.append(w)
    return out


class Locator:
    """Finds value words for anchors on one indexed page."""

    def __init__(self, index: PageIndex, right_reach: float = 40.0, below_reach: float = 3.0) -> None:
        self.index = index
        self.right_reach = right_reach
        self.below_reach = below_reach
        layout = index.layout
        self.boxes = layout.geometry.boxes
        self.heights = layout.geometry.heights
        self.texts = [w.text or "" for w in index.page.words]

    def _anchor_box(self, anchor: Sequence[int]) -> np.ndarray:
        b = self.boxes[list(anchor)]
        return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()])

    def right(self, anchor: Sequence[int], blocked: Collection[int]) -> list[int]:
        idx, layout = self.index, self.index.layout
        last = max(anchor, key=lambda w: self.boxes[w, 2])
        line = int(idx.line_of[last])
        rest = [w for w in layout.lines[line][int(idx.pos_in_line[last]) + 1:] if w not in anchor]
        value = _take(rest, blocked, self.texts)
        if value:
            return value
        if rest and rest[0] in blocked:
            return []
        box = self._anchor_box(anchor)
        h = float(np.median(self.heights[list(anchor)]))
        row = idx.rows[int(idx.row_of_line[line])]
        for other in row:
            lb = layout.line_boxes[other]
            if other == line or lb[0] < box[2] - 0.5 * h:
                continue
            if lb[0] - box[2] > self.right_reach * h:
                break
            words = layout.lines[other]
            if words and words[0] in blocked:
                return []
            value = _take(words, blocked, self.texts)
            if value:
                return value
        return []

    def below(self, anchor: Sequence[int], blocked: Collection[int]) -> list[int]:
        layout = self.index.layout
        box = self._anchor_box(anchor)
        h = float(np.median(self.heights[list(anchor)]))
        lb = layout.line_boxes
        if len(lb) == 0:
            return []
        ok = ((lb[:, 1] >= box[3] - 0.3 * h) & (lb[:, 1] - box[3] <= self.below_reach * h)
              & (lb[:, 0] < box[2] + h) & (lb[:, 2] > box[0] - h))
        for line in sorted(np.nonzero(ok)[0].tolist(), key=lambda k: (lb[k, 1], abs(lb[k, 0] - box[0]))):
            words = [w for w in layout.lines[line] if w not in anchor]
            value = _take(words, blocked, self.texts)
            if value:
                return value
            if words and words[0] in blocked:
                return []
        return []

    def same_cluster(self, anchor: Sequence[int], blocked: Collection[int]) -> list[int]:
        idx, layout = self.index, self.index.layout
        last = max(anchor, key=lambda w: idx.rank[w])
        line = int(idx.line_of[last])
        block = layout.blocks[int(idx.block_of_line[line])]
        after = list(layout.lines[line][int(idx.pos_in_line[last]) + 1:])
        for other in block[block.index(line) + 1:]:
            if len(idx.rows[int(idx.row_of_line[other])]) > 1:
                break  # a line with a partner across a gap is the next key–value row, not a wrapped value
            after.extend(layout.lines[other])
        return _take([w for w in after if w not in anchor], blocked, self.texts)

    def region(self, region: tuple[float, float, float, float], exclude: Collection[int] = ()) -> list[int]:
        """Words centred in ``region`` (page-relative x0, y0, x1, y1 of the upright page), in reading order."""
        page = self.index.page
        if not page.words:
            return []
        # Regions are fractions of the paper, which a skewed scan does not make any wider: use the
        # frame's quarter turn only, in which the page's own rectangle is exactly the paper.
        angle = self.index.layout.frame.angle
        upright = ReadingFrame(round(angle / (math.pi / 2)) * (math.pi / 2))
        centres = upright.to_frame(np.asarray([w.quad for w in page.words], dtype=np.float64).mean(axis=1))
        px0, py0, px1, py1 = upright.page_box(page)
        cx = (centres[:, 0] - px0) / max(px1 - px0, 1e-9)
        cy = (centres[:, 1] - py0) / max(py1 - py0, 1e-9)
        x0, y0, x1, y1 = region
        inside = np.nonzero((cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1))[0].tolist()
        words = sorted((w for w in inside if w not in exclude), key=lambda w: self.index.rank[w])
        return _take(words, (), self.texts)
