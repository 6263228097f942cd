"""A page as lines of text in reading order, and from character spans of a line back to words.

NER and the spaCy conversion read a page line by line in reading order: a line's text is its words' texts joined by
single spaces, and every word remembers where it starts, so a character span the tagger finds
maps back to the words it covers and to the characters *within* each word — an entity can be
part of a word (``성명:홍길동`` read as one box) or run over several (``2021년 3월 5일``).

Lines come from the clusterer (``Page.blocks``), which the engine runs before NER. Without a
clusterer, words are grouped in the detector's order: a word joins the current line when it
overlaps it vertically by half its height and starts to the right of the line's last word.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from ..geometry import Box, union_box

if TYPE_CHECKING:  # the document model imports this module's users; these names are for typing only
    from ..document import Page, Word


class CharSpan(NamedTuple):
    """Part of one word a line span covers: the word's id and character offsets inside its text
    (the fields of :class:`~kocr_sdk.document.WordSpan`)."""

    word_id: str
    start: int
    end: int


@dataclass(frozen=True)
class LineText:
    """A line's text and, for each of its words, the word id and where its text starts."""

    text: str
    word_ids: tuple[str, ...]
    starts: tuple[int, ...]
    lengths: tuple[int, ...]

    def spans_of(self, start: int, end: int) -> list[CharSpan]:
        """The words a character span ``[start, end)`` of the line covers, with offsets inside each word."""
        out = []
        for wid, ws, n in zip(self.word_ids, self.starts, self.lengths):
            s, e = max(start, ws), min(end, ws + n)
            if s < e:
                out.append(CharSpan(wid, s - ws, e - ws))
        return out


def word_text(word: Word) -> str:
    """The text NER reads for a word: NFC (decomposed jamo recomposed), spaces inside kept."""
    return unicodedata.normalize("NFC", word.text or "").strip()


def line_text(words: list[Word]) -> LineText:
    """Join words into a line's text, recording each word's position."""
    parts, ids, starts, lengths = [], [], [], []
    pos = 0
    for w in words:
        t = word_text(w)
        if not t:
            continue
        if parts:
            pos += 1
        ids.append(w.id)
        starts.append(pos)
        lengths.append(len(t))
        parts.append(t)
        pos += len(t)
    return LineText(" ".join(parts), tuple(ids), tuple(starts), tuple(lengths))


def page_lines(page: Page) -> list[LineText]:
    """The page's lines in reading order, as NER reads them (empty lines left out)."""
    by_id = {w.id: w for w in page.words}
    if page.blocks:
        groups = [[by_id[i] for i in line.word_ids if i in by_id] for line in page.lines()]
    else:
        groups = _lines_in_detector_order(page.words)
    lines = [line_text(g) for g in groups]
    return [line for line in lines if line.text]


def _lines_in_detector_order(words: list[Word]) -> list[list[Word]]:
    groups: list[list[Word]] = []
    for w in words:
        if groups:
            last = groups[-1][-1]
            top, bottom = max(w.box[1], last.box[1]), min(w.box[3], last.box[3])
            height = min(w.box[3] - w.box[1], last.box[3] - last.box[1])
            if bottom - top >= 0.5 * height and w.box[0] >= last.box[0]:
                groups[-1].append(w)
                continue
        groups.append([w])
    return groups


@dataclass(frozen=True)
class LayoutLine:
    """One line of a page in reading order: its id (None for a line the clusterer did not make),
    its box, and its words."""

    id: str | None
    box: Box
    words: list[Word]


@dataclass(frozen=True)
class LayoutBlock:
    """One block of a page in reading order, with its lines (id None when the clusterer did not make it)."""

    id: str | None
    box: Box
    lines: list[LayoutLine]


def reading_blocks(page: Page) -> list[LayoutBlock]:
    """Every word of the page, as blocks of lines in reading order, for the document formats.

    The clusterer's blocks and lines come first, as :attr:`Page.text` reads them. Words no line
    holds (every word, when no clusterer ran) follow as one more block, grouped into lines in the
    detector's order as :func:`page_lines` groups them: a format that lays out the page (ALTO,
    the PDF's text layer) must not lose a word that was read.
    """
    by_id = {w.id: w for w in page.words}
    blocks: list[LayoutBlock] = []
    placed: set[str] = set()
    for block in page.blocks:
        lines = []
        for line in block.lines:
            words = [by_id[i] for i in line.word_ids if i in by_id]
            placed.update(line.word_ids)
            if words:
                lines.append(LayoutLine(line.id, tuple(line.box), words))
        if lines:
            blocks.append(LayoutBlock(block.id, tuple(block.box), lines))
    rest = [w for w in page.words if w.id not in placed]
    if rest:
        lines = [LayoutLine(None, union_box([w.box for w in g]), g) for g in _lines_in_detector_order(rest)]
        blocks.append(LayoutBlock(None, union_box([line.box for line in lines]), lines))
    return blocks
