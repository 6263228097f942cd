"""``form``: a ruled key–value grid.

Cell padding is small enough for the rules to touch the text, there are check boxes
(``□ 개인 ■ 법인``), values are sometimes handwritten in blue, and a seal or a signature may
sit at the foot.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from ..render import line_metrics
from .base import PageBuilder, page_size
from .blocks import TITLES_KO, kv_grid

if TYPE_CHECKING:
    from ..pages import PageGenerator

__all__ = ["draw"]


def draw(gen: PageGenerator, rng: random.Random) -> PageBuilder:
    """Ruled grids one under another, with check boxes and short paragraphs between them."""
    w, h = page_size(gen.config.scale, rng)
    b = PageBuilder(gen, rng, w, h, lang=rng.choice(("ko", "ko", None)))
    margin = w * rng.uniform(0.05, 0.09)
    right, bottom = w - margin, h - margin
    size = b.px(rng.uniform(8.5, 11))
    y = b.title(rng.choice(TITLES_KO), margin, b.px(rng.uniform(18, 28)), b.bold)
    pen = b.layer("pen") if b.hand is not None else 0
    asc, desc = line_metrics(b.face.path, b.face.index, size)
    kinds = ["biz_reg_no", "org", "person", "rrn", "date", "address", "phone", "amount", "email", "card"]
    while y < bottom - size * 3:
        y = kv_grid(b, rng, margin, y, right, bottom, size, kinds)
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
    if rng.random() < gen.config.stamp_prob:
        b.seal(right - size * 4, bottom - size * 3, size * 2)
    if b.hand is not None and rng.random() < 0.5:
        b.scribble(right - size * 12, bottom - size * 3, size * 7, size * 2, pen)
    return b
