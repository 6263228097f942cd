"""``table``: an item table (거래명세서, 견적서).

The parties as key–value lines, then a header row, items, right-aligned numbers, shaded cells
and a totals row, in a full grid or between rules only, as trade documents print them.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from ..render import line_metrics
from ..text import Phrase
from .base import PageBuilder, page_size
from .blocks import issuer, kv_rows

if TYPE_CHECKING:
    from ..pages import PageGenerator

__all__ = ["draw"]

ITEM_HEADERS_KO = ("품명", "규격", "수량", "단가", "금액", "비고", "품목", "공급가액", "세액", "단위", "번호", "월일")
ITEM_HEADERS_EN = ("Item", "Description", "Qty", "Unit Price", "Amount", "No.", "Unit", "Total", "Code")


def draw(gen: PageGenerator, rng: random.Random) -> PageBuilder:
    """A trade document: the parties, one or more item tables, notes, the issuer."""
    w, h = page_size(gen.config.scale, rng)
    lang = rng.choice(("ko", "ko", None))
    b = PageBuilder(gen, rng, w, h, lang=lang)
    margin = w * rng.uniform(0.05, 0.09)
    right, bottom = w - margin, h - margin
    size = b.px(rng.uniform(8, 11))
    y = b.title(rng.choice(("거래명세서", "견적서", "청구서", "납품서", "발주서", "세금계산서")), margin, b.px(rng.uniform(18, 26)), b.bold)
    asc, desc = line_metrics(b.face.path, b.face.index, size)
    # parties, as key–value lines
    y = kv_rows(b, rng, margin, y, right, bottom, size, ["org", "biz_reg_no", "person", "address", "phone", "date"])
    y += size
    end = bottom - size * 8
    y = _item_table(b, rng, margin, y, right, end, size, lang)
    while y < end - size * 6:
        y += size * rng.uniform(1.0, 2.5)
        r = rng.random()
        if r < 0.4:
            y = _item_table(b, rng, margin, y, right, end, size, lang)
        elif r < 0.7:
            small = b.px(rng.uniform(7, 9))
            phrases = [Phrase("※", "symbol")] + b.text.sentence(rng, "ko" if lang != "en" else "en")
            y = b.paragraph(margin, y, phrases, b.face, small, right, small * 1.5, end)
        elif r < 0.9:
            y = kv_rows(b, rng, margin, y, right, end, size, ["date", "amount", "person", "phone", "org"])
        else:
            break
    issuer(b, rng, margin, y + size * 2, right, bottom, size)
    return b


def _item_table(b: PageBuilder, rng: random.Random, margin: float, y: float, right: float, bottom: float,
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


def _split(rng: random.Random, n: int) -> list[float]:
    """``n`` column width fractions summing to 1, the first (names) widest."""
    raw = [rng.uniform(2.0, 3.5)] + [rng.uniform(0.8, 1.6) for _ in range(n - 1)]
    total = sum(raw)
    return [r / total for r in raw]
