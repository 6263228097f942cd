"""Hand-built pages for layout and template tests: words placed by box, no image, no OCR."""

from __future__ import annotations

import math

import numpy as np

from kocr_sdk.document import Page, Word
from kocr_sdk.geometry import quad_from_box, rotate_points

H = 20  # text height in pixels


def page_of(items, width=1000, height=1000, orientation=0, confidences=None):
    """A page whose words are ``(text, (x0, y0, x1, y1))``, ids w0, w1, ... in the given order."""
    words = [Word(id=f"w{i}", quad=quad_from_box(box), text=text,
                  text_confidence=None if confidences is None else confidences[i])
             for i, (text, box) in enumerate(items)]
    return Page(width=width, height=height, words=words, orientation=orientation)


def row(texts, x, y, gap=8, char_w=14):
    """Words laid left to right from (x, y), ``gap`` pixels apart, ``char_w`` pixels a character."""
    out = []
    for t in texts:
        w = char_w * len(t)
        out.append((t, (x, y, x + w, y + H)))
        x += w + gap
    return out


def turned(page, angle):
    """``page`` rotated counter-clockwise by ``angle`` the way np.rot90 turns its image."""
    words = []
    for w in page.words:
        q = rotate_points(np.asarray(w.quad), angle, page.width, page.height)
        words.append(Word.model_validate({**w.model_dump(exclude={"box"}), "quad": tuple(map(tuple, q))}))
    size = (page.height, page.width) if angle in (90, 270) else (page.width, page.height)
    return Page(width=size[0], height=size[1], words=words, orientation=angle)


def skewed(page, degrees, centre=None):
    """``page`` with every quad turned by ``degrees`` about ``centre`` (default: the page centre)."""
    cx, cy = centre if centre is not None else (page.width / 2, page.height / 2)
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    words = []
    for w in page.words:
        q = np.asarray(w.quad) - (cx, cy)
        q = np.stack([q[:, 0] * c - q[:, 1] * s, q[:, 0] * s + q[:, 1] * c], axis=1) + (cx, cy)
        words.append(Word.model_validate({**w.model_dump(exclude={"box"}), "quad": tuple(map(tuple, q))}))
    return page.model_copy(update={"words": words})
