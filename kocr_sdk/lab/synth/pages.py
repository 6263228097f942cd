"""Whole pages with exact character and word quadrilaterals, for training and testing detection.

Layouts follow what kocr meets (DESIGN.md, "What real pages look like"):

``document``  a Korean certificate or notice — a big title, often letter-spaced
              (``사 업 자 등 록 증``), key–value rows, numbered paragraphs, footnotes (``※ …``),
              a date and an issuer with a red seal stamped over it;
``form``      a ruled key–value grid whose cell padding is small enough for the rules to touch
              the text, check boxes (``□ 개인 ■ 법인``), values sometimes handwritten in blue;
``table``     an item table (거래명세서, 견적서): header row, items, right-aligned numbers,
              shaded cells, a totals row;
``receipt``   a narrow thermal receipt on a monospaced grid: store header, dashed rules, items,
              letter-spaced totals (``합    계``), masked card numbers, a barcode with digits;
``prose``     paragraphs in Korean or English, one or two columns, headings in other sizes;
``invoice``   an English (or mixed) invoice: Bill To / Ship To blocks, an item table in ``$``.

Every page mixes several font sizes. Text is drawn with :mod:`.render`, so every character's quad
is exact; the page then goes through ink degradations, paper, a small skew, the page pipeline
(:func:`.degrade.page_pipeline`: light, perspective onto a background, blur, noise, JPEG …) and a
rotation by 0/90/180/270°, and every quad is moved with the pixels. ``orientation`` in the record
is the counter-clockwise rotation applied to the upright page (``np.rot90(page, orientation // 90)``).

``PageGenerator.sample(i)`` is a pure function of (split, seed, i), like the crop generator.
"""

from __future__ import annotations

import math
import random
from typing import Any, Iterable

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ...errors import KocrError
from ...geometry import rotate_points
from .degrade import Context, Fax, Pipeline, apply_homography, page_pipeline, receipt_pipeline
from .fonts import FontFace, FontPool, design_of, font_pool
from .render import Canvas, Layout, compose, layout_text, line_metrics, transform_words, word_record
from .text import Phrase, TextSource, script_of

__all__ = ["PageGenerator", "PageConfig", "PageBuilder", "LAYOUTS", "A4"]

LAYOUTS = ("document", "form", "table", "receipt", "prose", "invoice")
A4 = (1240, 1754)  # 150 dpi

TITLES_KO = ("사업자등록증", "세금계산서", "영수증", "견적서", "거래명세서", "계약서", "청구서", "납품확인서", "재직증명서",
             "위임장", "신청서", "확인서", "발주서", "공문", "안내문", "통지서", "입금확인서", "등기부등본", "재무상태표")
TITLES_EN = ("INVOICE", "RECEIPT", "QUOTATION", "PURCHASE ORDER", "STATEMENT", "Packing List", "Certificate",
             "DELIVERY NOTE", "Tax Invoice", "Contract")
ITEM_HEADERS_KO = ("품명", "규격", "수량", "단가", "금액", "비고", "품목", "공급가액", "세액", "단위", "번호", "월일")
ITEM_HEADERS_EN = ("Item", "Description", "Qty", "Unit Price", "Amount", "No.", "Unit", "Total", "Code")
STORES = ("편의점", "마트", "카페", "베이커리", "식당", "약국", "문구", "주유소", "서점", "커피", "치킨", "분식", "병원")
HEADINGS_KO = ("개요", "목적", "내용", "기간", "장소", "참고사항", "유의사항", "신청방법", "제출서류", "문의처", "일반사항", "세부내역")
SEAL_TEXT = ("대표이사인", "세무서장", "직인", "인", "확인", "대표", "검인")


class PageConfig(BaseModel):
    """How pages look (YAML-loadable: a detector training config's ``data:`` block)."""

    model_config = ConfigDict(extra="forbid")

    layouts: tuple[str, ...] = Field(LAYOUTS, description="Layouts drawn from: " + ", ".join(LAYOUTS))
    layout_weights: tuple[float, ...] | None = Field(None, description="Weights of ``layouts`` (default equal).")
    scale: float = Field(1.0, gt=0.1, le=3.0, description="Page size relative to A4 at 150 dpi (1240×1754).")
    rotate: bool = Field(True, description="Turn pages by 90/180/270°.")
    rotate_prob: float = Field(0.5, ge=0, le=1, description="Share of pages turned (the rest stay upright).")
    skew_prob: float = Field(0.6, ge=0, le=1)
    max_skew: float = Field(2.0, ge=0, le=15, description="Degrees.")
    stamp_prob: float = Field(0.35, ge=0, le=1, description="Red seals on documents and forms.")
    handwriting_prob: float = Field(0.25, ge=0, le=1, description="Values written in a handwriting face.")
    colour_ink_prob: float = Field(0.15, ge=0, le=1, description="Blue or brown ink instead of black.")
    degrade: bool | Pipeline = Field(True, description="True: page_pipeline() (receipt_pipeline() for receipts).")
    tight_spacing_prob: float = Field(
        0.0, ge=0, le=1, description="Share of pages whose word spaces are narrowed to a `tight_spacing` fraction of "
        "the font's space (typewritten forms). 0 draws nothing, so pages stay those of earlier versions.")
    tight_spacing: tuple[float, float] = Field((0.2, 0.7), description="Range of that fraction, drawn once per page.")
    typewriter_prob: float = Field(
        0.0, ge=0, le=1, description="Share of pages typed in a monospaced face (a Latin one on English pages), as "
        "typewritten forms and line-printer output are: letters on a fixed pitch, so a word space is one letter cell "
        "and the gaps around a narrow letter inside a word are nearly as wide. 0 draws nothing, so pages stay those of earlier versions.")
    fax_prob: float = Field(
        0.0, ge=0, le=1, description="Share of pages that, after the degradation pipeline, go through a low-resolution "
        "black-and-white scan (:class:`~.degrade.Fax`), as FUNSD's faxed forms did. 0 draws nothing.")


def _layer_colour(rng: random.Random, kind: str) -> tuple[int, int, int]:
    if kind == "seal":
        return (rng.randint(170, 225), rng.randint(20, 60), rng.randint(25, 60))
    if kind == "pen":
        return rng.choice(((25, 40, 140), (20, 30, 90), (30, 30, 30), (15, 60, 150)))
    if kind == "shade":
        return (rng.randint(0, 60),) * 3
    return (0, 0, 0)


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


class PageGenerator:
    """Renders labelled pages: (RGB uint8 image, record in the evaluation JSONL format)."""

    def __init__(self, split: str = "train", seed: int = 0, font_dirs: tuple[str, ...] | list[str] = (),
                 **options: Any) -> None:
        if isinstance(options.get("degrade"), dict):
            options["degrade"] = Pipeline.model_validate(options["degrade"])
        self.config = PageConfig(**options)
        unknown = set(self.config.layouts) - set(LAYOUTS)
        if unknown:
            raise KocrError(f"unknown page layout(s) {', '.join(sorted(unknown))}: choose from {', '.join(LAYOUTS)}")
        self.split, self.seed, self.font_dirs = split, int(seed), tuple(font_dirs)
        self.pools: dict[str, FontPool] = {"hangul": font_pool("hangul", split, self.font_dirs),
                                           "latin": font_pool("latin", split, self.font_dirs)}
        for script in ("han", "kana"):
            try:
                self.pools[script] = font_pool(script, split, self.font_dirs)
            except KocrError:
                pass
        self.hand_pool = self.pools["hangul"].subset(lambda f: f.handwriting)
        self.mono_pool = self.pools["hangul"].subset(lambda f: f.mono)
        self.typewriter_pool = self.pools["hangul"].subset(lambda f: f.mono and not f.handwriting)
        self.mono_latin_pool = self.pools["latin"].subset(
            lambda f: f.mono and "hangul" not in f.scripts and not f.handwriting)
        self.text = TextSource()

    # -- sampling --------------------------------------------------------------------------
    def sample(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        """Page ``index``: (RGB uint8 H×W×3, record). Pure in (split, seed, index)."""
        rng = random.Random(f"kocr-page:{self.split}:{self.seed}:{int(index)}")
        cfg = self.config
        layout = rng.choices(cfg.layouts, cfg.layout_weights)[0] if cfg.layout_weights else rng.choice(cfg.layouts)
        builder = getattr(self, f"_{layout}")(rng)
        return self.finish(rng, builder, layout, index)

    def finish(self, rng: random.Random, b: PageBuilder, layout: str, index: int,
               extra: dict[str, Any] | None = None, rotate: bool | None = None,
               receipt: bool | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Ink, paper, skew, degradations and rotation of a drawn page; the record in JSONL form.

        ``receipt`` picks the thermal-print degradations (default: when the layout is ``receipt``);
        forms drawn in receipt style pass it, since their layout is ``template``.
        """
        cfg = self.config
        canvas = b.canvas
        if receipt is None:
            receipt = layout == "receipt"
        if cfg.degrade is True:
            pipeline = receipt_pipeline() if receipt else page_pipeline()
        elif cfg.degrade is False:
            pipeline = Pipeline()
        else:
            pipeline = cfg.degrade
        background = tuple(rng.randint(20, 160) for _ in range(3))
        ctx = Context(rng, background=background)
        canvas.layers = [pipeline.apply_ink(layer, ctx) if kind != "shade" else layer
                         for layer, kind in zip(canvas.layers, b.layer_kinds)]
        tone = rng.randint(232, 255)
        paper = np.empty((canvas.height, canvas.width, 3), np.uint8)
        paper[:] = (tone, max(0, tone - rng.randint(0, 10)), max(0, tone - rng.randint(0, 22)))
        ink_colour = _layer_colour(rng, "ink")
        if rng.random() < cfg.colour_ink_prob:
            ink_colour = rng.choice(((25, 35, 110), (60, 40, 30), (40, 40, 40)))
        colours = [ink_colour if kind == "ink" else _layer_colour(rng, kind) for kind in b.layer_kinds]
        # shading fills go under the text: compose them first
        order = sorted(range(len(canvas.layers)), key=lambda i: b.layer_kinds[i] != "shade")
        image = compose(paper, [canvas.layers[i] for i in order], [colours[i] for i in order])
        words = canvas.words
        h, w = image.shape[:2]
        if rng.random() < cfg.skew_prob and cfg.max_skew > 0:
            angle = rng.uniform(-cfg.max_skew, cfg.max_skew)
            m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
            image = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                   borderValue=tuple(int(c) for c in paper[0, 0]))
            ctx.then(np.vstack([m, [0, 0, 1]]))
        image = pipeline.apply_image(image, ctx)
        if cfg.fax_prob > 0 and rng.random() < cfg.fax_prob:
            image = Fax(prob=1.0).apply(image, ctx)
        if not np.allclose(ctx.matrix, np.eye(3)):
            m = ctx.matrix
            transform_words(words, lambda p: apply_homography(m, p))
        orientation = 0
        if (cfg.rotate if rotate is None else rotate) and rng.random() < cfg.rotate_prob:
            orientation = rng.choice((90, 180, 270))
            image = np.ascontiguousarray(np.rot90(image, orientation // 90))
            transform_words(words, lambda p: rotate_points(p, orientation, w, h))
        height, width = image.shape[:2]
        for wd in words:  # a word pushed partly off the picture is "don't care"
            q = wd.quad
            if q[:, 0].min() < -0.5 or q[:, 1].min() < -0.5 or q[:, 0].max() > width + 0.5 or q[:, 1].max() > height + 0.5:
                wd.extra["ignore"] = True
        record: dict[str, Any] = {
            "image": f"{index:05d}.png", "width": int(width), "height": int(height), "orientation": orientation,
            "layout": layout, "font": b.face.name, "split": self.split,
            "words": [word_record(wd) for wd in words],
            "entities": [{"label": label, "text": " ".join(words[i].text for i in idx), "word_indices": idx}
                         for label, idx in b.entities],
            "fields": {},
        }
        if extra:
            record.update(extra)
        return image, record

    def _size(self, rng: random.Random, receipt: bool = False) -> tuple[int, int]:
        s = self.config.scale
        if receipt:
            return int(rng.randint(440, 640) * s), int(rng.randint(1000, 1700) * s)
        return int(A4[0] * s), int(A4[1] * s)

    # -- layouts ---------------------------------------------------------------------------
    def _document(self, rng: random.Random) -> PageBuilder:
        w, h = self._size(rng)
        b = PageBuilder(self, rng, w, h, lang=rng.choice(("ko", "ko", None)))
        margin = w * rng.uniform(0.07, 0.12)
        right, bottom = w - margin, h - margin
        y = margin
        body = b.px(rng.uniform(9, 12))
        if rng.random() < 0.5:  # document number and issuing office in small print
            small = b.px(rng.uniform(7.5, 9))
            asc, _ = line_metrics(b.face.path, b.face.index, small)
            b.run(margin, y + asc, [f"제 {rng.randint(2000, 2030)}-{rng.randint(1, 9999):04d} 호"], b.face, small, right)
            b.put(right, y + asc, b.value_phrase("date"), b.face, small, align="right")
            y += asc * 2.2
        title = rng.choice(TITLES_KO)
        y = b.title(title, y + b.px(6), b.px(rng.uniform(20, 32)), b.bold)
        if rng.random() < 0.4:
            sub = rng.choice(("(법인사업자)", "(개인사업자)", "(공급자 보관용)", "(공급받는자 보관용)", "(원본)", "(사본)"))
            asc, desc = line_metrics(b.face.path, b.face.index, body)
            b.put(w / 2, y + asc, sub, b.face, body, align="center")
            y += (asc + desc) * 1.6
        y += b.px(rng.uniform(4, 14))
        kinds = ["biz_reg_no", "org", "person", "rrn", "date", "address", "phone", "amount", "email", "url"]
        end = bottom - body * 9  # room for the date and the issuer
        while y < end - body * 3:
            r = rng.random()
            if r < 0.35:
                y = self._kv_rows(b, rng, margin, y, right, end, body, kinds)
            elif r < 0.65:
                y = self._numbered_paragraph(b, rng, margin, y, right, end, body)
            elif r < 0.8:
                small = b.px(rng.uniform(7, 9))
                phrases = [Phrase("※", "symbol")] + b.text.sentence(rng, "ko")
                y = b.paragraph(margin, y, phrases, b.face, small, right, small * 1.5, end)
            else:
                y = self._kv_grid(b, rng, margin, y, right, end, body, kinds)
            y += body * rng.uniform(0.5, 1.5)
            if rng.random() < 0.06:  # some documents end half-way down the page
                break
        self._issuer(b, rng, margin, max(y, h * 0.6), right, bottom, body)
        return b

    def _kv_rows(self, b: PageBuilder, rng: random.Random, x0: float, y: float, right: float, bottom: float,
                 size: int, kinds: list[str]) -> float:
        value_x = x0 + (right - x0) * rng.uniform(0.18, 0.38)
        asc, desc = line_metrics(b.face.path, b.face.index, size)
        pen = b.layer("pen") if b.hand is not None else 0
        for _ in range(rng.randint(2, 7)):
            if y + asc + desc > bottom:
                break
            kind = rng.choice(kinds)
            label = b.key_label(kind)
            r = rng.random()
            if r < 0.2 and " " not in label and len(label) <= 4:  # 성    명: letters spread to the column width
                self._spread(b, label, x0, value_x - size, y + asc, size)
            else:
                b.put(x0, y + asc, label, b.face, size, max_right=value_x - size * 0.3)
            hand = b.hand is not None and rng.random() < 0.6
            vface, vsize = (b.hand, int(size * rng.uniform(1.1, 1.4))) if hand else (b.face, size)
            value = b.fit(b.value_phrase(kind), vface, vsize, right - value_x)
            if value is not None:
                b.put(value_x, y + asc, value, vface, vsize, layer=pen if hand else 0, max_right=right)
            y += (asc + desc) * rng.uniform(1.35, 2.0)
        return y

    def _spread(self, b: PageBuilder, label: str, x0: float, x1: float, baseline: float, size: int) -> None:
        """Letters of a short label spread over a column (``합    계``): each letter its own word."""
        label = label.rstrip(":").strip()
        if len(label) < 2:
            b.put(x0, baseline, label, b.face, size)
            return
        step = (x1 - x0) / (len(label) - 1) if len(label) > 1 else 0
        step = min(step, size * 3.0)
        for i, ch in enumerate(label):
            lay = b.layout(ch, b.face, size)
            if lay is None:
                continue
            x = x0 + step * i - (lay.width if i == len(label) - 1 and i > 0 else 0) * 0.5
            b.put(x, baseline, ch, b.face, size)

    def _numbered_paragraph(self, b: PageBuilder, rng: random.Random, x0: float, y: float, right: float, bottom: float,
                            size: int) -> float:
        hs = int(size * rng.uniform(1.1, 1.5))
        asc, desc = line_metrics(b.bold.path, b.bold.index, hs)
        n = rng.randint(1, 9)
        head = rng.choice((f"{n}.", f"{n})", f"제{n}조", "가.", "나.", "■", "□", "○", f"({n})"))
        end = b.put(x0, y + asc, head, b.bold, hs)
        if end is not None:
            b.put(end + hs * 0.4, y + asc, rng.choice(HEADINGS_KO), b.bold, hs, max_right=right)
        y += (asc + desc) * 1.5
        phrases = [p for _ in range(rng.randint(1, 3)) for p in b.text.sentence(rng, "ko" if b.lang != "en" else "en")]
        return b.paragraph(x0 + size, y, phrases, b.face, size, right, size * rng.uniform(1.45, 1.9), bottom,
                           indent=size * rng.choice((0, 1)), justify=rng.random() < 0.5)

    def _issuer(self, b: PageBuilder, rng: random.Random, x0: float, y: float, right: float, bottom: float, size: int) -> None:
        asc, desc = line_metrics(b.face.path, b.face.index, size)
        if y + (asc + desc) * 4 > bottom:
            return
        b.put(b.w / 2, y + asc, b.value_phrase("date"), b.face, size, align="center")
        y += (asc + desc) * 2.2
        big = int(size * rng.uniform(1.2, 1.6))
        org = b.value_phrase("org")
        end = b.put(b.w / 2, y + big, org, b.bold, big, align="center")
        if end is not None and rng.random() < self.config.stamp_prob:
            b.seal(min(end + big * 0.8, right - big), y + big * 0.6, big)
        elif end is not None and rng.random() < 0.3:
            b.put(end + big * 0.5, y + big, "(인)", b.face, size)

    def _form(self, rng: random.Random) -> PageBuilder:
        w, h = self._size(rng)
        b = PageBuilder(self, rng, w, h, lang=rng.choice(("ko", "ko", None)))
        margin = w * rng.uniform(0.05, 0.09)
        right, bottom = w - margin, h - margin
        size = b.px(rng.uniform(8.5, 11))
        y = b.title(rng.choice(TITLES_KO), margin, b.px(rng.uniform(18, 28)), b.bold)
        pen = b.layer("pen") if b.hand is not None else 0
        asc, desc = line_metrics(b.face.path, b.face.index, size)
        kinds = ["biz_reg_no", "org", "person", "rrn", "date", "address", "phone", "amount", "email", "card"]
        while y < bottom - size * 3:
            y = self._kv_grid(b, rng, margin, y, right, bottom, size, kinds)
            y += size * rng.uniform(0.6, 1.6)
            if rng.random() < 0.35 and y < bottom - size * 3:  # check boxes
                base = y + asc
                x = margin
                for opt in rng.sample(("개인", "법인", "과세", "면세", "일반", "간이", "신규", "변경", "예", "아니오"), 4):
                    mark = rng.choice(("□", "■", "☑", "○", "●")) if b.face.covers("☑") else rng.choice(("□", "■"))
                    end = b.put(x, base, f"{mark} {opt}", b.face, size, max_right=right)
                    if end is None:
                        break
                    x = end + size * 1.5
                y += (asc + desc) * 1.8
            if rng.random() < 0.3 and y < bottom - size * 4:
                y = b.paragraph(margin, y, b.text.sentence(rng, "ko"), b.face, size, right, size * 1.6, bottom)
        if rng.random() < self.config.stamp_prob:
            b.seal(right - size * 4, bottom - size * 3, size * 2)
        if b.hand is not None and rng.random() < 0.5:
            b.scribble(right - size * 12, bottom - size * 3, size * 7, size * 2, pen)
        return b

    def _kv_grid(self, b: PageBuilder, rng: random.Random, margin: float, y: float, right: float, bottom: float,
                 size: int, kinds: list[str]) -> float:
        """A ruled grid of key | value (| key | value) cells, padding small enough for rules to touch text."""
        asc, desc = line_metrics(b.face.path, b.face.index, size)
        pen = b.layer("pen") if b.hand is not None else 0
        line_w = rng.choice((1, 1, 2, 2, 3))
        cols = rng.choice((2, 2, 4))
        row_h = (asc + desc) * rng.uniform(1.05, 1.9)
        key_w = (right - margin) * (0.22 if cols == 2 else 0.13)
        val_w = (right - margin - key_w * cols / 2) / (cols / 2)
        shade = rng.random() < 0.4
        for _ in range(rng.randint(2, 7)):
            if y + row_h > bottom:
                break
            x = margin
            for _c in range(cols // 2):
                kind = rng.choice(kinds)
                if shade:
                    b.canvas.rect(x, y, x + key_w, y + row_h, thickness=0, layer=b.layer("shade"), fill=rng.randint(25, 60))
                b.canvas.rect(x, y, x + key_w, y + row_h, thickness=line_w)
                b.canvas.rect(x + key_w, y, x + key_w + val_w, y + row_h, thickness=line_w)
                base = y + (row_h - (asc + desc)) / 2 + asc
                pad = size * rng.uniform(0.05, 0.35)
                label = b.key_label(kind).rstrip(": ")
                b.put(x + key_w / 2, base, label, b.face, size, align="center", max_right=x + key_w - 1, min_left=x + 1)
                hand = b.hand is not None and rng.random() < 0.5
                vface, vsize = (b.hand, int(size * 1.2)) if hand else (b.face, size)
                value = b.fit(b.value_phrase(kind), vface, vsize, val_w - pad - 2)
                if value is not None:
                    b.put(x + key_w + pad, base, value, vface, vsize, layer=pen if hand else 0, max_right=x + key_w + val_w)
                x += key_w + val_w
            y += row_h
        return y

    def _table(self, rng: random.Random) -> PageBuilder:
        w, h = self._size(rng)
        lang = rng.choice(("ko", "ko", None))
        b = PageBuilder(self, rng, w, h, lang=lang)
        margin = w * rng.uniform(0.05, 0.09)
        right, bottom = w - margin, h - margin
        size = b.px(rng.uniform(8, 11))
        y = b.title(rng.choice(("거래명세서", "견적서", "청구서", "납품서", "발주서", "세금계산서")), margin, b.px(rng.uniform(18, 26)), b.bold)
        asc, desc = line_metrics(b.face.path, b.face.index, size)
        # parties, as key–value lines
        y = self._kv_rows(b, rng, margin, y, right, bottom, size, ["org", "biz_reg_no", "person", "address", "phone", "date"])
        y += size
        end = bottom - size * 8
        y = self._item_table(b, rng, margin, y, right, end, size, lang)
        while y < end - size * 6:
            y += size * rng.uniform(1.0, 2.5)
            r = rng.random()
            if r < 0.4:
                y = self._item_table(b, rng, margin, y, right, end, size, lang)
            elif r < 0.7:
                small = b.px(rng.uniform(7, 9))
                phrases = [Phrase("※", "symbol")] + b.text.sentence(rng, "ko" if lang != "en" else "en")
                y = b.paragraph(margin, y, phrases, b.face, small, right, small * 1.5, end)
            elif r < 0.9:
                y = self._kv_rows(b, rng, margin, y, right, end, size, ["date", "amount", "person", "phone", "org"])
            else:
                break
        self._issuer(b, rng, margin, y + size * 2, right, bottom, size)
        return b

    def _item_table(self, b: PageBuilder, rng: random.Random, margin: float, y: float, right: float, bottom: float,
                    size: int, lang: str | None) -> float:
        """Header row, item rows (names left, numbers right-aligned), a totals row; full grid or rules."""
        asc, desc = line_metrics(b.face.path, b.face.index, size)
        headers = list(rng.sample(ITEM_HEADERS_KO, 5)) if lang != "en" else list(rng.sample(ITEM_HEADERS_EN, 5))
        ncol = len(headers)
        col_w = [(right - margin) * f for f in _split(rng, ncol)]
        row_h = (asc + desc) * rng.uniform(1.1, 1.8)
        if y + row_h * 4 > bottom:
            return y
        full_grid = rng.random() < 0.6
        line_w = rng.choice((1, 1, 2))
        xs = [margin + sum(col_w[:i]) for i in range(ncol + 1)]
        if rng.random() < 0.6:
            b.canvas.rect(margin, y, right, y + row_h, thickness=0, layer=b.layer("shade"), fill=rng.randint(25, 70))
        for i, head in enumerate(headers):
            b.put((xs[i] + xs[i + 1]) / 2, y + (row_h - asc - desc) / 2 + asc, head, b.bold, size, align="center",
                  max_right=xs[i + 1], min_left=xs[i])
        b.hrule(margin, right, y, line_w)
        b.hrule(margin, right, y + row_h, line_w)
        top = y
        y += row_h
        for _ in range(rng.randint(2, 16)):
            if y + row_h * 2 > bottom:
                break
            base = y + (row_h - asc - desc) / 2 + asc
            for i in range(ncol):
                pad = size * rng.uniform(0.1, 0.4)
                if i == 0 or rng.random() < 0.3:
                    cell = b.text.phrase(rng, rng.choice(("ko_word", "ko_word", "mixed", "en_word")), lang)
                    if rng.random() < 0.4:
                        cell = Phrase(f"{cell.text} {rng.choice(('A', 'B', 'S', 'XL', '500ml', '1kg', 'Type-2', str(rng.randint(1, 99))))}", cell.kind)
                    b.put(xs[i] + pad, base, cell, b.face, size, max_right=xs[i + 1] - 1)
                else:
                    cell = b.text.phrase(rng, rng.choice(("number", "amount", "amount")), "en" if lang == "en" else None)
                    b.put(xs[i + 1] - pad, base, cell, b.face, size, align="right", max_right=xs[i + 1], min_left=xs[i] + 1)
            y += row_h
            if full_grid or rng.random() < 0.3:
                b.hrule(margin, right, y, line_w if full_grid else 1, dash=None if full_grid else (4, 3))
        base = y + (row_h - asc - desc) / 2 + asc
        label = rng.choice(("합계", "합 계", "소계", "총액", "Total", "TOTAL")) if lang != "en" else rng.choice(("Total", "TOTAL", "Subtotal"))
        b.put(xs[0] + size * 0.3, base, label, b.bold, size)
        b.put(xs[-1] - size * 0.3, base, b.value_phrase("amount"), b.bold, size, align="right", min_left=xs[1])
        y += row_h
        b.hrule(margin, right, y, line_w + 1)
        if full_grid:
            for x in xs:
                b.canvas.line(x, top, x, y, thickness=line_w)
        return y

    def _receipt(self, rng: random.Random) -> PageBuilder:
        w, h = self._size(rng, receipt=True)
        b = PageBuilder(self, rng, w, h, lang="ko")
        if self.mono_pool is not None and rng.random() < 0.6:
            b.face = self.mono_pool.choose(rng) or b.face
        face = b.face
        size = max(10, int(w / rng.uniform(24, 34)))  # 32–48 columns on the paper
        cell = round(size * rng.uniform(0.5, 0.6))
        cols = int((w * 0.92) // cell)
        margin = (w - cols * cell) / 2
        right = w - margin
        asc, desc = line_metrics(face.path, face.index, size)
        lh = (asc + desc) * rng.uniform(1.15, 1.45)
        y = margin + asc

        def line(text: str | Phrase, align: str = "left", scale: float = 1.0, record: bool = True) -> None:
            sz = int(size * scale)
            c = round(cell * scale)
            anchor = {"left": margin, "right": right, "center": w / 2}[align]
            b.put(anchor, y, text, face, sz, cell=c, align=align, max_right=right + 1, record=record)

        store = f"{rng.choice(('', 'GS25 ', 'CU ', '이마트24 ', '세븐일레븐 '))}{b.text.phrase(rng, 'ko_word').text}{rng.choice(STORES)}"
        line(store[:14], "center", scale=rng.choice((1.0, 1.3, 1.5)))
        y += lh * 1.5
        for label, kind in (("사업자번호", "biz_reg_no"), ("대표", "person"), ("주소", "address"), ("TEL", "phone")):
            if rng.random() < 0.85:
                text = f"{label}{rng.choice((':', ': ', ' '))}".strip()
                end = b.put(margin, y, text, face, size, cell=cell)
                value = b.fit(b.value_phrase(kind), face, size, right - (end or right) - cell, cell=cell)
                if end is not None and value is not None:
                    b.put(end + cell, y, value, face, size, cell=cell, max_right=right)
                y += lh
        dash = rng.choice(("-", "=", "."))
        line(dash * cols, record=False)
        y += lh
        line(b.value_phrase("date"))
        y += lh
        line(dash * cols, record=False)
        y += lh
        for head, x in (("상품명", margin), ("수량", margin + cols * cell * 0.55), ("금액", right)):
            b.put(x, y, head, face, size, cell=cell, align="right" if head == "금액" else "left")
        y += lh
        line(dash * cols, record=False)
        y += lh
        for _ in range(rng.randint(2, 12)):
            if y > h - lh * 14:
                break
            name = b.text.phrase(rng, rng.choice(("ko_word", "ko_word", "mixed", "en_word"))).text
            b.put(margin, y, name[:10], face, size, cell=cell, max_right=margin + cols * cell * 0.5)
            b.put(margin + cols * cell * 0.6, y, str(rng.randint(1, 12)), face, size, cell=cell)
            b.put(right, y, f"{rng.randint(1, 500) * 100:,}", face, size, cell=cell, align="right")
            y += lh
        line(dash * cols, record=False)
        y += lh
        for label in ("과세물품", "부가세", "합계", "받을금액", "카드"):
            if rng.random() < 0.75:
                if len(label) <= 3 and rng.random() < 0.6:
                    self._spread_cells(b, label, margin, cell * 8, y, face, size, cell)
                else:
                    b.put(margin, y, label, face, size, cell=cell)
                amount = b.text.phrase(rng, "amount", "ko")
                if len(amount.text) <= 14:
                    b.put(right, y, amount, face, size, cell=cell, align="right")
                y += lh
        for label, kind in (("카드번호", "card"), ("승인번호", "number")):
            if rng.random() < 0.7:
                value = b.value_phrase(kind) if kind == "card" else Phrase(f"{rng.randint(0, 99999999):08d}", "number")
                end = b.put(margin, y, f"{label}:", face, size, cell=cell)
                if end is not None:
                    b.put(end + cell, y, value, face, size, cell=cell, max_right=right)
                y += lh
        if y < h - lh * 6:
            y += lh * 0.5
            bh = lh * 2
            b.barcode(w * 0.2, y - asc, w * 0.6, bh)
            y += bh + lh * 0.2
            line(f"{rng.randint(10 ** 11, 10 ** 12 - 1)}{rng.randint(0, 9)}", "center")
            y += lh
        if y < h - lh * 2:
            line(rng.choice(("감사합니다", "이용해 주셔서 감사합니다", "교환/환불은 영수증 지참", "*** 고객용 ***")), "center")
            y += lh
        final_h = int(min(h, y + lh * 2))
        b.canvas.layers = [layer[:final_h] for layer in b.canvas.layers]
        b.canvas.height = b.h = final_h
        return b

    def _spread_cells(self, b: PageBuilder, label: str, x0: float, width: float, baseline: float, face: FontFace,
                      size: int, cell: float) -> None:
        """``합    계`` on a receipt: the label's letters pushed to the ends of a fixed-width field."""
        step = width / max(1, len(label) - 1)
        for i, ch in enumerate(label):
            b.put(x0 + step * i - (cell * 2 if i == len(label) - 1 else 0), baseline, ch, face, size, cell=cell)

    def _prose(self, rng: random.Random) -> PageBuilder:
        w, h = self._size(rng)
        lang = rng.choice(("ko", "ko", "en"))
        b = PageBuilder(self, rng, w, h, lang=lang)
        margin = w * rng.uniform(0.07, 0.13)
        right, bottom = w - margin, h - margin
        size = b.px(rng.uniform(8.5, 12))
        y = margin
        hs = b.px(rng.uniform(14, 22))
        asc, desc = line_metrics(b.bold.path, b.bold.index, hs)
        heading = [b.text.phrase(rng, "ko_word" if lang == "ko" else "en_word", lang) for _ in range(rng.randint(2, 5))]
        b.run(margin, y + asc, heading, b.bold, hs, right)
        y += (asc + desc) * 1.8
        two_col = rng.random() < 0.35
        cols = [(margin, (margin + right) / 2 - size), ((margin + right) / 2 + size, right)] if two_col else [(margin, right)]
        top = y
        for x0, x1 in cols:
            y = top
            while y < bottom - size * 3:
                if rng.random() < 0.2:
                    s2 = int(size * rng.uniform(1.15, 1.5))
                    a2, d2 = line_metrics(b.bold.path, b.bold.index, s2)
                    b.run(x0, y + a2, [b.text.phrase(rng, "ko_word" if lang == "ko" else "en_word", lang)
                                       for _ in range(rng.randint(1, 4))], b.bold, s2, x1)
                    y += (a2 + d2) * 1.6
                phrases = [p for _ in range(rng.randint(1, 4)) for p in b.text.sentence(rng, lang)]
                y = b.paragraph(x0, y, phrases, b.face, size, x1, size * rng.uniform(1.4, 1.9), bottom,
                                indent=size * rng.choice((0, 1, 2)), justify=rng.random() < 0.5)
                y += size * rng.uniform(0.4, 1.2)
        if rng.random() < 0.5:
            small = b.px(8)
            a, _ = line_metrics(b.face.path, b.face.index, small)
            b.put(w / 2, h - margin * 0.5 + a / 2, f"- {rng.randint(1, 40)} -", b.face, small, align="center")
        return b

    def _invoice(self, rng: random.Random) -> PageBuilder:
        w, h = self._size(rng)
        b = PageBuilder(self, rng, w, h, lang="en")
        margin = w * rng.uniform(0.06, 0.1)
        right, bottom = w - margin, h - margin
        size = b.px(rng.uniform(8.5, 11))
        asc, desc = line_metrics(b.face.path, b.face.index, size)
        lh = (asc + desc) * 1.45
        org = b.value_phrase("org") if rng.random() < 0.6 else b.text.phrase(rng, "org", "ko")
        big = b.px(rng.uniform(14, 20))
        a2, d2 = line_metrics(b.bold.path, b.bold.index, big)
        b.put(margin, margin + a2, org, b.bold, big, max_right=w / 2 + big * 4)
        tsize = b.px(rng.uniform(18, 28))
        at, dt = line_metrics(b.bold.path, b.bold.index, tsize)
        b.put(right, margin + at, rng.choice(TITLES_EN), b.bold, tsize, align="right")
        y = margin + max(a2 + d2, at + dt) * 1.6
        for kind in ("address", "phone", "email", "url"):
            if rng.random() < 0.8:
                b.put(margin, y + asc, b.value_phrase(kind), b.face, size, max_right=w * 0.55)
                y += lh
        y2 = margin + max(a2 + d2, at + dt) * 1.6
        for label, kind in (("Invoice No.", "number"), ("Date", "date"), ("Due date", "date"), ("Business No.", "biz_reg_no")):
            end = b.put(w * 0.58, y2 + asc, f"{label}:", b.face, size)
            if end is not None:
                b.put(right, y2 + asc, b.value_phrase(kind), b.face, size, align="right", max_right=right)
            y2 += lh
        y = max(y, y2) + lh
        for label in ("Bill To:", "Ship To:"):
            x0 = margin if label.startswith("Bill") else w / 2
            yy = y
            b.put(x0, yy + asc, label, b.bold, size)
            yy += lh
            for kind in ("person", "org", "address"):
                b.put(x0, yy + asc, b.value_phrase(kind), b.face, size, max_right=x0 + w / 2 - margin)
                yy += lh
        y += lh * 5
        headers = ["Description", "Qty", "Unit Price", "Amount"]
        col_w = [(right - margin) * f for f in (0.52, 0.12, 0.18, 0.18)]
        xs = [margin + sum(col_w[:i]) for i in range(5)]
        row_h = (asc + desc) * rng.uniform(1.3, 1.8)
        if rng.random() < 0.6:
            b.canvas.rect(margin, y, right, y + row_h, thickness=0, layer=b.layer("shade"), fill=rng.randint(30, 70))
        for i, head in enumerate(headers):
            align = "left" if i == 0 else "right"
            b.put(xs[i] + size * 0.3 if i == 0 else xs[i + 1] - size * 0.3, y + (row_h - asc - desc) / 2 + asc, head,
                  b.bold, size, align=align)
        y += row_h
        b.hrule(margin, right, y, 1)
        for _ in range(rng.randint(2, 12)):
            if y + row_h * 6 > bottom:
                break
            base = y + (row_h - asc - desc) / 2 + asc
            desc_words = [b.text.phrase(rng, rng.choice(("en_word", "en_word", "mixed", "ko_word")), "en") for _ in range(rng.randint(1, 4))]
            b.run(xs[0] + size * 0.3, base, desc_words, b.face, size, xs[1] - size)
            b.put(xs[2] - size * 0.3, base, str(rng.randint(1, 50)), b.face, size, align="right")
            b.put(xs[3] - size * 0.3, base, b.text.phrase(rng, "amount", "en"), b.face, size, align="right")
            b.put(xs[4] - size * 0.3, base, b.text.phrase(rng, "amount", "en"), b.face, size, align="right")
            y += row_h
            if rng.random() < 0.5:
                b.hrule(margin, right, y, 1, dash=(3, 3) if rng.random() < 0.3 else None)
        y += row_h * 0.5
        for label in ("Subtotal", "Tax (10%)", "Total"):
            base = y + asc
            b.put(xs[2], base, label, b.bold if label == "Total" else b.face, size)
            b.put(right - size * 0.3, base, b.text.phrase(rng, "amount", "en"), b.bold if label == "Total" else b.face,
                  size, align="right")
            y += lh
        y += lh
        if y < bottom - lh * 3:
            y = b.paragraph(margin, y, b.text.sentence(rng, "en") + b.text.sentence(rng, "en"), b.face,
                            b.px(8), right, b.px(8) * 1.5, bottom)
        return b


def _split(rng: random.Random, n: int) -> list[float]:
    """``n`` column width fractions summing to 1, the first (names) widest."""
    raw = [rng.uniform(2.0, 3.5)] + [rng.uniform(0.8, 1.6) for _ in range(n - 1)]
    total = sum(raw)
    return [r / total for r in raw]
