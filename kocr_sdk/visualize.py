"""Pictures of what kocr read: the page with its word boxes beside a page rebuilt from the text.

A reader of OCR output checks it by looking: a box around nothing, a word read as another, a
field taken from the wrong line are seen at a glance in a picture and missed in a JSON file. So
``kocr read --overlay`` (and :func:`draw_page` for Python users) draws two panels side by side:

- **left**, the page as it came in, with every word's quad coloured by its script (the key is
  :data:`SCRIPT_COLOURS`) and the matched template's fields outlined with their names;
- **right**, a white page with each word's *recognised text* drawn inside its box, so a misread
  stands next to the ink it came from, in the same place.

Everything is drawn from the Document alone (the image only underlies the left panel), so the
picture shows exactly what a program consuming the Document gets.
"""

from __future__ import annotations

import functools
from typing import Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .document import Page
from .errors import KocrInputError

__all__ = ["SCRIPT_COLOURS", "FIELD_COLOUR", "draw_page", "overlay_font"]

#: RGB colour of a word's quad by its script; words no script identifier labelled are grey.
SCRIPT_COLOURS: dict[str | None, tuple[int, int, int]] = {
    "hangul": (30, 90, 220), "latin": (20, 150, 60), "digits": (230, 120, 0), "han": (150, 40, 170),
    "kana": (200, 40, 120), "other": (120, 120, 120), None: (120, 120, 120),
}
#: RGB colour of a template field's outline and name.
FIELD_COLOUR = (220, 20, 40)
_FONT_PROBE = "한국어 Latin 0123"


@functools.lru_cache(maxsize=1)
def overlay_font() -> tuple[str, int] | None:
    """(path, face index) of an upright printed font with Hangul, Latin and digits; None if none is installed.

    A sans design is preferred (it stays legible when a word's box is small); handwriting never.
    """
    from .fonts import discover_fonts

    faces = [f for f in discover_fonts() if f.covers(_FONT_PROBE) and not f.handwriting and not f.italic]
    if not faces:
        return None
    def rank(f) -> tuple:
        sans = any(k in f.family for k in ("Gothic", "Sans", "Dotum"))
        return (not sans, abs(f.weight - 400), "Mono" in f.family, f.family, f.index)
    best = min(faces, key=rank)
    return best.path, best.index


@functools.lru_cache(maxsize=256)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    found = overlay_font()
    if found is None:
        return ImageFont.load_default()
    return ImageFont.truetype(found[0], size, index=found[1])


def _scaled(quad: Sequence[Sequence[float]], sx: float, sy: float) -> np.ndarray:
    return np.array([[x * sx, y * sy] for x, y in quad], dtype=np.float64)


def _polyline(img: np.ndarray, pts: np.ndarray, colour: tuple[int, int, int], thickness: int) -> None:
    cv2.polylines(img, [np.round(pts * 4).astype(np.int32)], True, colour, thickness, cv2.LINE_AA, shift=2)


def _fit_text(draw: ImageDraw.ImageDraw, text: str, pts: np.ndarray, colour: tuple[int, int, int]) -> None:
    """``text`` inside the quad's axis-aligned box: as high as the box, narrowed to fit its width."""
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    height = float(np.linalg.norm((pts[3] - pts[0] + pts[2] - pts[1]) / 2))  # across the reading direction
    size = max(6, int(round(min(height, y1 - y0) * 0.8)))
    font = _font(size)
    width = draw.textlength(text, font=font)
    if width > (x1 - x0) and width > 0:
        size = max(6, int(size * (x1 - x0) / width))
        font = _font(size)
    draw.text((float(x0), float((y0 + y1) / 2)), text, fill=colour, font=font, anchor="lm")


def draw_page(image: np.ndarray, page: Page, fields: bool = True, text: bool = True,
              thickness: int | None = None) -> np.ndarray:
    """The picture described in the module docstring, as an RGB array.

    ``image`` is the page as read (any size: the Document's coordinates are scaled to it; gray or
    RGB). ``text=False`` leaves out the right panel; ``fields=False`` the template fields.
    """
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.ndim != 3 or image.shape[2] not in (3, 4):
        raise KocrInputError(f"draw_page needs a gray or RGB image, got an array of shape {image.shape}")
    left = np.ascontiguousarray(image[..., :3]).copy()
    h, w = left.shape[:2]
    sx, sy = w / page.width, h / page.height
    line = thickness or max(1, int(round(max(h, w) / 1000)))
    for word in page.words:
        _polyline(left, _scaled(word.quad, sx, sy), SCRIPT_COLOURS.get(word.script, SCRIPT_COLOURS[None]), line)
    right = Image.new("RGB", (w, h), "white")
    if text:
        draw = ImageDraw.Draw(right)
        for word in page.words:
            if word.text:
                colour = SCRIPT_COLOURS.get(word.script, SCRIPT_COLOURS[None])
                _fit_text(draw, word.text, _scaled(word.quad, sx, sy), colour)
    match = page.template_match if fields else None
    if match is not None:
        canvas = Image.fromarray(left)
        draw_left = ImageDraw.Draw(canvas)
        for name, value in match.fields.items():
            if value.quad is None:
                continue
            pts = _scaled(value.quad, sx, sy)
            x0, y0 = pts.min(0)
            x1, y1 = pts.max(0)
            pad = 2 * line
            draw_left.rectangle((x0 - pad, y0 - pad, x1 + pad, y1 + pad), outline=FIELD_COLOUR, width=2 * line)
            label_font = _font(max(10, int(round(0.55 * (y1 - y0)))))  # readable beside the value it names
            draw_left.text((float(x0 - pad), float(y0 - pad - 1)), name, fill=FIELD_COLOUR, font=label_font,
                           anchor="lb", stroke_width=2, stroke_fill="white")
        left = np.asarray(canvas)
    if not text:
        return left
    gap = np.full((h, max(4, w // 100), 3), 200, np.uint8)
    return np.hstack([left, gap, np.asarray(right)])
