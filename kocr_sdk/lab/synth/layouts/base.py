"""The page-drawing context every layout draws with: :class:`PageBuilder` and the page size.

Layouts only place things; how a phrase becomes exact character quads (fonts that cover it,
tracking, monospaced cells, entity spans) lives here once, so every layout's ground truth is
made the same way.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any, Iterable

import cv2
import numpy as np

from ..fonts import FontFace, design_of
from ..render import Canvas, Layout, layout_text, line_metrics
from ..text import Phrase, script_of

if TYPE_CHECKING:
    from ..pages import PageGenerator

__all__ = ["PageBuilder", "page_size", "A4", "SEAL_TEXT"]

A4 = (1240, 1754)  # 150 dpi
SEAL_TEXT = ("대표이사인", "세무서장", "직인", "인", "확인", "대표", "검인")


def page_size(scale: float, rng: random.Random, receipt: bool = False) -> tuple[int, int]:
    """(width, height) of a page: A4 at ``scale``, or a thermal roll of random width and length,
    whose draws come from ``rng`` so that a page stays a pure function of its seed."""
    if receipt:
        return int(rng.randint(440, 640) * scale), int(rng.randint(1000, 1700) * scale)
    return int(A4[0] * scale), int(A4[1] * scale)


class PageBuilder:
    """Draws one upright page: primitives (text runs, rows, rules, seals) shared by every layout.

    Words land on ``canvas.words`` in reading order; :attr:`entities` collects the entity spans
    (label, word indices) as phrases are drawn.
    """

    def __init__(self, gen: "PageGenerator", rng: random.Random, width: int, height: int, lang: str | None = None) -> None:
        self.gen, self.rng, self.text = gen, rng, gen.text
        self.canvas = Canvas(width, height)
        self.w, self.h = width, height
        self.s = gen.config.scale
        self.lang = lang
        self.entities: list[tuple[str, list[int]]] = []
        cfg = gen.config
        # drawn only when asked for: a draw would shift every later one, and change the pages of a seed
        tight = cfg.tight_spacing_prob > 0 and rng.random() < cfg.tight_spacing_prob
        self.space_scale = rng.uniform(*cfg.tight_spacing) if tight else 1.0
        self.typewritten = cfg.typewriter_prob > 0 and rng.random() < cfg.typewriter_prob
        self.layer_kinds = ["ink"]
        self.face = self.pick_face(lang)
        self.bold = self._sibling(self.face, bold=True)
        self.hand = self._hand_face()

    # -- fonts ------------------------------------------------------------------------------
    def pick_face(self, lang: str | None = None) -> FontFace:
        """The page's body face: printed designs mostly (handwriting faces fill in values).

        A typewritten page takes a monospaced face: a Latin-only one on English pages (Courier-like
        designs cover no Hangul), a Korean one (NanumGothicCoding, Noto Sans Mono CJK …) otherwise.
        """
        if self.typewritten:
            pool = self.gen.mono_latin_pool if lang == "en" else self.gen.typewriter_pool
            face = pool.choose(self.rng) if pool is not None else None
            if face is not None:
                return face
        pool = self.gen.pools["latin" if lang == "en" and self.rng.random() < 0.7 else "hangul"]
        face = pool.choose(self.rng)
        for _ in range(4):
            if face is not None and not face.handwriting:
                break
            face = pool.choose(self.rng)
        assert face is not None
        return face

    def _sibling(self, face: FontFace, bold: bool) -> FontFace:
        """A bolder face of the same design when there is one (headings), else the face itself."""
        pool = self.gen.pools["hangul"] if "hangul" in face.scripts else self.gen.pools["latin"]
        faces = [f for f in pool.faces.get(design_of(face.family), []) if not f.italic and (f.weight >= 600) == bold]
        return self.rng.choice(faces) if faces else face

    def _hand_face(self) -> FontFace | None:
        hand = self.gen.hand_pool
        if hand is None or self.rng.random() >= self.gen.config.handwriting_prob:
            return None
        return hand.choose(self.rng)

    def face_for(self, text: str, face: FontFace) -> FontFace | None:
        """``face`` if it covers ``text``, else another face of the split that does."""
        if face.covers(text):
            return face
        script = script_of(text)
        order = {"hangul": ("hangul",), "han": ("han", "hangul"), "kana": ("kana", "hangul")}.get(script, ("latin", "hangul"))
        for name in order:
            pool = self.gen.pools.get(name)
            if pool is not None:
                f = pool.choose(self.rng, text)
                if f is not None:
                    return f
        return None

    def px(self, points: float) -> int:
        """Font size in pixels for ``points`` pt at 150 dpi, on this page's scale."""
        return max(6, int(round(points * 150 / 72 * self.s)))

    def new_layer(self, kind: str) -> int:
        self.layer_kinds.append(kind)
        return self.canvas.add_layer()

    def layer(self, kind: str) -> int:
        """The ink layer of ``kind`` (``ink``, ``pen``, ``seal``, ``shade``), created on first use."""
        if kind in self.layer_kinds:
            return self.layer_kinds.index(kind)
        return self.new_layer(kind)

    # -- text -----------------------------------------------------------------------------
    def layout(self, phrase: Phrase | str, face: FontFace, size: int, tracking: float = 0.0,
               cell: float | None = None) -> Layout | None:
        text = phrase.text if isinstance(phrase, Phrase) else phrase
        f = self.face_for(text, face)
        if f is None:
            return None
        return layout_text(text, f, size, tracking, cell, self.space_scale)

    def put(self, x: float, baseline: float, phrase: Phrase | str, face: FontFace, size: int, tracking: float = 0.0,
            cell: float | None = None, layer: int = 0, align: str = "left", one_word: bool = False,
            max_right: float | None = None, min_left: float | None = None, record: bool = True,
            **extra: Any) -> float | None:
        """Draw one phrase; returns the x where it ends, or None when it could not be drawn or did not fit
        between ``min_left`` and ``max_right``. ``record=False`` draws ink that is not ground truth
        (a rule printed as a row of dashes)."""
        lay = self.layout(phrase, face, size, tracking, cell)
        if lay is None:
            return None
        width = lay.width
        if align == "right":
            x = x - width
        elif align == "center":
            x = x - width / 2
        if (max_right is not None and x + width > max_right) or (min_left is not None and x < min_left):
            return None
        if x < 0 or x + width > self.w:
            return None
        entity = phrase.entity if isinstance(phrase, Phrase) else None
        start = len(self.canvas.words)
        words = self.canvas.draw(lay, int(round(x)), int(round(baseline)), entity=entity, layer=layer,
                                 split_words=not one_word, record=record, **extra)
        if entity and words:
            self.entities.append((entity, list(range(start, start + len(words)))))
        return x + width

    def fit(self, phrase: Phrase, face: FontFace, size: int, width: float, cell: float | None = None) -> Phrase | None:
        """``phrase`` shortened word by word from the end until it fits ``width`` (an address cut
        at the column edge stays an address); None when not even its first word fits."""
        words = phrase.words
        while words:
            text = " ".join(words)
            lay = self.layout(text, face, size, cell=cell)
            if lay is not None and lay.width <= width:
                return Phrase(text, phrase.kind, phrase.entity)
            words = words[:-1]
        return None

    def run(self, x: float, baseline: float, phrases: Iterable[Phrase | str], face: FontFace, size: int,
            right: float, gap: float | None = None, layer: int = 0, **kw: Any) -> float:
        """Phrases left to right on one line, stopping at the first that does not fit before ``right``."""
        gap = size * self.rng.uniform(0.28, 0.45) if gap is None else gap
        for p in phrases:
            end = self.put(x, baseline, p, face, size, layer=layer, max_right=right, **kw)
            if end is None:
                if isinstance(p, Phrase) or self.rng.random() < 0.5:
                    break
                continue
            x = end + gap
        return x

    def paragraph(self, x0: float, y: float, phrases: list[Phrase], face: FontFace, size: int, right: float,
                  leading: float, bottom: float, indent: float = 0.0, justify: bool = False) -> float:
        """Flow phrases into lines between ``x0`` and ``right``; returns the y below the paragraph."""
        asc, _ = line_metrics(face.path, face.index, size)
        gap = size * self.rng.uniform(0.25, 0.4) * self.space_scale
        justify = justify and self.space_scale == 1.0  # tightly set text is typewritten: ragged right
        lines: list[list[tuple[Phrase, Layout]]] = [[]]
        widths = [indent]
        for p in phrases:
            lay = self.layout(p, face, size)
            if lay is None:
                continue
            limit = right - x0
            if lines[-1] and widths[-1] + gap + lay.width > limit:
                lines.append([])
                widths.append(0.0)
            lines[-1].append((p, lay))
            widths[-1] += (gap if len(lines[-1]) > 1 else 0) + lay.width
        for li, items in enumerate(lines):
            if not items:
                continue
            if y + asc > bottom:
                break
            x = x0 + (indent if li == 0 else 0)
            g = gap
            if justify and li < len(lines) - 1 and len(items) > 1:
                natural = sum(lay.width for _, lay in items)
                g = max(gap, (right - x - natural) / (len(items) - 1))
                g = min(g, gap * 2.5)
            for p, lay in items:
                start = len(self.canvas.words)
                words = self.canvas.draw(lay, int(round(x)), int(round(y + asc)), entity=p.entity)
                if p.entity and words:
                    self.entities.append((p.entity, list(range(start, start + len(words)))))
                x += lay.width + g
            y += leading
        return y

    def title(self, text: str, y: float, size: int, face: FontFace, center: float | None = None) -> float:
        """A title, often letter-spaced: one tracked word (``사업자등록증``) or spaced-out letters
        (``사 업 자 등 록 증``, separate words); returns the y below it."""
        center = self.w / 2 if center is None else center
        asc, desc = line_metrics(face.path, face.index, size)
        r = self.rng.random()
        if r < 0.35 and len(text) <= 8:
            tracking = size * self.rng.uniform(0.25, 0.9)
            self.put(center, y + asc, text, face, size, tracking=tracking, align="center", one_word=True, spaced=True)
        elif r < 0.55 and len(text) <= 8 and " " not in text:
            self.put(center, y + asc, " ".join(text), face, size, align="center")
        else:
            self.put(center, y + asc, text, face, size, align="center")
        return y + (asc + desc) * self.rng.uniform(1.3, 1.9)

    def key_label(self, kind: str, lang: str | None = None) -> str:
        label = self.text.key_label(self.rng, kind, lang or ("en" if self.lang == "en" else "ko"))
        r = self.rng.random()
        if r < 0.3:
            label += ":"
        elif r < 0.4:
            label += " :"
        return label

    def value_phrase(self, kind: str) -> Phrase:
        lang = self.lang if self.lang in ("ko", "en") else None
        return self.text.phrase(self.rng, kind, lang)

    # -- marks ------------------------------------------------------------------------------
    def seal(self, cx: float, cy: float, size: int) -> None:
        """A red seal (circle or square) with a few characters, stamped over whatever is there.
        Its characters are recorded as ``ignore`` words: neither targets nor false positives."""
        layer = self.layer("seal")
        r = size * self.rng.uniform(1.1, 1.6)
        thick = max(2, int(size * 0.08))
        if self.rng.random() < 0.6:
            self.canvas.circle(cx, cy, r, thick, layer)
        else:
            self.canvas.rect(cx - r, cy - r, cx + r, cy + r, thick, layer)
        text = self.rng.choice(SEAL_TEXT)
        face = self.gen.pools["hangul"].choose(self.rng, text)
        if face is None:
            return
        chars = list(text[:4])
        n = len(chars)
        cols = 1 if n == 1 else 2
        rows = math.ceil(n / cols)
        csize = max(8, int(r * 1.5 / max(rows, cols)))
        for i, ch in enumerate(chars):
            lay = layout_text(ch, face, csize)
            if lay is None or lay.ink_box() is None:
                continue
            col, row = divmod(i, rows)  # columns top to bottom, right to left, as seals read
            gx = cx + ((cols - 1) / 2 - col) * csize
            gy = cy + (row - (rows - 1) / 2) * csize
            x0, y0, x1, y1 = lay.ink_box()
            self.canvas.draw(lay, int(gx - (x0 + x1) / 2), int(gy - (y0 + y1) / 2), layer=layer, ignore=True)

    def scribble(self, x: float, y: float, w: float, h: float, layer: int) -> None:
        """A signature: a smooth random stroke (not text, so not ground truth)."""
        n = self.rng.randint(5, 9)
        pts = np.array([[x + w * i / (n - 1), y + h * self.rng.uniform(0.1, 0.9)] for i in range(n)])
        t = np.linspace(0, 1, 60)
        xs = np.interp(t * (n - 1), np.arange(n), pts[:, 0])
        ys = np.interp(t * (n - 1), np.arange(n), pts[:, 1]) + np.sin(t * self.rng.uniform(8, 20)) * h * 0.25
        curve = np.stack([xs, ys], axis=1).round().astype(np.int32)
        cv2.polylines(self.canvas.layers[layer], [curve], False, 255, max(1, int(h * 0.06)), cv2.LINE_AA)

    def barcode(self, x: float, y: float, w: float, h: float) -> None:
        x_pos = x
        while x_pos < x + w:
            bar = self.rng.choice((1, 1, 2, 3)) * max(1, int(self.s * 2))
            if self.rng.random() < 0.55:
                self.canvas.rect(x_pos, y, x_pos + bar - 1, y + h, thickness=0, fill=255)
            x_pos += bar

    def hrule(self, x0: float, x1: float, y: float, thickness: int = 1, dash: tuple[int, int] | None = None) -> None:
        self.canvas.line(x0, y, x1, y, thickness=thickness, dash=dash)
