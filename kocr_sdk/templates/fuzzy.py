"""Finding label phrases on a page fuzzily: keywords that identify a form, anchors next to values.

OCR splits and misreads labels: ``사업자등록증`` comes back as six letter-spaced words, ``합    계``
as two words far apart, ``등록번호`` as ``등륵번호``. So a phrase is compared, with rapidfuzz,
against every *span* of up to ``max_words`` consecutive words of a row (the words a reader sees
side by side, across Line boundaries), joined after normalisation:

- NFKC, lower case, and only letters, digits and ``#`` kept: ``법인명(단체명)`` and
  ``법인명 (단체명) :`` compare equal, as do ``Invoice No.`` and ``INVOICE NO``;
- Hangul decomposed into jamo (NFD), so that one wrong vowel in a four-syllable label costs one
  jamo of eleven rather than a whole syllable of four: ``등록번호``/``등륵번호`` score 91, not 75.

Scores are rapidfuzz's ``ratio`` (0–100) computed for all phrases against all spans in one
``process.cdist`` call, in C.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from ..document import Page
from ..layout import Layout, rows_of

_DROP = re.compile(r"[^\w#]|_", re.UNICODE)


def label_key(text: str) -> str:
    """The form a phrase is compared in: see the module docstring."""
    text = _DROP.sub("", unicodedata.normalize("NFKC", text).lower())
    return unicodedata.normalize("NFD", text)


@dataclass(frozen=True)
class Span:
    """Consecutive words of one row (indices into ``page.words``), the text they spell, and where."""

    words: tuple[int, ...]
    key: str
    row: int
    rank: int  # reading-order position of the first word, for ties
    line_start: bool  # no word precedes it on its own Line: it reads as a label, not mid-phrase


@dataclass
class PageIndex:
    """A page's words arranged for label search: rows, spans, and reading-order lookups."""

    page: Page
    layout: Layout
    spans: list[Span]
    keys: list[str] = field(repr=False)
    line_of: np.ndarray = field(repr=False)  # word → line index
    pos_in_line: np.ndarray = field(repr=False)  # word → position in its line
    block_of_line: np.ndarray = field(repr=False)  # line → block index
    rank: np.ndarray = field(repr=False)  # word → reading-order position
    rows: list[list[int]] = field(repr=False)  # rows of line indices, left to right
    row_of_line: np.ndarray = field(repr=False)

    @classmethod
    def build(cls, page: Page, layout: Layout, max_words: int = 8, max_gap: float = 4.0) -> "PageIndex":
        """Index ``page`` clustered as ``layout``; split labels may span ``max_words`` words with
        gaps up to ``max_gap`` text heights (letter-spaced receipt labels)."""
        n = len(page.words)
        line_of = np.full(n, -1, np.intp)
        pos_in_line = np.zeros(n, np.intp)
        rank = np.zeros(n, np.intp)
        r = 0
        for li, words in enumerate(layout.lines):
            for p, w in enumerate(words):
                line_of[w], pos_in_line[w] = li, p
        for block in layout.blocks:
            for li in block:
                for w in layout.lines[li]:
                    rank[w] = r
                    r += 1
        block_of_line = np.zeros(len(layout.lines), np.intp)
        for b, block in enumerate(layout.blocks):
            block_of_line[block] = b
        rows = rows_of(layout.line_boxes) if len(layout.lines) else []
        row_of_line = np.zeros(len(layout.lines), np.intp)
        for ri, row in enumerate(rows):
            row_of_line[row] = ri
        word_keys = [label_key(w.text or "") for w in page.words]
        boxes, heights = layout.geometry.boxes, layout.geometry.heights
        spans: list[Span] = []
        for ri, row in enumerate(rows):
            words = [w for li in row for w in layout.lines[li]]
            words.sort(key=lambda w: boxes[w, 0])
            for s in range(len(words)):
                if not word_keys[words[s]]:
                    continue
                key = ""
                for e in range(s, min(len(words), s + max_words)):
                    if e > s:
                        a, b = words[e - 1], words[e]
                        if boxes[b, 0] - boxes[a, 2] > max_gap * max(heights[a], heights[b]):
                            break
                    key += word_keys[words[e]]
                    if word_keys[words[e]]:
                        spans.append(Span(tuple(words[s:e + 1]), key, ri, int(rank[words[s]]),
                                          bool(pos_in_line[words[s]] == 0)))
        return cls(page, layout, spans, [sp.key for sp in spans], line_of, pos_in_line, block_of_line, rank,
                   rows, row_of_line)

    def scores(self, phrases: list[str], partial: bool = False) -> np.ndarray:
        """Fuzzy score (0–100) of every phrase (rows) against every span (columns).

        ``partial`` scores the best-matching part of each span (``fuzz.partial_ratio``), for
        phrases printed glued to other words.
        """
        if not phrases or not self.spans:
            return np.zeros((len(phrases), len(self.spans)), np.float32)
        return process.cdist([label_key(p) for p in phrases], self.keys,
                             scorer=fuzz.partial_ratio if partial else fuzz.ratio, processor=None, dtype=np.float32)
