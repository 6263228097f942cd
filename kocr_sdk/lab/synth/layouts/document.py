"""``document``: a Korean certificate or notice.

A big title, often letter-spaced (``사 업 자 등 록 증``), key–value rows, numbered paragraphs,
footnotes (``※ …``), a date and an issuer with a red seal stamped over it: the page kocr is
most often given.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from ..render import line_metrics
from ..text import Phrase
from .base import PageBuilder, page_size
from .blocks import TITLES_KO, issuer, kv_grid, kv_rows

if TYPE_CHECKING:
    from ..pages import PageGenerator

__all__ = ["draw"]

HEADINGS_KO = ("개요", "목적", "내용", "기간", "장소", "참고사항", "유의사항", "신청방법", "제출서류", "문의처", "일반사항", "세부내역")


def draw(gen: PageGenerator, rng: random.Random) -> PageBuilder:
    """A certificate or notice: blocks of rows, paragraphs and footnotes until the page fills, then the issuer."""
    w, h = page_size(gen.config.scale, rng)
    b = PageBuilder(gen, rng, w, h, lang=rng.choice(("ko", "ko", None)))
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
            y = kv_rows(b, rng, margin, y, right, end, body, kinds)
        elif r < 0.65:
            y = _numbered_paragraph(b, rng, margin, y, right, end, body)
        elif r < 0.8:
            small = b.px(rng.uniform(7, 9))
            phrases = [Phrase("※", "symbol")] + b.text.sentence(rng, "ko")
            y = b.paragraph(margin, y, phrases, b.face, small, right, small * 1.5, end)
        else:
            y = kv_grid(b, rng, margin, y, right, end, body, kinds)
        y += body * rng.uniform(0.5, 1.5)
        if rng.random() < 0.06:  # some documents end half-way down the page
            break
    issuer(b, rng, margin, max(y, h * 0.6), right, bottom, body)
    return b


def _numbered_paragraph(b: PageBuilder, rng: random.Random, x0: float, y: float, right: float, bottom: float,
                        size: int) -> float:
    """A numbered heading (``1.``, ``제3조``, ``■`` …) and its paragraph; returns the y below it."""
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
