"""``prose``: paragraphs in Korean or English, one or two columns, headings in other sizes.

Running text varies line and word spacing most (justified or ragged right, indented first
lines) and sometimes runs in two columns side by side.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from ..render import line_metrics
from .base import PageBuilder, page_size

if TYPE_CHECKING:
    from ..pages import PageGenerator

__all__ = ["draw"]


def draw(gen: PageGenerator, rng: random.Random) -> PageBuilder:
    """A heading, then paragraphs (with subheadings) filling one or two columns."""
    w, h = page_size(gen.config.scale, rng)
    lang = rng.choice(("ko", "ko", "en"))
    b = PageBuilder(gen, rng, w, h, lang=lang)
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
