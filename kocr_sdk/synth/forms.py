"""Filled-in forms drawn from the YAML templates, with the field values as ground truth.

Each form shows its template's keywords (the title large, often letter-spaced) and, for every
field, one of its anchor labels with a generated value placed where the template says the value
lies (right of the label, or below it). The ground truth carries ``fields: {name: value}`` so the
whole pipeline — OCR, clustering, template matching, normalisation — can be scored end to end.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np

from ..templates import Template, discover_templates
from .crops import _font
from .pages import PageGenerator, _Canvas, _degrade_page, _round
from .text import biz_reg_no_check_digit


def field_value(rng: random.Random, type_: str, entity: str | None) -> str:
    """A plausible value for a template field of this type / expected entity."""
    from .text import _faker

    if type_ == "biz_reg_no" or entity == "BIZ_REG_NO":
        first9 = f"{rng.randint(100, 999)}{rng.randint(1, 99):02d}{rng.randint(0, 9999):04d}"
        n = first9 + str(biz_reg_no_check_digit(first9))
        return f"{n[:3]}-{n[3:5]}-{n[5:]}"
    if type_ == "date" or entity == "DATE":
        y, m, d = rng.randint(1995, 2030), rng.randint(1, 12), rng.randint(1, 28)
        return rng.choice([f"{y}년 {m}월 {d}일", f"{y}.{m:02d}.{d:02d}", f"{y}-{m:02d}-{d:02d}"])
    if type_ == "amount" or entity == "MONEY":
        v = rng.randint(1, 9999) * rng.choice([10, 100, 1000])
        return rng.choice([f"{v:,}원", f"{v:,}", f"₩{v:,}"])
    if type_ == "phone" or entity == "PHONE":
        return f"0{rng.randint(2, 70)}-{rng.randint(100, 9999)}-{rng.randint(1000, 9999)}"
    fake = _faker("ko_KR")
    fake.seed_instance(rng.randrange(2**31))
    if entity == "PERSON":
        return fake.name()
    if entity == "ORG":
        return rng.choice(["(주)", "㈜", ""]) + fake.company().replace("(주)", "").replace("㈜", "").strip()
    if entity == "ADDRESS":
        return fake.address().split("(")[0].strip()
    return fake.word()


class FormGenerator:
    """Renders filled forms for the templates in ``template_dirs`` (default: the shipped ones)."""

    def __init__(self, split: str = "train", seed: int = 0, template_dirs: list[Path] | None = None,
                 degrade: bool = True, scale: float = 1.0) -> None:
        from ..default_plugins.templates import shipped_templates_dir

        dirs = template_dirs or [d for d in [shipped_templates_dir()] if d is not None]
        self.templates: list[Template] = discover_templates(dirs)
        self.pages = PageGenerator(split, seed, rotate=False, degrade=False, scale=scale)
        self.seed, self.degrade, self.scale = seed, degrade, scale

    def sample(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        rng = random.Random(self.seed * 1_000_003 + index)
        template = self.templates[index % len(self.templates)]
        face = rng.choice(self.pages.faces)
        w, h = int(1240 * self.scale), int(1754 * self.scale)
        canvas = _Canvas(w, h, rng.randint(228, 255))
        ink = rng.randint(0, 60)
        margin = int(rng.uniform(0.07, 0.12) * w)
        size = int(rng.choice([20, 22, 24, 26]) * self.scale)
        title = max(template.match.keywords, key=lambda k: (k.required, k.weight)).text
        tsize = int(rng.randint(44, 60) * self.scale)
        spacing = tsize * rng.uniform(0.3, 1.0) if rng.random() < 0.6 else 0.0
        tw = _font(face.path, face.index, tsize).getlength(title) + spacing * (len(title) - 1)
        y = margin
        canvas.word((w - tw) / 2, y, title, face, tsize, ink, spacing)
        y += int(tsize * 2.2)
        value_x = margin + int(w * rng.uniform(0.25, 0.35))
        fields: dict[str, str] = {}
        names = list(template.fields)
        rng.shuffle(names)
        for name in names:
            spec = template.fields[name]
            if spec.position == "region":
                continue
            label = rng.choice(spec.anchors)
            value = field_value(rng, spec.type, spec.entity)
            label_text = label + rng.choice(["", " :", ":"])
            self.pages._line(canvas, rng, margin, y, label_text.split(), face, size, ink, value_x - 10)
            if spec.position == "below":
                y += int(size * 1.7)
                self.pages._line(canvas, rng, margin, y, value.split(), face, size, ink, w - margin)
            else:
                self.pages._line(canvas, rng, value_x, y, value.split(), face, size, ink, w - margin)
            fields[name] = value
            y += int(size * rng.uniform(1.8, 2.6))
        anchors = {a for spec in template.fields.values() for a in spec.anchors}
        for kw in template.match.keywords:  # the other identifying phrases, as a form would show them
            if kw.text != title and kw.text not in anchors and y < h - margin - size * 3 and rng.random() < 0.7:
                self.pages._line(canvas, rng, margin, y, kw.text.split(), face, size, ink, w - margin)
                y += int(size * 2)
        image = np.asarray(canvas.image)
        if self.degrade:
            image = _degrade_page(rng, image)
        rgb = np.repeat(image[:, :, None], 3, axis=2)
        record = {"image": f"{index:06d}.png", "width": w, "height": h, "orientation": 0, "layout": "form",
                  "template": template.id, "font": face.family,
                  "words": [{**wd, "poly": _round(wd["poly"]), "chars": [{**c, "poly": _round(c["poly"])} for c in wd["chars"]]}
                            for wd in canvas.words],
                  "fields": fields}
        return rgb, record
