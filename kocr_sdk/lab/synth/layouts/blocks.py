"""Blocks more than one layout draws: key–value rows and ruled grids, spread labels, the issuer.

A certificate, a form and an item table share these pieces on real pages, so they share the
code that draws them (and the order of its random draws, which fixes a seed's pages).
"""

from __future__ import annotations

import random

from ..render import line_metrics
from .base import PageBuilder

__all__ = ["TITLES_KO", "kv_rows", "kv_grid", "issuer"]

TITLES_KO = ("사업자등록증", "세금계산서", "영수증", "견적서", "거래명세서", "계약서", "청구서", "납품확인서", "재직증명서",
             "위임장", "신청서", "확인서", "발주서", "공문", "안내문", "통지서", "입금확인서", "등기부등본", "재무상태표")


def kv_rows(b: PageBuilder, rng: random.Random, x0: float, y: float, right: float, bottom: float,
            size: int, kinds: list[str]) -> float:
    """Unruled ``label  value`` lines (values sometimes handwritten); returns the y below them."""
    value_x = x0 + (right - x0) * rng.uniform(0.18, 0.38)
    asc, desc = line_metrics(b.face.path, b.face.index, size)
    pen = b.layer("pen") if b.hand is not None else 0
    for _ in range(rng.randint(2, 7)):
        if y + asc + desc > bottom:
            break
        kind = rng.choice(kinds)
        label = b.key_label(kind)
        r = rng.random()
        if r < 0.2 and " " not in label and len(label) <= 4:  # 성    명: letters spread to the column width
            _spread(b, label, x0, value_x - size, y + asc, size)
        else:
            b.put(x0, y + asc, label, b.face, size, max_right=value_x - size * 0.3)
        hand = b.hand is not None and rng.random() < 0.6
        vface, vsize = (b.hand, int(size * rng.uniform(1.1, 1.4))) if hand else (b.face, size)
        value = b.fit(b.value_phrase(kind), vface, vsize, right - value_x)
        if value is not None:
            b.put(value_x, y + asc, value, vface, vsize, layer=pen if hand else 0, max_right=right)
        y += (asc + desc) * rng.uniform(1.35, 2.0)
    return y


def _spread(b: PageBuilder, label: str, x0: float, x1: float, baseline: float, size: int) -> None:
    """Letters of a short label spread over a column (``합    계``): each letter its own word."""
    label = label.rstrip(":").strip()
    if len(label) < 2:
        b.put(x0, baseline, label, b.face, size)
        return
    step = (x1 - x0) / (len(label) - 1) if len(label) > 1 else 0
    step = min(step, size * 3.0)
    for i, ch in enumerate(label):
        lay = b.layout(ch, b.face, size)
        if lay is None:
            continue
        x = x0 + step * i - (lay.width if i == len(label) - 1 and i > 0 else 0) * 0.5
        b.put(x, baseline, ch, b.face, size)


def kv_grid(b: PageBuilder, rng: random.Random, margin: float, y: float, right: float, bottom: float,
            size: int, kinds: list[str]) -> float:
    """A ruled grid of key | value (| key | value) cells, padding small enough for rules to touch text."""
    asc, desc = line_metrics(b.face.path, b.face.index, size)
    pen = b.layer("pen") if b.hand is not None else 0
    line_w = rng.choice((1, 1, 2, 2, 3))
    cols = rng.choice((2, 2, 4))
    row_h = (asc + desc) * rng.uniform(1.05, 1.9)
    key_w = (right - margin) * (0.22 if cols == 2 else 0.13)
    val_w = (right - margin - key_w * cols / 2) / (cols / 2)
    shade = rng.random() < 0.4
    for _ in range(rng.randint(2, 7)):
        if y + row_h > bottom:
            break
        x = margin
        for _c in range(cols // 2):
            kind = rng.choice(kinds)
            if shade:
                b.canvas.rect(x, y, x + key_w, y + row_h, thickness=0, layer=b.layer("shade"), fill=rng.randint(25, 60))
            b.canvas.rect(x, y, x + key_w, y + row_h, thickness=line_w)
            b.canvas.rect(x + key_w, y, x + key_w + val_w, y + row_h, thickness=line_w)
            base = y + (row_h - (asc + desc)) / 2 + asc
            pad = size * rng.uniform(0.05, 0.35)
            label = b.key_label(kind).rstrip(": ")
            b.put(x + key_w / 2, base, label, b.face, size, align="center", max_right=x + key_w - 1, min_left=x + 1)
            hand = b.hand is not None and rng.random() < 0.5
            vface, vsize = (b.hand, int(size * 1.2)) if hand else (b.face, size)
            value = b.fit(b.value_phrase(kind), vface, vsize, val_w - pad - 2)
            if value is not None:
                b.put(x + key_w + pad, base, value, vface, vsize, layer=pen if hand else 0, max_right=x + key_w + val_w)
            x += key_w + val_w
        y += row_h
    return y


def issuer(b: PageBuilder, rng: random.Random, x0: float, y: float, right: float, bottom: float, size: int) -> None:
    """The date and the issuing organisation at the foot, often with a seal stamped over the name."""
    asc, desc = line_metrics(b.face.path, b.face.index, size)
    if y + (asc + desc) * 4 > bottom:
        return
    b.put(b.w / 2, y + asc, b.value_phrase("date"), b.face, size, align="center")
    y += (asc + desc) * 2.2
    big = int(size * rng.uniform(1.2, 1.6))
    org = b.value_phrase("org")
    end = b.put(b.w / 2, y + big, org, b.bold, big, align="center")
    if end is not None and rng.random() < b.gen.config.stamp_prob:
        b.seal(min(end + big * 0.8, right - big), y + big * 0.6, big)
    elif end is not None and rng.random() < 0.3:
        b.put(end + big * 0.5, y + big, "(인)", b.face, size)
