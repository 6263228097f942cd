"""``receipt``: a narrow thermal receipt on a monospaced grid.

Store header, dashed rules, items, letter-spaced totals (``합    계``), masked card numbers and
a barcode with its digits; the paper is cut where the text ends, as a till cuts it.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from ..fonts import FontFace
from ..render import line_metrics
from ..text import Phrase
from .base import PageBuilder, page_size

if TYPE_CHECKING:
    from ..pages import PageGenerator

__all__ = ["draw"]

STORES = ("편의점", "마트", "카페", "베이커리", "식당", "약국", "문구", "주유소", "서점", "커피", "치킨", "분식", "병원")


def draw(gen: PageGenerator, rng: random.Random) -> PageBuilder:
    """A till receipt on a fixed character cell (a monospaced face most of the time)."""
    w, h = page_size(gen.config.scale, rng, receipt=True)
    b = PageBuilder(gen, rng, w, h, lang="ko")
    if gen.mono_pool is not None and rng.random() < 0.6:
        b.face = gen.mono_pool.choose(rng) or b.face
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
                _spread_cells(b, label, margin, cell * 8, y, face, size, cell)
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


def _spread_cells(b: PageBuilder, label: str, x0: float, width: float, baseline: float, face: FontFace,
                  size: int, cell: float) -> None:
    """``합    계`` on a receipt: the label's letters pushed to the ends of a fixed-width field."""
    step = width / max(1, len(label) - 1)
    for i, ch in enumerate(label):
        b.put(x0 + step * i - (cell * 2 if i == len(label) - 1 else 0), baseline, ch, face, size, cell=cell)
