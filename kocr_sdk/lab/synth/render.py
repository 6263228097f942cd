"""Drawing text with exact character and word quadrilaterals.

Text is laid out glyph by glyph from a cache of rasterised glyphs (``PIL`` renders each glyph
once per face and size; later uses are a numpy ``maximum`` into the ink layer). Two things
follow from drawing every glyph ourselves:

- **Exact boxes.** Each character's box is the ink extent of the very bitmap that was blitted,
  so ground truth cannot drift from the pixels (a font's advance box would include side
  bearings; PIL's ``getbbox`` does). A character's quad spans its own ink horizontally and the
  ink band of its word vertically, so the characters of a word share a top and bottom, as a
  character-level detector should predict them; the word's quad is the union of its
  characters'. Spaces have no quad.
- **Speed and control.** Cached glyphs make a word crop cost microseconds, and letter spacing
  (``사 업 자 등 록 증``, ``합    계``) and monospaced cells (POS receipts: Hangul two cells wide,
  ASCII one) are just different pen advances.

Coordinates are pixel edges (pixel ``(r, c)`` covers ``[c, c+1) × [r, r+1)``) in float, and
quads list their points in reading order (TL, TR, BR, BL as the text reads), like every quad
in kocr (:mod:`kocr_sdk.geometry`). Ink is kept as coverage layers (uint8, 255 = full ink) and
coloured only when the page is composed, so that print effects (fading, bleeding) can act on
the ink alone (:mod:`.degrade`).
"""

from __future__ import annotations

import functools
import os
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .fonts import FontFace
from .text import script_of

__all__ = ["Glyph", "Layout", "WordBox", "Canvas", "get_font", "get_glyph", "layout_text", "compose",
           "transform_words", "word_record", "GLYPH_CACHE_SIZE"]

#: Glyphs kept rasterised per process (``KOCR_GLYPH_CACHE``); about 1 kB each at 32 px.
GLYPH_CACHE_SIZE = int(os.environ.get("KOCR_GLYPH_CACHE", "120000"))


@functools.lru_cache(maxsize=1024)
def get_font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    """A PIL font object (basic layout: no ligatures, so one character is one glyph)."""
    return ImageFont.truetype(path, size, index=index, layout_engine=ImageFont.Layout.BASIC)


@dataclass(frozen=True)
class Glyph:
    """One rasterised character: its ink (tight), where the ink sits, and the pen advance."""

    mask: np.ndarray  # uint8 coverage, cropped to the ink; shape (0, 0) for blank glyphs
    left: int  # ink's left edge, relative to the pen position
    top: int  # ink's top edge, relative to the baseline (negative: above it)
    advance: float

    @property
    def blank(self) -> bool:
        return self.mask.size == 0


@functools.lru_cache(maxsize=GLYPH_CACHE_SIZE)
def get_glyph(path: str, index: int, size: int, ch: str) -> Glyph:
    """Rasterise ``ch`` once per (face, size) and keep the tight ink bitmap."""
    font = get_font(path, index, size)
    advance = font.getlength(ch)
    x0, y0, x1, y1 = font.getbbox(ch, anchor="ls")
    w, h = max(1, x1 - x0), max(1, y1 - y0)
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).text((-x0, -y0), ch, font=font, fill=255, anchor="ls")
    arr = np.asarray(img)
    rows = np.flatnonzero(arr.max(axis=1))
    cols = np.flatnonzero(arr.max(axis=0))
    if not len(rows) or not len(cols):
        return Glyph(np.zeros((0, 0), np.uint8), 0, 0, advance)
    # Cropped to every pixel with any coverage: the box holds all the ink that will be drawn.
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    mask = np.ascontiguousarray(arr[r0:r1, c0:c1])
    return Glyph(mask, int(x0 + c0), int(y0 + r0), advance)


@functools.lru_cache(maxsize=1024)
def line_metrics(path: str, index: int, size: int) -> tuple[int, int]:
    """(ascent, descent) of the face at ``size``: how far lines must be apart."""
    return get_font(path, index, size).getmetrics()


def is_wide(ch: str) -> bool:
    """East Asian wide/full-width characters take two cells of a monospaced (POS) layout."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


@dataclass
class Layout:
    """A run of text laid out on a baseline at x = 0: pen positions, glyphs and ink boxes."""

    text: str
    face: FontFace
    size: int
    xs: list[int]  # where each character's pen starts
    glyphs: list[Glyph]
    advance: float  # where the pen ends
    ascent: int
    descent: int
    ink: tuple[int, int, int, int] | None = None  # ink box of the whole run (set by layout_text)

    def char_box(self, i: int) -> tuple[int, int, int, int] | None:
        """Ink box of character ``i`` relative to (origin, baseline); None for blank ones."""
        g = self.glyphs[i]
        if g.blank:
            return None
        x = self.xs[i] + g.left
        return (x, g.top, x + g.mask.shape[1], g.top + g.mask.shape[0])

    def ink_box(self) -> tuple[int, int, int, int] | None:
        """Ink box of the whole run relative to (origin, baseline); None when nothing is inked."""
        return self.ink

    @property
    def width(self) -> float:
        """How far the run reaches right of its origin (pen advance or ink, whichever is further)."""
        return float(max(self.advance, self.ink[2] if self.ink else 0))


def layout_text(text: str, face: FontFace, size: int, tracking: float = 0.0, cell: float | None = None,
                space_scale: float = 1.0) -> Layout | None:
    """Lay out ``text`` in ``face``; None when the face lacks a character or draws it blank.

    ``tracking`` adds that many pixels after every character but the last (letter spacing);
    ``cell`` sets a monospaced grid (wide characters take two cells, each glyph centred in
    its cells), the way POS printers print. ``space_scale`` multiplies the advance of a space
    outside such a grid: typewritten and tightly set text leaves word gaps far narrower than a
    font's own space (a quarter of FUNSD's are under 0.08 word heights), and a detector that
    never saw them draws one box over several words.
    """
    if not text or not face.covers(text):
        return None
    path, index = face.path, face.index
    xs: list[int] = []
    glyphs: list[Glyph] = []
    pen = 0.0
    last = len(text) - 1
    ix0 = iy0 = 1 << 30
    ix1 = iy1 = -(1 << 30)
    for i, ch in enumerate(text):
        g = get_glyph(path, index, size, ch)
        if cell is not None:
            span = cell * (2 if is_wide(ch) else 1)
            x = int(round(pen + (span - g.advance) / 2))
            pen += span
        else:
            x = int(round(pen))
            pen += g.advance * space_scale if ch == " " else g.advance
        if g.blank:
            if not ch.isspace():
                return None  # mapped in the cmap but empty: as bad as tofu
        else:
            gx = x + g.left
            ix0, iy0 = min(ix0, gx), min(iy0, g.top)
            ix1, iy1 = max(ix1, gx + g.mask.shape[1]), max(iy1, g.top + g.mask.shape[0])
        if i != last:
            pen += tracking
        xs.append(x)
        glyphs.append(g)
    ascent, descent = line_metrics(path, index, size)
    ink = (ix0, iy0, ix1, iy1) if ix1 > ix0 else None
    return Layout(text, face, size, xs, glyphs, pen, ascent, descent, ink)


# ----------------------------------------------------------------------------------- ground truth
@dataclass
class WordBox:
    """One word of ground truth: text, quad, and its characters' quads (all (4, 2) float arrays)."""

    text: str
    quad: np.ndarray
    chars: list[tuple[str, np.ndarray]]
    entity: str | None = None
    font: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def script(self) -> str:
        return script_of(self.text)


def _box_quad(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def transform_words(words: Sequence[WordBox], fn: Callable[[np.ndarray], np.ndarray]) -> None:
    """Move every quad of ``words`` by ``fn`` (an (N, 2) → (N, 2) point map), in place, in one call."""
    if not words:
        return
    parts = []
    for w in words:
        parts.append(w.quad)
        parts.extend(q for _, q in w.chars)
    pts = fn(np.concatenate(parts, axis=0).reshape(-1, 2)).reshape(-1, 4, 2)
    k = 0
    for w in words:
        w.quad = pts[k]
        k += 1
        w.chars = [(c, pts[k + j]) for j, (c, _) in enumerate(w.chars)]
        k += len(w.chars)


def _num(v: float) -> float:
    return round(float(v), 2)


def word_record(w: WordBox) -> dict[str, Any]:
    """A word of the evaluation JSONL format (``kocr_sdk.lab.eval.format``), with our extra keys."""
    rec: dict[str, Any] = {
        "text": w.text,
        "poly": [[_num(x), _num(y)] for x, y in w.quad],
        "script": w.script,
        "chars": [{"text": c, "poly": [[_num(x), _num(y)] for x, y in q]} for c, q in w.chars],
        "entity": w.entity,
    }
    if w.font:
        rec["font"] = w.font
    rec.update(w.extra)
    return rec


# ----------------------------------------------------------------------------------- canvas
class Canvas:
    """Ink layers of a page or crop, and the words drawn on them.

    Layer 0 is the main ink; further layers carry other colours (a red stamp, a blue pen).
    """

    def __init__(self, width: int, height: int, layers: int = 1) -> None:
        self.width, self.height = int(width), int(height)
        self.layers = [np.zeros((self.height, self.width), np.uint8) for _ in range(layers)]
        self.words: list[WordBox] = []

    def add_layer(self) -> int:
        self.layers.append(np.zeros((self.height, self.width), np.uint8))
        return len(self.layers) - 1

    # -- text -----------------------------------------------------------------------------
    def draw(self, layout: Layout, x: int, baseline: int, entity: str | None = None, layer: int = 0,
             record: bool = True, split_words: bool = True, **extra: Any) -> list[WordBox]:
        """Blit ``layout`` with its origin at (x, baseline) and record its words.

        Words are split on spaces unless ``split_words`` is False (a letter-spaced title drawn as
        one word). Returns the new words; glyphs falling off the canvas are clipped and the
        words they belong to are marked ``ignore``.
        """
        x, baseline = int(x), int(baseline)
        dst = self.layers[layer]
        clipped = set()
        for i, g in enumerate(layout.glyphs):
            if g.blank:
                continue
            gx, gy = x + layout.xs[i] + g.left, baseline + g.top
            if not _blit(dst, g.mask, gx, gy):
                clipped.add(i)
        if not record:
            return []
        spans = _word_spans(layout.text) if split_words else [(0, len(layout.text))]
        out = []
        for s, e in spans:
            boxes = [(i, layout.char_box(i)) for i in range(s, e)]
            boxes = [(i, b) for i, b in boxes if b is not None]
            if not boxes:
                continue
            top = min(b[1] for _, b in boxes) + baseline
            bottom = max(b[3] for _, b in boxes) + baseline
            chars = [(layout.text[i], _box_quad(b[0] + x, top, b[2] + x, bottom)) for i, b in boxes]
            x0 = min(b[0] for _, b in boxes) + x
            x1 = max(b[2] for _, b in boxes) + x
            text = "".join(layout.text[i] for i, _ in boxes)
            word = WordBox(text, _box_quad(x0, top, x1, bottom), chars, entity, layout.face.name, dict(extra))
            if any(i in clipped for i, _ in boxes):
                word.extra["ignore"] = True
            out.append(word)
        self.words.extend(out)
        return out

    # -- marks (ink that is not text) ---------------------------------------------------------
    def line(self, x0: float, y0: float, x1: float, y1: float, thickness: int = 1, layer: int = 0,
             value: int = 255, dash: tuple[int, int] | None = None) -> None:
        """A rule (table line, underline, dashed separator)."""
        import cv2

        dst = self.layers[layer]
        if dash is None:
            cv2.line(dst, (int(round(x0)), int(round(y0))), (int(round(x1)), int(round(y1))), value, thickness, cv2.LINE_AA)
            return
        on, off = dash
        length = float(np.hypot(x1 - x0, y1 - y0))
        if length <= 0:
            return
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        t = 0.0
        while t < length:
            e = min(length, t + on)
            cv2.line(dst, (int(round(x0 + ux * t)), int(round(y0 + uy * t))),
                     (int(round(x0 + ux * e)), int(round(y0 + uy * e))), value, thickness, cv2.LINE_AA)
            t = e + off

    def rect(self, x0: float, y0: float, x1: float, y1: float, thickness: int = 1, layer: int = 0, fill: int | None = None) -> None:
        import cv2

        dst = self.layers[layer]
        p0, p1 = (int(round(x0)), int(round(y0))), (int(round(x1)), int(round(y1)))
        if fill is not None:
            cv2.rectangle(dst, p0, p1, fill, -1)
        if thickness > 0:
            cv2.rectangle(dst, p0, p1, 255, thickness, cv2.LINE_AA)

    def circle(self, cx: float, cy: float, r: float, thickness: int = 2, layer: int = 0) -> None:
        import cv2

        cv2.circle(self.layers[layer], (int(round(cx)), int(round(cy))), int(round(r)), 255, thickness, cv2.LINE_AA)


def _blit(dst: np.ndarray, mask: np.ndarray, x: int, y: int) -> bool:
    """``dst[y:, x:] = max(dst, mask)``, clipped; False when part of the mask fell outside."""
    h, w = mask.shape
    H, W = dst.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x0 >= x1 or y0 >= y1:
        return False
    region = dst[y0:y1, x0:x1]
    np.maximum(region, mask[y0 - y:y1 - y, x0 - x:x1 - x], out=region)
    return x0 == x and y0 == y and x1 == x + w and y1 == y + h


def _word_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], None
    for i, ch in enumerate(text):
        if ch == " ":
            if start is not None:
                spans.append((start, i))
                start = None
        elif start is None:
            start = i
    if start is not None:
        spans.append((start, len(text)))
    return spans


def compose(paper: np.ndarray, layers: Sequence[np.ndarray], colours: Sequence[Sequence[float]]) -> np.ndarray:
    """Ink layers over ``paper`` (H×W×3 or H×W, uint8): ``paper·(1−a) + colour·a`` per layer.

    Only the rows and columns a layer inks are touched, which keeps a mostly blank A4 page cheap.
    """
    out = paper.copy()
    for layer, colour in zip(layers, colours):
        rows = np.flatnonzero(layer.max(axis=1))
        if not len(rows):
            continue
        cols = np.flatnonzero(layer[rows[0]:rows[-1] + 1].max(axis=0))
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        a = layer[r0:r1, c0:c1].astype(np.float32) * (1.0 / 255.0)
        region = out[r0:r1, c0:c1].astype(np.float32)
        if out.ndim == 3:
            ink = np.asarray(colour, np.float32).reshape(1, 1, -1)
            region += (ink - region) * a[..., None]
        else:
            ink = float(np.mean(colour))
            region += (ink - region) * a
        out[r0:r1, c0:c1] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
    return out
