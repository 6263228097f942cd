"""``invoice``: an English (or mixed) invoice.

Bill To / Ship To blocks, invoice number and dates right of the letterhead, an item table in
``$`` and totals: the Latin-script business page, set in Latin faces most of the time.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from ..render import line_metrics
from .base import PageBuilder, page_size

if TYPE_CHECKING:
    from ..pages import PageGenerator

__all__ = ["draw"]

TITLES_EN = ("INVOICE", "RECEIPT", "QUOTATION", "PURCHASE ORDER", "STATEMENT", "Packing List", "Certificate",
             "DELIVERY NOTE", "Tax Invoice", "Contract")


def draw(gen: PageGenerator, rng: random.Random) -> PageBuilder:
    """An English invoice: letterhead, numbers and dates, addresses, items and totals."""
    w, h = page_size(gen.config.scale, rng)
    b = PageBuilder(gen, rng, w, h, lang="en")
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
