"""Whole pages with exact character and word quadrilaterals, for training and testing detection.

Layouts follow what kocr meets (DESIGN.md): A4 documents with titles (often letter-spaced),
paragraphs and key–value rows; tables and forms whose rules touch the text; narrow thermal
receipts in monospaced fonts with dashed rules. Text is drawn character by character so each
character's box is known exactly; a word's quad is the union of its characters'. The page is
then skewed slightly and rotated by 0/90/180/270 degrees, and every quad is moved with the
pixels (quads keep their reading-order point order: TL, TR, BR, BL as the text reads).

``PageGenerator.sample(i)`` is a pure function of (seed, i), like the crop generator.
"""

from __future__ import annotations

import random
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw

from ..geometry import rotate_points
from .crops import _font
from .fonts import FontFace, select_fonts
from .text import TextSource, script_of

LAYOUTS = ("document", "form", "receipt")
KEYS_KO = ["등록번호", "상호", "법인명", "대표자", "성명", "주소", "사업장소재지", "개업연월일", "전화번호", "업태", "종목",
           "발행일", "공급가액", "세액", "합계금액", "품명", "수량", "단가", "금액", "비고", "담당자", "이메일", "계좌번호"]
KEYS_EN = ["Name", "Date", "Address", "Phone", "Fax", "Total", "Amount", "Invoice No.", "Company", "Email", "Page"]
TITLES = ["사업자등록증", "세금계산서", "영수증", "견적서", "거래명세서", "계약서", "청구서", "INVOICE", "RECEIPT", "납품확인서"]


class _Canvas:
    """Draws text character by character and records every character's box."""

    def __init__(self, width: int, height: int, paper: int) -> None:
        self.image = Image.new("L", (width, height), paper)
        self.draw = ImageDraw.Draw(self.image)
        self.words: list[dict[str, Any]] = []

    def word(self, x: float, y: float, text: str, face: FontFace, size: int, ink: int, spacing: float = 0.0) -> float:
        """Draw ``text`` with its top-left at (x, y); return the x where it ends."""
        font = _font(face.path, face.index, size)
        _, top, _, bottom = font.getbbox(text)
        chars = []
        for ch in text:
            adv = font.getlength(ch)
            self.draw.text((x, y), ch, font=font, fill=ink)
            cx0, _, cx1, _ = font.getbbox(ch)
            x0, x1 = x + min(0, cx0), x + max(adv, cx1)
            chars.append({"text": ch, "poly": [[x0, y + top], [x1, y + top], [x1, y + bottom], [x0, y + bottom]]})
            x += adv + spacing
        x0 = chars[0]["poly"][0][0]
        x1 = max(c["poly"][1][0] for c in chars)
        self.words.append({"text": text, "script": script_of(text), "font": face.family,
                           "poly": [[x0, y + top], [x1, y + top], [x1, y + bottom], [x0, y + bottom]], "chars": chars})
        return x - spacing


class PageGenerator:
    """Renders labelled pages (RGB uint8 + a ground-truth record in the evaluation JSONL format)."""

    def __init__(self, split: str = "train", seed: int = 0, layouts: tuple[str, ...] = LAYOUTS,
                 scale: float = 1.0, rotate: bool = True, degrade: bool = True, font_dirs: tuple[str, ...] = ()) -> None:
        self.split, self.seed, self.layouts, self.scale = split, seed, layouts, scale
        self.rotate, self.degrade = rotate, degrade
        self.faces = select_fonts("hangul", split, font_dirs)
        self.mono = [f for f in self.faces if f.mono] or self.faces
        self.latin = select_fonts("latin", split, font_dirs)
        self.text = TextSource()

    # --------------------------------------------------------------------------- sampling
    def sample(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        rng = random.Random(self.seed * 1_000_003 + index)
        layout = rng.choice(self.layouts)
        face = rng.choice(self.mono if layout == "receipt" else self.faces)
        canvas = getattr(self, f"_{layout}")(rng, face)
        image = np.asarray(canvas.image)
        words = canvas.words
        image, words = self._skew(rng, image, words)
        if self.degrade:
            image = _degrade_page(rng, image)
        orientation = rng.choice((0, 0, 0, 90, 180, 270)) if self.rotate else 0
        if orientation:
            h, w = image.shape[:2]
            image = np.ascontiguousarray(np.rot90(image, orientation // 90))
            for wd in words:
                wd["poly"] = rotate_points(np.array(wd["poly"]), orientation, w, h).tolist()
                for c in wd["chars"]:
                    c["poly"] = rotate_points(np.array(c["poly"]), orientation, w, h).tolist()
        rgb = np.repeat(image[:, :, None], 3, axis=2)
        record = {"image": f"{index:06d}.png", "width": int(rgb.shape[1]), "height": int(rgb.shape[0]),
                  "orientation": orientation, "layout": layout, "font": face.family,
                  "words": [{**w, "poly": _round(w["poly"]), "chars": [{**c, "poly": _round(c["poly"])} for c in w["chars"]]}
                            for w in words], "fields": {}}
        return rgb, record

    # --------------------------------------------------------------------------- helpers
    def _face_for(self, rng: random.Random, text: str, face: FontFace) -> FontFace | None:
        if face.covers(text):
            return face
        pool = self.latin if script_of(text) != "hangul" else self.faces
        for _ in range(6):
            f = rng.choice(pool)
            if f.covers(text):
                return f
        return None

    def _line(self, canvas: _Canvas, rng: random.Random, x: float, y: float, words: list[str], face: FontFace,
              size: int, ink: int, right: float, spacing: float = 0.0) -> float:
        font = _font(face.path, face.index, size)
        gap = font.getlength(" ") * rng.uniform(0.9, 1.6)
        for text in words:
            f = self._face_for(rng, text, face)
            if f is None:
                continue
            width = _font(f.path, f.index, size).getlength(text) + spacing * (len(text) - 1)
            if x + width > right:
                break
            x = canvas.word(x, y, text, f, size, ink, spacing) + gap
        return x

    def _words(self, rng: random.Random, n: int) -> list[str]:
        kinds = ["ko_word"] * 6 + ["en_word", "mixed", "number", "date", "amount", "name", "phone", "id"]
        return [self.text.word(rng, rng.choice(kinds)) for _ in range(n)]

    # --------------------------------------------------------------------------- layouts
    def _document(self, rng: random.Random, face: FontFace) -> _Canvas:
        w, h = int(1240 * self.scale), int(1754 * self.scale)
        canvas = _Canvas(w, h, rng.randint(225, 255))
        ink = rng.randint(0, 70)
        margin = int(rng.uniform(0.06, 0.12) * w)
        y = margin
        title = rng.choice(TITLES)
        tsize = int(rng.randint(40, 64) * self.scale)
        spaced = rng.random() < 0.6
        spacing = tsize * rng.uniform(0.4, 1.2) if spaced else 0.0
        tf = self._face_for(rng, title, face) or face
        tw = _font(tf.path, tf.index, tsize).getlength(title) + spacing * (len(title) - 1)
        canvas.word(max(margin, (w - tw) / 2), y, title, tf, tsize, ink, spacing)
        y += int(tsize * 1.8)
        size = int(rng.choice([18, 20, 22, 24, 28]) * self.scale)
        while y < h - margin - size * 2:
            block = rng.random()
            if block < 0.45:  # key–value rows, value far right of the key on some pages
                value_x = margin + int(w * rng.uniform(0.2, 0.45))
                for _ in range(rng.randint(2, 6)):
                    key = rng.choice(KEYS_KO if rng.random() < 0.8 else KEYS_EN) + rng.choice(["", " :", ":"])
                    self._line(canvas, rng, margin, y, key.split(), face, size, ink, value_x - 10)
                    self._line(canvas, rng, value_x, y, self._words(rng, rng.randint(1, 4)), face, size, ink, w - margin)
                    y += int(size * rng.uniform(1.6, 2.2))
                    if y > h - margin - size * 2:
                        break
            elif block < 0.8:  # a paragraph
                for _ in range(rng.randint(2, 7)):
                    self._line(canvas, rng, margin, y, self._words(rng, 14), face, size, ink, w - margin)
                    y += int(size * rng.uniform(1.4, 1.8))
                    if y > h - margin - size * 2:
                        break
            else:  # a heading in another size
                hs = int(size * rng.uniform(1.2, 1.8))
                self._line(canvas, rng, margin, y, self._words(rng, rng.randint(1, 3)), face, hs, ink, w - margin)
                y += int(hs * 1.7)
            y += int(size * rng.uniform(0.5, 1.5))
        return canvas

    def _form(self, rng: random.Random, face: FontFace) -> _Canvas:
        w, h = int(1240 * self.scale), int(1754 * self.scale)
        canvas = _Canvas(w, h, rng.randint(225, 255))
        ink = rng.randint(0, 70)
        margin = int(0.07 * w)
        size = int(rng.choice([18, 20, 22, 24]) * self.scale)
        y = margin
        title = rng.choice(TITLES)
        tf = self._face_for(rng, title, face) or face
        tsize = int(48 * self.scale)
        canvas.word(margin + w * 0.3, y, title, tf, tsize, ink, tsize * rng.uniform(0, 0.8))
        y += int(tsize * 2)
        cols = rng.randint(2, 5)
        col_w = (w - 2 * margin) / cols
        row_h = int(size * rng.uniform(1.5, 2.4))
        pad = rng.uniform(0.05, 0.3) * size  # small pads make rules touch the text
        while y + row_h < h - margin:
            for c in range(cols):
                x0 = margin + c * col_w
                canvas.draw.rectangle([x0, y, x0 + col_w, y + row_h], outline=ink, width=rng.choice([1, 1, 2]))
                cell = [rng.choice(KEYS_KO)] if (c % 2 == 0 and rng.random() < 0.6) else self._words(rng, rng.randint(1, 3))
                self._line(canvas, rng, x0 + pad + 2, y + (row_h - size) / 2, cell, face, size, ink, x0 + col_w - pad)
            y += row_h
        return canvas

    def _receipt(self, rng: random.Random, face: FontFace) -> _Canvas:
        w, h = int(rng.randint(520, 700) * self.scale), int(rng.randint(1100, 1600) * self.scale)
        canvas = _Canvas(w, h, rng.randint(215, 250))
        ink = rng.randint(20, 110)
        margin = int(0.06 * w)
        size = int(rng.choice([18, 20, 22]) * self.scale)
        y = margin
        for _ in range(2):
            self._line(canvas, rng, margin + w * 0.2, y, [rng.choice(TITLES[:3] + ["[영수증]", "카드매출전표"])], face,
                       int(size * 1.4), ink, w - margin)
            y += int(size * 2.2)
        while y < h - margin - size * 3:
            r = rng.random()
            if r < 0.15:
                dash = rng.choice(["-", "=", "."])
                for x in range(margin, w - margin, max(4, size // 2)):
                    canvas.draw.text((x, y), dash, font=_font(face.path, face.index, size), fill=ink)
                y += int(size * 1.3)
                continue
            if r < 0.3:  # letter-spaced label and an amount at the right edge
                label = rng.choice(["합계", "부가세", "과세물품", "받을금액", "카드", "현금"])
                self._line(canvas, rng, margin, y, [label], face, size, ink, w / 2, spacing=size * rng.uniform(0.5, 1.5))
                amount = self.text.word(rng, "amount")
                f = self._face_for(rng, amount, face) or face
                aw = _font(f.path, f.index, size).getlength(amount)
                canvas.word(w - margin - aw, y, amount, f, size, ink)
            else:
                self._line(canvas, rng, margin, y, self._words(rng, rng.randint(1, 4)), face, size, ink, w - margin)
            y += int(size * rng.uniform(1.3, 1.7))
        return canvas

    def _skew(self, rng: random.Random, image: np.ndarray, words: list[dict]) -> tuple[np.ndarray, list[dict]]:
        angle = rng.uniform(-2.0, 2.0) if rng.random() < 0.5 else 0.0
        if not angle:
            return image, words
        h, w = image.shape
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        border = int(np.median(image[:5]))
        out = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=border)

        def move(poly):
            p = np.hstack([np.asarray(poly, dtype=np.float64), np.ones((4, 1))])
            return (p @ m.T).tolist()

        for wd in words:
            wd["poly"] = move(wd["poly"])
            for c in wd["chars"]:
                c["poly"] = move(c["poly"])
        return out, words


def _round(poly) -> list[list[float]]:
    return [[round(float(x), 2), round(float(y), 2)] for x, y in poly]


def _degrade_page(rng: random.Random, img: np.ndarray) -> np.ndarray:
    """Scan and photo effects that keep geometry: blur, noise, uneven light, JPEG."""
    out = img.astype(np.float32)
    h, w = out.shape
    if rng.random() < 0.4:
        out = cv2.GaussianBlur(out, (3, 3), rng.uniform(0.3, 1.0))
    if rng.random() < 0.4:  # uneven lighting: a smooth gradient across the page
        gx = np.linspace(rng.uniform(-35, 0), rng.uniform(0, 35), w, dtype=np.float32)[None, :]
        gy = np.linspace(rng.uniform(-25, 0), rng.uniform(0, 25), h, dtype=np.float32)[:, None]
        out = out + gx + gy
    if rng.random() < 0.4:
        out = out + np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(2, 10), out.shape).astype(np.float32)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(40, 90)])
        out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return out
