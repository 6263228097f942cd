"""Word and text-line crops for recognition and script identification, rendered on demand.

``CropGenerator.sample(i)`` is a pure function of (seed, i): DataLoader workers render the same
stream in any order, a resumed run continues it exactly, and a validation set is just a range
of indices with another seed and the held-out fonts (``split="heldout"``). Nothing is written
to disk; a crop costs about a millisecond on one core (docs/benchmarks.md).

A crop is what the detector hands the recogniser: the text cut out tightly with small, uneven
margins, sometimes a table rule at its edge, in any of the training fonts and sizes, sometimes
letter-spaced or on a monospaced grid, then degraded (:func:`.degrade.crop_pipeline`). Its label
says what is written, in which script, what kind of text it is (so accuracy can be reported per
kind), which font drew it, and where each character is.
"""

from __future__ import annotations

import random
from typing import Any

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ...errors import KocrError
from .degrade import Context, Pipeline, apply_homography, crop_pipeline
from .fonts import FontPool, font_pool
from .render import Canvas, compose, layout_text, transform_words, word_record
from .text import Phrase, TextSource, script_of

__all__ = ["CropGenerator", "CropConfig", "PROFILES"]

#: Mixtures of kinds of text per profile: what each recogniser must read on documents.
#: ``script`` balances the scripts for the script identifier.
PROFILES: dict[str, dict[str, float]] = {
    "hangul": {"ko_word": 0.34, "ko_rare": 0.07, "mixed": 0.09, "en_word": 0.11, "number": 0.06, "date": 0.06,
               "amount": 0.06, "biz_reg_no": 0.02, "rrn": 0.01, "card": 0.01, "phone": 0.04, "person": 0.05,
               "org": 0.03, "address": 0.02, "email": 0.01, "url": 0.01, "symbol": 0.01},
    "latin": {"en_word": 0.5, "number": 0.1, "date": 0.08, "amount": 0.08, "phone": 0.05, "email": 0.04, "url": 0.03,
              "person": 0.04, "org": 0.03, "address": 0.02, "biz_reg_no": 0.01, "card": 0.01, "mixed": 0.02,
              "symbol": 0.02},
    "script": {"ko_word": 0.2, "ko_rare": 0.04, "mixed": 0.06, "person": 0.03, "en_word": 0.17, "email": 0.03,
               "url": 0.03, "number": 0.06, "date": 0.05, "amount": 0.05, "phone": 0.03, "biz_reg_no": 0.02,
               "card": 0.01, "han": 0.1, "kana": 0.08, "symbol": 0.04},
}
#: Profile → language of entity phrases (``latin`` must not draw Korean names).
_PROFILE_LANG = {"hangul": None, "latin": "en", "script": None}


class CropConfig(BaseModel):
    """How crops look (YAML-loadable: a training config's ``data:`` block)."""

    model_config = ConfigDict(extra="forbid")

    profile: str = Field("hangul", description="Mixture of kinds of text: " + ", ".join(PROFILES))
    sizes: tuple[int, ...] = Field((20, 24, 28, 32, 36, 40, 48), description="Font sizes (px) drawn from.")
    line_prob: float = Field(0.1, ge=0, le=1, description="Share of multi-phrase lines (2–4 phrases).")
    whole_phrase_prob: float = Field(0.5, ge=0, le=1, description="A multi-word phrase kept whole, else one word of it.")
    tracking_prob: float = Field(0.06, ge=0, le=1, description="Letter-spaced words (titles: 사 업 자).")
    mono_prob: float = Field(0.05, ge=0, le=1, description="Monospaced grid, as POS receipts print.")
    narrow_space_prob: float = Field(0.0, ge=0, le=1, description=(
        "Share of crops holding a space whose word gaps are narrowed (typewritten and tightly set "
        "text: FUNSD's gaps are often a fraction of a font's space), so the recogniser still reads the space."))
    space_scale: tuple[float, float] = Field((0.2, 0.7), description="Range of a narrowed space's share of the font's own.")
    rule_prob: float = Field(0.05, ge=0, le=1, description="A table rule along the top or bottom edge.")
    margin: tuple[float, float] = Field((0.0, 0.3), description="Margin range, in units of the font size.")
    native_font_prob: float = Field(0.65, ge=0, le=1, description="Latin/digit text drawn with a Korean font.")
    handwriting_prob: float = Field(0.0, ge=0, le=1, description=(
        "Share of crops drawn in a handwriting design that covers the text; 0 leaves it to the "
        "pools' own sampling weights (handwriting is then rare)."))
    low_contrast_prob: float = 0.06
    inverted_prob: float = 0.02
    color: bool = Field(False, description="RGB crops (else grayscale).")
    height: int | None = Field(None, description="Scale every crop to this height (aspect kept).")
    degrade: bool | Pipeline = Field(True, description="True: crop_pipeline(); False: clean; or a Pipeline.")


class CropGenerator:
    """Renders labelled word and line crops in the train or held-out fonts.

    >>> gen = CropGenerator(split="train", seed=0)          # doctest: +SKIP
    >>> image, label = gen.sample(42)                       # doctest: +SKIP
    >>> label["text"], label["script"], label["kind"]       # doctest: +SKIP
    ('통계청', 'hangul', 'ko_word')
    """

    def __init__(self, split: str = "train", seed: int = 0, profile: str = "hangul",
                 font_dirs: tuple[str, ...] | list[str] = (), **options: Any) -> None:
        if profile not in PROFILES:
            raise KocrError(f"unknown crop profile {profile!r}: choose from {', '.join(PROFILES)}")
        if isinstance(options.get("degrade"), dict):
            options["degrade"] = Pipeline.model_validate(options["degrade"])
        self.config = CropConfig(profile=profile, **options)
        self.split, self.seed = split, int(seed)
        self.font_dirs = tuple(font_dirs)
        self.pipeline: Pipeline = (crop_pipeline() if self.config.degrade is True else
                                   Pipeline() if self.config.degrade is False else self.config.degrade)
        mixture = PROFILES[profile]
        self.pools: dict[str, FontPool] = {"latin": font_pool("latin", split, self.font_dirs)}
        if profile != "latin":
            self.pools["hangul"] = font_pool("hangul", split, self.font_dirs)
        for script in ("han", "kana"):
            try:
                self.pools[script] = font_pool(script, split, self.font_dirs)
            except KocrError:
                pass  # no face covers it in this split: those kinds are skipped
        self.kinds = [k for k in mixture if not (k in ("han", "kana") and k not in self.pools)]
        base = self.pools.get("hangul") or self.pools["latin"]
        self._handwriting: FontPool | None = base.subset(lambda f: f.handwriting)
        self.weights = [mixture[k] for k in self.kinds]
        self.lang = _PROFILE_LANG[profile]
        self.text = TextSource()

    # -- sampling --------------------------------------------------------------------------
    def sample(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        """Crop ``index`` of this (split, seed): (uint8 image, label). Pure in (seed, index)."""
        rng = random.Random(f"kocr-crop:{self.split}:{self.seed}:{int(index)}")
        cfg = self.config
        for _ in range(64):
            phrase = self._pick_text(rng)
            face = self._pick_face(rng, phrase.text)
            if face is None:
                continue
            size = rng.choice(cfg.sizes)
            tracking, cell, space_scale = 0.0, None, 1.0
            one_word = " " not in phrase.text and len(phrase.text) <= 8
            if one_word and rng.random() < cfg.tracking_prob:
                tracking = size * rng.uniform(0.12, 0.7)
            elif rng.random() < cfg.mono_prob:
                cell = round(size * rng.uniform(0.5, 0.62))
            # Only draw from ``rng`` for this when asked to, so that every existing stream stays the same.
            if cfg.narrow_space_prob > 0 and " " in phrase.text and cell is None and rng.random() < cfg.narrow_space_prob:
                space_scale = rng.uniform(*cfg.space_scale)
            layout = layout_text(phrase.text, face, size, tracking, cell, space_scale)
            if layout is not None and layout.ink_box() is not None:
                break
        else:
            raise KocrError(f"could not render a crop for index {index}: no font covers the sampled text")
        return self._render(rng, phrase, layout, spaced=tracking > 0, mono=cell is not None)

    def _pick_text(self, rng: random.Random) -> Phrase:
        kind = rng.choices(self.kinds, self.weights)[0]
        phrase = self.text.phrase(rng, kind, self.lang)
        if self.lang == "en" and script_of(phrase.text) in ("hangul", "han", "kana"):
            phrase = self.text.phrase(rng, "en_word")
        words = phrase.words
        if len(words) > 1 and rng.random() >= self.config.whole_phrase_prob:
            phrase = Phrase(rng.choice(words), phrase.kind, phrase.entity)
        if rng.random() < self.config.line_prob:
            parts = [phrase.text]
            for _ in range(rng.randint(1, 3)):
                other = self.text.phrase(rng, rng.choices(self.kinds, self.weights)[0], self.lang)
                if self.lang == "en" and script_of(other.text) in ("hangul", "han", "kana"):
                    continue
                parts.append(other.text)
            text = " ".join(parts)
            if len(text) <= 48:
                phrase = Phrase(text, "line")
        return phrase

    def _pick_face(self, rng: random.Random, text: str):
        # Only draw from ``rng`` for this when asked to, so that every existing stream stays the same.
        if self.config.handwriting_prob > 0 and rng.random() < self.config.handwriting_prob:
            face = self._handwriting.choose(rng, text) if self._handwriting is not None else None
            if face is not None:
                return face
        script = script_of(text)
        if script in ("han", "kana"):
            order = [script, "hangul"]
        elif script == "hangul":
            order = ["hangul"]
        elif "hangul" in self.pools and rng.random() < self.config.native_font_prob:
            order = ["hangul", "latin"]
        else:
            order = ["latin", "hangul"]
        for name in order:
            pool = self.pools.get(name)
            if pool is not None:
                face = pool.choose(rng, text)
                if face is not None:
                    return face
        return None

    def _render(self, rng: random.Random, phrase: Phrase, layout, spaced: bool, mono: bool) -> tuple[np.ndarray, dict[str, Any]]:
        cfg = self.config
        size = layout.size
        x0, y0, x1, y1 = layout.ink_box()
        lo, hi = cfg.margin
        ml, mr = (round(size * rng.uniform(lo, hi)) + 1 for _ in range(2))
        mt, mb = (round(size * rng.uniform(lo, hi * 0.7)) + 1 for _ in range(2))
        w, h = (x1 - x0) + ml + mr, (y1 - y0) + mt + mb
        canvas = Canvas(w, h)
        canvas.draw(layout, ml - x0, mt - y0, entity=phrase.entity, split_words=not spaced,
                    **({"spaced": True} if spaced else {}))
        if rng.random() < cfg.rule_prob:  # a table line at the crop's edge, as detector crops often hold
            y = rng.choice((rng.randint(0, max(0, mt - 1)), h - 1 - rng.randint(0, max(0, mb - 1))))
            canvas.line(0, y, w, y, thickness=rng.choice((1, 1, 2)))

        paper, ink = self._colours(rng)
        ctx = Context(rng)
        canvas.layers[0] = self.pipeline.apply_ink(canvas.layers[0], ctx)
        base = np.full((h, w, 3) if cfg.color else (h, w), paper if cfg.color else int(np.mean(paper)), np.uint8)
        image = compose(base, canvas.layers, [ink])
        image = self.pipeline.apply_image(image, ctx)
        words = canvas.words
        if not np.allclose(ctx.matrix, np.eye(3)):
            m = ctx.matrix
            transform_words(words, lambda p: apply_homography(m, p))
        if cfg.height is not None and image.shape[0] != cfg.height:
            ih, iw = image.shape[:2]
            new_w = max(1, round(iw * cfg.height / ih))
            image = cv2.resize(image, (new_w, cfg.height), interpolation=cv2.INTER_AREA if cfg.height < ih else cv2.INTER_LINEAR)
            scale = np.array([new_w / iw, cfg.height / ih])
            transform_words(words, lambda p: p * scale)
        label: dict[str, Any] = {
            "text": " ".join(wd.text for wd in words),
            "script": script_of(phrase.text),
            "kind": phrase.kind,
            "entity": phrase.entity,
            "font": layout.face.name,
            "size": size,
            "words": [word_record(wd) for wd in words],
        }
        if spaced:
            label["spaced"] = True
        if mono:
            label["mono"] = True
        return np.ascontiguousarray(image), label

    def _colours(self, rng: random.Random) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        cfg = self.config
        r = rng.random()
        if r < cfg.inverted_prob:
            paper_l, ink_l = rng.randint(0, 80), rng.randint(180, 255)
        elif r < cfg.inverted_prob + cfg.low_contrast_prob:
            paper_l, ink_l = rng.randint(150, 210), rng.randint(60, 120)
        else:
            paper_l, ink_l = rng.randint(195, 255), rng.randint(0, 100)
        paper = tuple(min(255, max(0, paper_l + rng.randint(-12, 12))) for _ in range(3)) if cfg.color else (paper_l,) * 3
        if cfg.color and rng.random() < 0.12:  # blue or red ink, a stamp, a pen
            ink = rng.choice(((20, 40, 150), (30, 30, 110), (170, 30, 30), (120, 20, 20)))
        else:
            ink = (ink_l,) * 3
        return paper, ink

