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

Rules without a label work on *rows* (the lines a reader sees side by side, top to bottom):
``first_lines`` takes the first rows of the text, ``after`` the rows under another field's
value, and any value may run on over the rows below it (``lines``, ``until``, ``stop_before``:
an address or a company name printed over two lines). ``table`` reads the rows under a header
as items, their trailing numbers split into columns.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Collection, Sequence

import numpy as np

from ..layout import ReadingFrame
from .fuzzy import PageIndex
from .normalize import find_spans, normalize_amount, normalize_number
from .patterns import compile_pattern
from .rules import Column, FieldRule


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


def slanted_rows(index: PageIndex) -> list[list[int]]:
    """Rows of Lines (indices), top to bottom, each left to right, allowing for a slant that
    changes down the page.

    A phone photo of a receipt is a perspective view: the frame's one angle levels the top of
    the paper but not its foot, where an amount at the right edge can sit most of a line higher
    than its label at the left. Each word's slope (the line through its characters' centres,
    else its quad's top edge) is fitted as a linear function of its height on the page; each
    Line's centre is then moved along that slope to the page's middle, and Lines whose moved
    centres lie within half a text height of each other, and that do not overlap side by side,
    are one row.
    """
    layout, page = index.layout, index.page
    n = len(layout.lines)
    if n == 0:
        return []
    frame = layout.frame
    boxes, heights = layout.geometry.boxes, layout.geometry.heights
    ends = np.empty((len(page.words), 2, 2), np.float64)  # first and last character centre (else top edge)
    for k, w in enumerate(page.words):
        if len(w.chars) >= 3:
            for j, c in ((0, w.chars[0]), (1, w.chars[-1])):
                q = c.quad
                ends[k, j] = ((q[0][0] + q[1][0] + q[2][0] + q[3][0]) / 4, (q[0][1] + q[1][1] + q[2][1] + q[3][1]) / 4)
        else:
            ends[k] = (w.quad[0], w.quad[1])
    pts = frame.to_frame(ends)
    dx, dy = pts[:, 1, 0] - pts[:, 0, 0], pts[:, 1, 1] - pts[:, 0, 1]
    ok = dx > heights
    slope = np.where(ok, dy / np.maximum(dx, 1e-9), 0.0)
    ok &= np.abs(slope) < 0.3
    a = b = 0.0
    if ok.sum() >= 3:
        yv, sv, wv = (boxes[ok, 1] + boxes[ok, 3]) / 2, slope[ok], dx[ok]
        if float(yv.max() - yv.min()) > 0:
            b, a = np.polyfit(yv, sv, 1, w=np.sqrt(wv))
        else:
            a = float(np.average(sv, weights=wv))
    lb = layout.line_boxes
    cx, cy = (lb[:, 0] + lb[:, 2]) / 2, (lb[:, 1] + lb[:, 3]) / 2
    mid = float(np.median(cx))
    level = cy - (a + b * cy) * (cx - mid)
    lh = np.maximum(layout.line_heights, 1e-3)
    rows: list[list[int]] = []
    centres: list[float] = []
    for k in np.argsort(level, kind="stable").tolist():
        placed = False
        for r in range(len(rows) - 1, max(-1, len(rows) - 3), -1):
            if abs(level[k] - centres[r]) <= 0.5 * min(lh[k], float(np.median(lh[rows[r]]))) and all(
                    min(lb[k, 2], lb[j, 2]) - max(lb[k, 0], lb[j, 0]) <= 0 for j in rows[r]):
                rows[r].append(k)
                centres[r] = float(np.mean(level[rows[r]]))
                placed = True
                break
        if not placed:
            rows.append([k])
            centres.append(float(level[k]))
    order = np.argsort(centres, kind="stable").tolist()
    return [sorted(rows[r], key=lambda k: lb[k, 0]) for r in order]


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
        # rows of words, top to bottom, each left to right: what "the next line" means without a label
        self.line_rows = slanted_rows(index)
        self.row_of_line = {li: r for r, row in enumerate(self.line_rows) for li in row}
        self.rows: list[list[int]] = []
        for row in self.line_rows:
            words = [w for li in row for w in layout.lines[li]]
            words.sort(key=lambda w: self.boxes[w, 0])
            if words:
                self.rows.append(words)
        self.row_of = {w: r for r, words in enumerate(self.rows) for w in words}
        self.row_texts = [" ".join(self.texts[w] for w in words) for words in self.rows]
        self.row_heights = [float(np.median(self.heights[words])) for words in self.rows]
        tops = [float(self.boxes[words, 1].min()) for words in self.rows]
        steps = np.diff(tops) if len(tops) > 1 else np.zeros(0)
        # the page's line pitch, top to top: a gap of more than a blank line ends a multi-line value
        self.pitch = float(np.median(steps[steps > 0])) if (steps > 0).any() else 0.0

    def _anchor_box(self, anchor: Sequence[int]) -> np.ndarray:
        b = self.boxes[list(anchor)]
        return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()])

    def right(self, anchor: Sequence[int], blocked: Collection[int], accept: Any = None) -> list[int]:
        """The value right of ``anchor``; with ``accept`` (a text → bool: does it hold a value of
        the field's type?), a rest of the line it refuses (``TOTAL (INCL GST)   RM289.59`` read as
        ``TOTAL`` and ``(INCL GST)``) gives way to the next Line of the row."""
        idx, layout = self.index, self.index.layout
        last = max(anchor, key=lambda w: self.boxes[w, 2])
        line = int(idx.line_of[last])
        rest = [w for w in layout.lines[line][int(idx.pos_in_line[last]) + 1:] if w not in anchor]
        value = _take(rest, blocked, self.texts)
        if value and (accept is None or accept(" ".join(self.texts[w] for w in value))):
            return value
        first_try = value
        if rest and rest[0] in blocked:
            return first_try
        box = self._anchor_box(anchor)
        h = float(np.median(self.heights[list(anchor)]))
        row = self.line_rows[self.row_of_line[line]]
        for other in row:
            lb = layout.line_boxes[other]
            if other == line or lb[0] < box[2] - 0.5 * h:
                continue
            if lb[0] - box[2] > self.right_reach * h:
                break
            words = layout.lines[other]
            if words and words[0] in blocked:
                return first_try
            value = _take(words, blocked, self.texts)
            if value and (accept is None or accept(" ".join(self.texts[w] for w in value))):
                return value
            if value and not first_try:
                return value
        return first_try

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

    def region(self, region: tuple[float, float, float, float], exclude: Collection[int] = (),
               of_text: bool = False) -> list[int]:
        """Words centred in ``region`` (x0, y0, x1, y1 of the upright page, or with ``of_text`` of
        the box around its words), in reading order."""
        page = self.index.page
        if not page.words:
            return []
        if of_text:
            return self._in_text_region(region, exclude)
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

    def _in_text_region(self, region: tuple[float, float, float, float], exclude: Collection[int]) -> list[int]:
        b = self.boxes
        x0, y0 = float(b[:, 0].min()), float(b[:, 1].min())
        w, h = max(float(b[:, 2].max()) - x0, 1e-9), max(float(b[:, 3].max()) - y0, 1e-9)
        cx = ((b[:, 0] + b[:, 2]) / 2 - x0) / w
        cy = ((b[:, 1] + b[:, 3]) / 2 - y0) / h
        rx0, ry0, rx1, ry1 = region
        inside = np.nonzero((cx >= rx0) & (cx <= rx1) & (cy >= ry0) & (cy <= ry1))[0].tolist()
        return sorted((w for w in inside if w not in exclude), key=lambda w: self.index.rank[w])

    # -- rows: values without a label ------------------------------------------------------------
    def _matches(self, pattern: str | None, text: str) -> bool:
        return pattern is not None and compile_pattern(pattern).search(text) is not None

    def _skipped(self, r: int, rule: FieldRule, blocked: Collection[int]) -> bool:
        """Whether row ``r`` is passed over: no letter or digit, a ``skip`` pattern, another field's label."""
        text = self.row_texts[r]
        if not any(c.isalnum() for c in text):
            return True
        if any(self._matches(p, text) for p in rule.skip):
            return True
        return all(w in blocked for w in self.rows[r] if any(c.isalnum() for c in self.texts[w]))

    def first_lines(self, rule: FieldRule, blocked: Collection[int], accept: Any = None) -> list[int]:
        """The first row of the text (within ``rule.within`` rows of the top) that is not skipped
        and that ``accept`` (a row's text → bool) takes, run on over the rows below it."""
        for r in range(min(rule.within, len(self.rows))):
            if self._skipped(r, rule, blocked):
                continue
            words = _take([w for w in self.rows[r]], blocked, self.texts)
            if words and (accept is None or accept(" ".join(self.texts[w] for w in words))):
                return self.extend(words, rule, blocked)
        return []

    def after(self, previous: Sequence[int], rule: FieldRule, blocked: Collection[int]) -> list[int]:
        """The rows under another field's value (``previous``), skipped rows passed over."""
        if not previous:
            return []
        last = max(self.row_of.get(w, -1) for w in previous)
        for r in range(last + 1, min(len(self.rows), last + 1 + rule.within)):
            if self._skipped(r, rule, blocked):
                continue
            words = _take([w for w in self.rows[r] if w not in previous], blocked, self.texts)
            return self.extend(words, rule, blocked) if words else []
        return []

    def extend(self, words: list[int], rule: FieldRule, blocked: Collection[int], column: bool = False) -> list[int]:
        """``words`` run on over the rows below, up to ``rule.lines`` rows in all.

        The value ends with a row that matches ``until`` (when no row within reach does, it is
        its first row alone), before a row that matches ``stop_before``, at a gap of more than a
        blank line, or at another field's label. ``column`` keeps to the words under the value
        (a value right of its label wraps under itself, not under the label).
        """
        if rule.lines <= 1 or not words:
            return words
        first = max(self.row_of.get(w, -1) for w in words)
        if first < 0:
            return words
        x0 = float(self.boxes[words, 0].min())
        h = float(np.median(self.heights[words]))
        out, taken = list(words), [list(words)]
        top = float(self.boxes[words, 1].min())
        reach = 1.6 * max(self.pitch, 1.5 * h)
        if self._matches(rule.until, " ".join(self.texts[w] for w in words)):
            return out
        for r in range(first + 1, min(len(self.rows), first + rule.lines)):
            if column and any(self.boxes[w, 2] <= x0 - h for w in self.rows[r]):
                break  # a label in the label column: the next key–value row, not the value wrapping on
            row = [w for w in self.rows[r] if not column or self.boxes[w, 2] > x0 - h]
            if not row or float(self.boxes[row, 1].min()) - top > reach:
                break
            text = " ".join(self.texts[w] for w in row)
            if self._matches(rule.stop_before, text) or any(w in blocked for w in row):
                break
            taken.append(row)
            out.extend(row)
            top = float(self.boxes[row, 1].min())
            if self._matches(rule.until, text):
                return out
        if rule.until is not None:
            return taken[0]
        return out

    # -- tables ---------------------------------------------------------------------------------
    def table(self, header: Sequence[int], columns: Sequence[Column], rule: FieldRule,
              blocked: Collection[int]) -> list["TableRow"]:
        """Item rows under the header row of ``header`` (an anchor), until ``stop_before`` or a row
        of another field's label: each row's trailing numbers fill the numeric ``columns`` from
        the right, the words before them the text column. A row whose last number does not reach
        the header's last column is a name alone, completed by the row of numbers under it (items
        printed over two lines, the second often led by a barcode); a row whose amount is negative
        (a discount) is not an item."""
        start = max(self.row_of.get(w, -1) for w in header)
        if start < 0:
            return []
        head_row = [w for w in self.rows[start]]
        last_col = float(self.boxes[head_row, 0].max()) - float(np.median(self.heights[head_row]))
        rows: list[TableRow] = []
        pending: list[int] | None = None
        for r in range(start + 1, len(self.rows)):
            words = [w for w in self.rows[r] if w not in header]
            text = " ".join(self.texts[w] for w in words)
            if not words or self._matches(rule.stop_before, text) or any(w in blocked for w in words):
                break
            if not any(c.isalnum() for c in text):
                continue  # a rule of dashes between header and items
            name_words, cells = _split_row(words, self.texts, columns)
            if cells is not None and float(self.boxes[words[-1], 2]) < last_col:
                name_words, cells = words, None  # numbers short of the price column: part of a name
            if name_words and not any(c.isalpha() for w in name_words for c in self.texts[w]):
                name_words = []  # a barcode or an item code, not a name
            if cells is None:
                pending = name_words or None
                continue
            if any(isinstance(v, (int, float)) and v < 0 for v, _ in cells.values()):
                pending = None
                continue
            if not name_words and pending is not None:
                name_words, pending = pending, None
            elif pending is not None:
                pending = None
            text_col = next((c.name for c in columns if c.type == "text"), None)
            if text_col is not None:
                cells.pop(text_col, None)
                if name_words:
                    cells = {text_col: (" ".join(self.texts[w] for w in name_words), name_words), **cells}
            rows.append(TableRow(name_words, cells, words if not name_words else sorted(set(name_words) | set(words))))
        return rows


@dataclass
class TableRow:
    """One item of a ``table`` field: its text words and its cells (column → (value, words))."""

    name_words: list[int]
    cells: dict[str, tuple[Any, list[int]]]
    words: list[int]


_COUNT = re.compile(r"^(?:[xX×]\s?)?(\d{1,3})(?:\s?(?:개|EA|ea|pcs|PCS|x|X))?$")


def _cell_value(kind: str, text: str) -> Any:
    if kind == "amount":
        amount = normalize_amount(text).value
        return amount.get("value") if isinstance(amount, dict) else None
    m = _COUNT.match(text.strip())
    if m:
        return int(m.group(1))
    return normalize_number(text).value


def _split_row(words: list[int], texts: Sequence[str], columns: Sequence[Column]
               ) -> tuple[list[int], dict[str, tuple[Any, list[int]]] | None]:
    """A row's leading words (the text column) and its trailing numbers by column, right to left.

    A ``number`` column takes a count (``2``, ``x2``, ``2개``: three digits at most, no separator),
    an ``amount`` column any amount; None when the row has no number at its end.
    """
    numeric = [c for c in columns if c.type != "text"]
    trailing: list[int] = []
    for w in reversed(words):
        t = texts[w].strip()
        if _is_whole(t) or _COUNT.match(t):
            trailing.insert(0, w)
        else:
            break
    if not trailing:
        return words, None
    cells: dict[str, tuple[Any, list[int]]] = {}
    tokens = list(trailing)
    first = len(words)
    for col in reversed(numeric):
        if not tokens:
            break
        if col.type == "number":
            pick = next((w for w in reversed(tokens) if _COUNT.match(texts[w].strip())), None)
            if pick is None:
                continue
        else:
            pick = tokens[-1]
        cells[col.name] = (_cell_value(col.type, texts[pick]), [pick])
        first = min(first, words.index(pick))
        tokens = tokens[:tokens.index(pick)]
    return words[:first], cells  # numbers no column took stay in the name (``두부 4개``)


def _is_whole(text: str) -> bool:
    """Whether ``text`` is one amount and nothing else."""
    spans = find_spans("amount", text)
    return len(spans) == 1 and spans[0] == (0, len(text))
