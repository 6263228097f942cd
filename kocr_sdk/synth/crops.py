"""Word and short-line crops for recognition and script identification, rendered on demand.

``CropGenerator.sample(i)`` is a pure function of (seed, i): DataLoader workers render the same
stream in any order, a resumed run continues it exactly, and a validation set is just a range
of indices with another seed and the held-out fonts.
"""

from __future__ import annotations

import functools
import random
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .fonts import FontFace, select_fonts
from .text import TextSource, script_of

# Mixture of text kinds per recogniser profile: what that recogniser must read on documents.
PROFILES: dict[str, dict[str, float]] = {
    "hangul": {"ko_word": 0.42, "mixed": 0.1, "en_word": 0.14, "number": 0.06, "date": 0.06, "amount": 0.06,
               "id": 0.05, "name": 0.06, "phone": 0.04, "symbol": 0.01},
    "latin": {"en_word": 0.55, "number": 0.1, "date": 0.08, "amount": 0.08, "id": 0.07, "phone": 0.06,
              "name": 0.04, "symbol": 0.02},
}
SIZES = (22, 26, 30, 34, 40, 48)


@functools.lru_cache(maxsize=512)
def _font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index)


class CropGenerator:
    """Renders labelled word crops (grayscale uint8) in train or held-out fonts."""

    def __init__(self, split: str = "train", seed: int = 0, profile: str = "hangul", line_prob: float = 0.08,
                 degrade: bool = True, font_dirs: tuple[str, ...] = ()) -> None:
        self.split, self.seed, self.degrade, self.line_prob = split, seed, degrade, line_prob
        self.mixture = PROFILES[profile]
        self.kinds, self.weights = list(self.mixture), list(self.mixture.values())
        need = "hangul" if profile == "hangul" else "latin"
        self.faces: list[FontFace] = select_fonts(need, split, font_dirs)
        self.latin_faces: list[FontFace] = select_fonts("latin", split, font_dirs)
        self.text = TextSource()

    def _pick_text(self, rng: random.Random) -> tuple[str, str]:
        kind = rng.choices(self.kinds, self.weights)[0]
        text = self.text.word(rng, kind)
        if rng.random() < self.line_prob:
            text = f"{text} {self.text.word(rng, rng.choices(self.kinds, self.weights)[0])}"
        return text, kind

    def _pick_face(self, rng: random.Random, text: str) -> FontFace | None:
        pool = self.faces if script_of(text) in ("hangul",) else self.latin_faces
        for _ in range(8):
            face = rng.choice(pool)
            if face.covers(text):
                return face
        return None

    def sample(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        rng = random.Random(self.seed * 1_000_003 + index)
        while True:
            text, kind = self._pick_text(rng)
            face = self._pick_face(rng, text)
            if face is not None:
                break
        image = self._render(rng, text, face)
        if self.degrade:
            image = degrade_crop(rng, image)
        label = {"text": text, "script": script_of(text), "kind": kind, "font": face.family}
        return image, label

    def _render(self, rng: random.Random, text: str, face: FontFace) -> np.ndarray:
        size = rng.choice(SIZES)
        font = _font(face.path, face.index, size)
        spacing = 0 if rng.random() < 0.9 else rng.randint(2, size // 2)
        ink = rng.randint(0, 90)
        paper = rng.randint(190, 255)
        if spacing:
            widths = [font.getlength(c) for c in text]
            total = sum(widths) + spacing * (len(text) - 1)
        else:
            total = font.getlength(text)
        # Place the ink by its real bounding box: some glyphs rise above the font's ascent.
        x0, y0, x1, y1 = font.getbbox(text)
        mx, my = rng.randint(1, 8), rng.randint(1, 6)
        w = int(max(total, x1) - min(0, x0)) + 2 * mx + 2
        h = int(y1 - y0) + 2 * my + 2
        img = Image.new("L", (max(w, 4), max(h, 4)), paper)
        draw = ImageDraw.Draw(img)
        ox, oy = mx - min(0, x0), my - y0
        if spacing:
            x = ox
            for c, cw in zip(text, widths):
                draw.text((x, oy), c, font=font, fill=ink)
                x += cw + spacing
        else:
            draw.text((ox, oy), text, font=font, fill=ink)
        arr = np.asarray(img)
        # Tighten vertically to the ink with a random margin, as a detector's box would be.
        rows = np.where(arr.min(axis=1) < (ink + paper) // 2)[0]
        if len(rows):
            top = max(0, rows[0] - rng.randint(0, max(1, size // 6)))
            bottom = min(arr.shape[0], rows[-1] + 1 + rng.randint(0, max(1, size // 6)))
            arr = arr[top:bottom]
        return np.ascontiguousarray(arr)


def degrade_crop(rng: random.Random, img: np.ndarray) -> np.ndarray:
    """Blur, noise, low resolution, JPEG, slight rotation/shear and thermal-print fading."""
    out = img.astype(np.float32)
    h, w = out.shape
    if rng.random() < 0.3:  # slight rotation and shear, as from a skewed scan or a loose box
        angle, shear = rng.uniform(-2.5, 2.5), rng.uniform(-0.15, 0.15)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        m[0, 1] += shear
        out = cv2.warpAffine(out, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    if rng.random() < 0.12:  # thermal receipts: faded, broken strokes
        mask = np.random.default_rng(rng.randrange(2**32)).random(out.shape) < rng.uniform(0.1, 0.35)
        out = np.where(mask & (out < 128), out + rng.uniform(60, 140), out)
    if rng.random() < 0.3:
        k = rng.choice([3, 5])
        out = cv2.GaussianBlur(out, (k, k), rng.uniform(0.3, 1.2))
    if rng.random() < 0.3:  # low resolution, scaled back up
        f = rng.uniform(0.4, 0.8)
        small = cv2.resize(out, (max(4, int(w * f)), max(4, int(h * f))), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.3:
        out = out + np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(3, 14), out.shape)
    if rng.random() < 0.2:  # uneven lighting
        ramp = np.linspace(rng.uniform(-40, 0), rng.uniform(0, 40), w, dtype=np.float32)[None, :]
        out = out + ramp
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(25, 85)])
        out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return out


def preview(n: int = 24, split: str = "train", seed: int = 0, profile: str = "hangul") -> Image.Image:
    """A grid of samples with their labels, for looking at the data (docs/data.md)."""
    gen = CropGenerator(split, seed, profile)
    tiles = [Image.fromarray(gen.sample(i)[0]).resize((256, 40)) for i in range(n)]
    grid = Image.new("L", (512, 40 * ((n + 1) // 2)), 255)
    for i, t in enumerate(tiles):
        grid.paste(t, ((i % 2) * 256, (i // 2) * 40))
    return grid


