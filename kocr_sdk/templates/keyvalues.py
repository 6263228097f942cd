"""Key–value pairs without a template: ``Page.key_values``.

A form nobody wrote a template for still prints labels next to values, in a few layouts that
geometry alone can tell apart; each page gets the pairs found, so its structure is not lost:

- ``inline``: ``label: value`` on one line (``성명:홍길동``, ``Date: 03/05/2021``); a line may
  hold several (``Name: John  Date: 1990``), the next key starting at the widest gap before the
  next colon;
- ``right``: a short label, then its value as the next line of its row across a gap (a key
  column and a value column, a ruled form's cells), or after a colon that ends its line;
- ``below``: a short label with its value on the next line under it (a box's caption);
- ``table``: a header row of three or more short cells, each cell of the rows under it paired
  with the header above it.

A *label* is short (``max_label_words`` words, ``max_label_chars`` characters), has letters
and few digits, and is not a sentence; a colon after it is the strongest sign. Values are what
follows; a label with nothing after it (a blank field) gets ``value: null``. The confidence is
the layout's prior (inline 0.9, table 0.75, right 0.7, below 0.6) times the words' OCR confidence.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..document import KeyValue, Page
from .fuzzy import PageIndex
from .locate import Locator

__all__ = ["KeyValueConfig", "extract_key_values"]

_PRIOR = {"inline": 0.9, "table": 0.75, "right": 0.7, "below": 0.6}
_COLON = re.compile(r"^(?P<key>.*[^\W\d_].*?)\s*[:：]\s*(?P<rest>.*)$")
_SENTENCE_END = re.compile(r"(?:[.!?]|다\.?|요\.?)$")


class KeyValueConfig(BaseModel):
    """Options of key–value extraction (engine ``options: {fuzzy: {key_values: {...}}}``)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Find key–value pairs on every page.")
    max_label_words: int = Field(5, ge=1, description="Most words a label may have.")
    max_label_chars: int = Field(30, ge=1, description="Most characters (without spaces) a label may have.")
    below: bool = Field(True, description="Pair a label with the line under it.")
    tables: bool = Field(True, description="Pair table cells with their column headers.")


def _label_like(text: str, cfg: KeyValueConfig) -> bool:
    t = text.strip().rstrip(":：").strip()
    compact = t.replace(" ", "")
    if not compact or len(compact) > cfg.max_label_chars or len(t.split()) > cfg.max_label_words:
        return False
    letters = sum(c.isalpha() for c in compact)
    digits = sum(c.isdigit() for c in compact)
    if letters == 0 or digits * 2 > letters:
        return False
    return not (_SENTENCE_END.search(t) and len(t.split()) > 2)


def _colon_key(text: str) -> tuple[str, str] | None:
    """(key part, rest) of a word that ends a label with a colon (``성명:`` / ``성명:홍길동``);
    None for a time (``08:37``), a URL (``http://``) or a colon inside digits."""
    if "://" in text:
        return None
    m = _COLON.match(text)
    if m is None:
        return None
    key = m.group("key")
    if not any(c.isalpha() for c in key) or re.search(r"\d[:：]\d", text):
        return None
    return key, m.group("rest")


class _Builder:
    def __init__(self, page: Page, index: PageIndex, locator: Locator, cfg: KeyValueConfig) -> None:
        self.page, self.index, self.loc, self.cfg = page, index, locator, cfg
        self.layout = index.layout
        self.texts = locator.texts
        self.boxes = locator.boxes
        self.heights = locator.heights
        self.used: set[int] = set()  # words already in a pair
        self.pairs: list[KeyValue] = []

    # -- helpers ------------------------------------------------------------------------------
    def text(self, words: Sequence[int]) -> str:
        return " ".join(self.texts[w] for w in words)

    def add(self, key_words: list[int], key: str, value_words: list[int], value: str | None, layout: str) -> None:
        key = key.strip().rstrip(":：").strip()
        if not key:
            return
        words = key_words + value_words
        confs = [self.page.words[w].text_confidence for w in words]
        conf = float(np.mean([1.0 if c is None else c for c in confs])) * _PRIOR[layout]
        self.pairs.append(KeyValue(
            key=key, value=(value.strip() or None) if value is not None else None,
            key_word_ids=[self.page.words[w].id for w in key_words],
            value_word_ids=[self.page.words[w].id for w in value_words],
            layout=layout, confidence=round(min(1.0, conf), 6)))  # type: ignore[arg-type]
        self.used.update(words)

    def right_line(self, line: int) -> int | None:
        """The next Line to the right of ``line`` in its row, when nothing of it is used yet."""
        idx = self.index
        row = idx.rows[int(idx.row_of_line[line])]
        k = row.index(line)
        if k + 1 < len(row):
            nxt = row[k + 1]
            words = self.layout.lines[nxt]
            if words and not self.used & set(words):
                return nxt
        return None

    def line_below(self, words: list[int]) -> int | None:
        """The Line right under ``words`` (within one text height), starting near their left edge."""
        lb = self.layout.line_boxes
        x0, x1 = float(self.boxes[words, 0].min()), float(self.boxes[words, 2].max())
        bottom = float(self.boxes[words, 3].max())
        h = float(np.median(self.heights[words]))
        ok = np.nonzero((lb[:, 1] >= bottom - 0.3 * h) & (lb[:, 1] - bottom <= 1.2 * h)
                        & (lb[:, 0] < x1) & (lb[:, 2] > x0) & (np.abs(lb[:, 0] - x0) <= 3 * h))[0].tolist()
        ok = [k for k in ok if not self.used & set(self.layout.lines[k])]
        return min(ok, key=lambda k: lb[k, 1]) if ok else None

    # -- layouts ------------------------------------------------------------------------------
    def tables(self) -> None:
        """Header rows of three or more short cells with rows of cells aligned under them."""
        lb, rows = self.layout.line_boxes, self.index.rows
        for ri, row in enumerate(rows):
            if len(row) < 3 or any(self.used & set(self.layout.lines[li]) for li in row):
                continue
            if not all(_label_like(self.text(self.layout.lines[li]), self.cfg) for li in row):
                continue
            header = row
            cells_below: list[list[tuple[int, int]]] = []
            for nxt in rows[ri + 1:ri + 60]:
                pairs = []
                for li in nxt:
                    cx0, cx1 = lb[li, 0], lb[li, 2]
                    best, overlap = None, 0.0
                    for hi in header:
                        o = min(cx1, lb[hi, 2]) - max(cx0, lb[hi, 0])
                        # right-aligned numbers under a header: overlap, or end near the header's end
                        if o > overlap or (best is None and abs(cx1 - lb[hi, 2]) < 2 * self.layout.line_heights[hi]):
                            best, overlap = hi, max(o, overlap)
                    if best is not None:
                        pairs.append((best, li))
                if len(pairs) < 2 or len({h for h, _ in pairs}) < 2:
                    break
                cells_below.append(pairs)
            if not cells_below:
                continue
            for pairs in cells_below:
                for hi, li in pairs:
                    words = self.layout.lines[li]
                    hw = self.layout.lines[hi]
                    key_words = [w for w in hw if w not in self.used] or list(hw)
                    self.add(key_words, self.text(hw), list(words), self.text(words), "table")
                    self.used.update(hw)

    def inline_and_right(self) -> None:
        """``label: value`` runs within lines, and labels whose value is the next line of their row."""
        for li, words in enumerate(self.layout.lines):
            if self.used & set(words):
                continue
            marks: list[tuple[int, tuple[str, str] | None]] = []
            for k, w in enumerate(words):
                kr = _colon_key(self.texts[w])
                if kr is not None and _label_like(kr[0], self.cfg):
                    marks.append((k, kr))
            if marks:
                self._inline(li, words, marks)
                continue
            text = self.text(words)
            if not _label_like(text, self.cfg):
                continue
            nxt = self.right_line(li)
            if nxt is not None:
                value_words = self.layout.lines[nxt]
                if not _label_like(self.text(value_words), self.cfg) or self._value_like(value_words) \
                        or len(self.index.rows[int(self.index.row_of_line[li])]) == 2:
                    self.add(list(words), text, list(value_words), self.text(value_words), "right")

    def _inline(self, li: int, words: list[int], marks: list[tuple[int, tuple[str, str] | None]]) -> None:
        starts = []
        prev_end = 0
        for n, (k, _kr) in enumerate(marks):
            start = k
            # the key starts at the widest gap between the previous value and its colon word
            if n > 0 and k > prev_end:
                gaps = [(self.boxes[words[j], 0] - self.boxes[words[j - 1], 2], j) for j in range(prev_end + 1, k + 1)]
                h = float(np.median(self.heights[words]))
                wide = [(g, j) for g, j in gaps if g > 1.0 * h]
                start = max(wide)[1] if wide else k
            elif n == 0:
                start = 0
            starts.append(start)
            prev_end = k
        for n, (k, kr) in enumerate(marks):
            assert kr is not None
            key_part, rest = kr
            key_words = list(words[starts[n]:k + 1])
            key = self.text(words[starts[n]:k]) + (" " if k > starts[n] else "") + key_part
            end = starts[n + 1] if n + 1 < len(marks) else len(words)
            value_words = list(words[k + 1:end])
            value = (rest + " " if rest else "") + self.text(value_words)
            layout = "inline"
            if rest:
                value_words = [words[k]] + value_words
                key_words = key_words[:-1] if k > starts[n] else key_words
            if not value.strip() and n + 1 == len(marks):
                nxt = self.right_line(li)
                if nxt is not None:
                    value_words, value, layout = list(self.layout.lines[nxt]), self.text(self.layout.lines[nxt]), "right"
                elif self.cfg.below:
                    below = self.line_below(list(words[starts[n]:k + 1]))
                    if below is not None and not _colon_key(self.texts[self.layout.lines[below][0]]):
                        value_words, value, layout = list(self.layout.lines[below]), self.text(self.layout.lines[below]), "below"
            self.add(key_words, key, value_words, value if value.strip() else None, layout)

    def _value_like(self, words: Sequence[int]) -> bool:
        ids = {self.page.words[w].id for w in words}
        return any(c.isdigit() for w in words for c in self.texts[w]) or any(
            ids & set(e.word_ids) for e in self.page.entities)

    def below_pairs(self) -> None:
        """Short labels alone in their row with a value-like line right under them."""
        for words in self.layout.lines:
            if self.used & set(words):
                continue
            text = self.text(words)
            if not _label_like(text, self.cfg):
                continue
            below = self.line_below(list(words))
            if below is None:
                continue
            value_words = self.layout.lines[below]
            if self._value_like(value_words) and not _label_like(self.text(value_words), self.cfg):
                self.add(list(words), text, list(value_words), self.text(value_words), "below")


def extract_key_values(page: Page, index: PageIndex, locator: Locator, config: KeyValueConfig | None = None) -> list[KeyValue]:
    """The key–value pairs of an indexed page, in reading order of their keys."""
    cfg = config or KeyValueConfig()
    if not page.words or not index.layout.lines:
        return []
    b = _Builder(page, index, locator, cfg)
    if cfg.tables:
        b.tables()
    b.inline_and_right()
    if cfg.below:
        b.below_pairs()
    order = {w.id: int(index.rank[k]) for k, w in enumerate(page.words)}
    return sorted(b.pairs, key=lambda p: min((order.get(i, 0) for i in p.key_word_ids), default=0))
