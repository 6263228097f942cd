"""Words the detector merged, split where the recogniser read a space.

Why: on typewritten and densely printed pages the gap between two words can be as narrow as
the gaps inside a word, and the detector then boxes ``DATE: 12/03`` as one word. Neither the
detector's character boxes nor the ink between letters tell such a gap from a letter gap (on
real form scans the two overlap almost completely), but a recogniser trained on text with
spaces reads the space. So the space decides *that* the box holds two words, and the ink decides
*where*: each space is placed in the widest blank column run near where its share of the
characters puts it, and the pieces get the quads between those runs.

Geometry works in the word's own upright frame: fractions ``0..1`` along its reading direction
map linearly onto the quad's top and bottom edges, so rotated words split the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from kocr_sdk.document import Char, Page, Word
from kocr_sdk.geometry import Quad, box_from_quad, crop_quad

_WORK_HEIGHT = 32  # px: the height the word is cut at to look for blank columns


def split_spaced_words(page: Page, image: np.ndarray) -> Page:
    """``page`` with every word whose text holds a space replaced by one word per piece.

    ``image`` is the page as given (the pixels ``Word.quad`` is in). Words and characters are
    renumbered in reading order afterwards (``p{page}-w{i}``, ``...-c{j}``), since nothing has
    referred to their ids yet at this point of the pipeline.
    """
    words: list[Word] = []
    changed = False
    for word in page.words:
        text = word.text or ""
        pieces = text.split()
        if len(pieces) < 2:
            words.append(word)
            continue
        spans = piece_spans(text, _upright(image, word.quad))
        words.extend(_pieces(word, pieces, spans))
        changed = True
    if not changed:
        return page
    return page.model_copy(update={"words": _renumbered(words, page.index)})


def piece_spans(text: str, crop: np.ndarray | None) -> list[tuple[float, float]]:
    """``[start, end)`` of each space-separated piece of ``text``, as fractions of the word's length.

    With no usable crop (blank, flat or too small), the pieces share the length by their
    character counts (spaces counted as characters).
    """
    n = len(text)
    pieces = [m.span() for m in re.finditer(r"\S+", text)]
    starts, ends = [s for s, _ in pieces], [e for _, e in pieces]
    ink = _ink_columns(crop) if crop is not None else None
    if ink is None or not ink.any():
        return [(s / n, e / n) for s, e in zip(starts, ends)]
    cols = np.flatnonzero(ink)
    first, last = int(cols[0]), int(cols[-1]) + 1
    width = ink.size
    per_char = (last - first) / n
    cuts: list[tuple[float, float]] = []
    lo = first
    for end, start in zip(ends[:-1], starts[1:]):
        expected = first + (end + start) / 2 * per_char
        gap = _blank_run(ink, expected, per_char, lo, last)
        cuts.append(gap)
        lo = int(gap[1])
    # The outer ends stay the detector's: only the cuts between pieces are new.
    bounds = [0.0, *[v / width for gap in cuts for v in gap], 1.0]
    return [(bounds[2 * k], bounds[2 * k + 1]) for k in range(len(starts))]


def _blank_run(ink: np.ndarray, expected: float, per_char: float, lo: int, hi: int) -> tuple[float, float]:
    """The blank column run (start, end) nearest ``expected`` within a character or so of it,
    preferring wide runs; a zero-width cut at ``expected`` when none is blank."""
    a = max(lo + 1, int(round(expected - 1.5 * per_char)))
    b = min(hi - 1, int(round(expected + 1.5 * per_char)))
    if b <= a:
        x = min(max(expected, lo), hi)
        return x, x
    edges = np.diff(np.concatenate(([0], (~ink[a:b]).astype(np.int8), [0])))
    runs = list(zip(a + np.flatnonzero(edges == 1), a + np.flatnonzero(edges == -1)))
    if runs:
        s, e = max(runs, key=lambda r: (r[1] - r[0]) - abs((r[0] + r[1]) / 2 - expected) / max(per_char, 1.0))
        return float(s), float(e)
    x = float(round(expected))
    return x, x


def _ink_columns(crop: np.ndarray) -> np.ndarray | None:
    """Which columns of an upright word crop hold ink (dark on light or light on dark), or None
    when the crop has too little contrast to tell."""
    import cv2

    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop
    if grey.size == 0 or int(grey.max()) - int(grey.min()) < 40:
        return None
    _, binary = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if binary.mean() > 0.5:  # most pixels light: the text is the dark class
        binary = 1 - binary
    return binary.sum(axis=0) > 0


def _upright(image: np.ndarray, quad: Quad) -> np.ndarray | None:
    if image.ndim not in (2, 3):
        return None
    try:
        return crop_quad(image, quad, _WORK_HEIGHT)
    except Exception:  # degenerate quad (cv2 refuses it): fall back to character shares
        return None


def _along(quad: Quad, start: float, end: float) -> Quad:
    """The part of ``quad`` from ``start`` to ``end`` along its reading direction."""
    p = np.asarray(quad, dtype=float)
    top0, top1 = p[0] + start * (p[1] - p[0]), p[0] + end * (p[1] - p[0])
    bot0, bot1 = p[3] + start * (p[2] - p[3]), p[3] + end * (p[2] - p[3])
    return tuple((float(x), float(y)) for x, y in (top0, top1, bot1, bot0))  # type: ignore[return-value]


def _position(quad: Quad, point: Sequence[float]) -> float:
    """Where ``point`` lies along ``quad``'s reading direction, 0 at its start, 1 at its end."""
    p = np.asarray(quad, dtype=float)
    start, end = (p[0] + p[3]) / 2, (p[1] + p[2]) / 2
    axis = end - start
    length = float(axis @ axis)
    return float((np.asarray(point, dtype=float) - start) @ axis / length) if length > 0 else 0.0


def _pieces(word: Word, texts: list[str], spans: list[tuple[float, float]]) -> list[Word]:
    """One word per piece: its part of the quad, the characters whose centres fall in it."""
    owner: list[list[Char]] = [[] for _ in texts]
    bounds = [(end + start) / 2 for (_, end), (start, _) in zip(spans[:-1], spans[1:])]  # mid-gaps
    for char in word.chars:
        centre = np.asarray(char.quad, dtype=float).mean(axis=0)
        owner[int(np.searchsorted(bounds, _position(word.quad, centre)))].append(char)
    out = []
    for text, (start, end), chars in zip(texts, spans, owner):
        quad = _along(word.quad, start, end)
        out.append(word.model_copy(update={"quad": quad, "box": box_from_quad(quad), "text": text, "chars": chars}))
    return out


def _renumbered(words: list[Word], page_index: int) -> list[Word]:
    out = []
    for i, word in enumerate(words):
        wid = f"p{page_index}-w{i}"
        chars = [c.model_copy(update={"id": f"{wid}-c{j}"}) for j, c in enumerate(word.chars)]
        out.append(word.model_copy(update={"id": wid, "chars": chars}))
    return out
