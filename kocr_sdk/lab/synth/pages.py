"""Whole pages with exact character and word quadrilaterals, for training and testing detection.

:class:`PageGenerator` picks a layout and has it drawn (one module per layout under
:mod:`.layouts`: ``document``, ``form``, ``table``, ``receipt``, ``prose``, ``invoice``), then
finishes the page the same way for all: every page mixes several font sizes, and text is drawn
with :mod:`.render`, so every character's quad is exact; the page then goes through ink
degradations, paper, a small skew, the page pipeline (:func:`.degrade.page_pipeline`: light,
perspective onto a background, blur, noise, JPEG …) and a rotation by 0/90/180/270°, and every
quad is moved with the pixels. ``capture`` sends pages instead through how users capture them
(:mod:`.capture`: a phone photo of curled paper on a table, an office scan, a thermal or
dot-matrix receipt photographed). ``orientation`` in the record is the counter-clockwise rotation
applied to the upright page (``np.rot90(page, orientation // 90)``).

``PageGenerator.sample(i)`` is a pure function of (split, seed, i), like the crop generator.
"""

from __future__ import annotations

import random
from typing import Any

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ...errors import KocrError
from ...geometry import rotate_points
from .capture import (
    CaptureOptions,
    backgrounds_for,
    capture_record,
    check_capture,
    draw_capture,
    paper_tone,
    photograph,
    ribbon_colour,
    scan,
    thermal_print,
    thermal_roll,
)
from .degrade import Context, Fax, Pipeline, apply_homography, page_pipeline, receipt_pipeline
from .fonts import FontPool, font_pool
from .layouts import DRAW, LAYOUTS
from .layouts.base import A4, PageBuilder
from .render import compose, transform_words, word_record
from .text import TextSource

__all__ = ["PageGenerator", "PageConfig", "PageBuilder", "LAYOUTS", "A4"]


class PageConfig(BaseModel):
    """How pages look (YAML-loadable: a detector training config's ``data:`` block)."""

    model_config = ConfigDict(extra="forbid")

    layouts: tuple[str, ...] = Field(LAYOUTS, description="Layouts drawn from: " + ", ".join(LAYOUTS))
    layout_weights: tuple[float, ...] | None = Field(None, description="Weights of ``layouts`` (default equal).")
    scale: float = Field(1.0, gt=0.1, le=3.0, description="Page size relative to A4 at 150 dpi (1240×1754).")
    rotate: bool = Field(True, description="Turn pages by 90/180/270°.")
    rotate_prob: float = Field(0.5, ge=0, le=1, description="Share of pages turned (the rest stay upright).")
    skew_prob: float = Field(0.6, ge=0, le=1)
    max_skew: float = Field(2.0, ge=0, le=15, description="Degrees.")
    stamp_prob: float = Field(0.35, ge=0, le=1, description="Red seals on documents and forms.")
    handwriting_prob: float = Field(0.25, ge=0, le=1, description="Values written in a handwriting face.")
    colour_ink_prob: float = Field(0.15, ge=0, le=1, description="Blue or brown ink instead of black.")
    degrade: bool | Pipeline = Field(True, description="True: page_pipeline() (receipt_pipeline() for receipts).")
    tight_spacing_prob: float = Field(
        0.0, ge=0, le=1, description="Share of pages whose word spaces are narrowed to a `tight_spacing` fraction of "
        "the font's space (typewritten forms). 0 draws nothing, so pages stay those of earlier versions.")
    tight_spacing: tuple[float, float] = Field((0.2, 0.7), description="Range of that fraction, drawn once per page.")
    typewriter_prob: float = Field(
        0.0, ge=0, le=1, description="Share of pages typed in a monospaced face (a Latin one on English pages), as "
        "typewritten forms and line-printer output are: letters on a fixed pitch, so a word space is one letter cell "
        "and the gaps around a narrow letter inside a word are nearly as wide. 0 draws nothing, so pages stay those of earlier versions.")
    fax_prob: float = Field(
        0.0, ge=0, le=1, description="Share of pages that, after the degradation pipeline, go through a low-resolution "
        "black-and-white scan (:class:`~.degrade.Fax`), as FUNSD's faxed forms did. 0 draws nothing.")
    capture: str | dict[str, float] | None = Field(
        None, description="How pages reach the reader (:mod:`.capture`): a kind — `plain` (the degradation "
        "pipeline), `scan` (an office scanner or copier), `photo` (a phone photo of the paper on a table: curl, "
        "folds, perspective, shadows, blur), `thermal` (a till receipt's thermal or dot-matrix print on a 58/80 mm "
        "roll, photographed) — or `{kind: probability}`, the rest `plain`. None draws nothing, so pages stay those "
        "of earlier versions.")
    capture_options: CaptureOptions = Field(default_factory=CaptureOptions,
                                            description="Options of each capture kind (photo, thermal, scan).")


def _layer_colour(rng: random.Random, kind: str) -> tuple[int, int, int]:
    if kind == "seal":
        return (rng.randint(170, 225), rng.randint(20, 60), rng.randint(25, 60))
    if kind == "pen":
        return rng.choice(((25, 40, 140), (20, 30, 90), (30, 30, 30), (15, 60, 150)))
    if kind == "shade":
        return (rng.randint(0, 60),) * 3
    return (0, 0, 0)


class PageGenerator:
    """Renders labelled pages: (RGB uint8 image, record in the evaluation JSONL format)."""

    def __init__(self, split: str = "train", seed: int = 0, font_dirs: tuple[str, ...] | list[str] = (),
                 **options: Any) -> None:
        if isinstance(options.get("degrade"), dict):
            options["degrade"] = Pipeline.model_validate(options["degrade"])
        self.config = PageConfig(**options)
        unknown = set(self.config.layouts) - set(LAYOUTS)
        if unknown:
            raise KocrError(f"unknown page layout(s) {', '.join(sorted(unknown))}: choose from {', '.join(LAYOUTS)}")
        check_capture(self.config.capture)
        self.split, self.seed, self.font_dirs = split, int(seed), tuple(font_dirs)
        self.pools: dict[str, FontPool] = {"hangul": font_pool("hangul", split, self.font_dirs),
                                           "latin": font_pool("latin", split, self.font_dirs)}
        for script in ("han", "kana"):
            try:
                self.pools[script] = font_pool(script, split, self.font_dirs)
            except KocrError:
                pass
        self.hand_pool = self.pools["hangul"].subset(lambda f: f.handwriting)
        self.mono_pool = self.pools["hangul"].subset(lambda f: f.mono)
        self.typewriter_pool = self.pools["hangul"].subset(lambda f: f.mono and not f.handwriting)
        self.mono_latin_pool = self.pools["latin"].subset(
            lambda f: f.mono and "hangul" not in f.scripts and not f.handwriting)
        self.text = TextSource()

    # -- sampling --------------------------------------------------------------------------
    def sample(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        """Page ``index``: (RGB uint8 H×W×3, record). Pure in (split, seed, index)."""
        rng = random.Random(f"kocr-page:{self.split}:{self.seed}:{int(index)}")
        cfg = self.config
        layout = rng.choices(cfg.layouts, cfg.layout_weights)[0] if cfg.layout_weights else rng.choice(cfg.layouts)
        builder = DRAW[layout](self, rng)
        return self.finish(rng, builder, layout, index)

    def finish(self, rng: random.Random, b: PageBuilder, layout: str, index: int,
               extra: dict[str, Any] | None = None, rotate: bool | None = None,
               receipt: bool | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Ink, paper, skew, degradations and rotation of a drawn page; the record in JSONL form.

        ``receipt`` picks the thermal-print degradations (default: when the layout is ``receipt``);
        forms drawn in receipt style pass it, since their layout is ``template``.
        """
        cfg = self.config
        canvas = b.canvas
        if receipt is None:
            receipt = layout == "receipt"
        how = draw_capture(cfg.capture, rng)  # None draws nothing: a seed's pages stay what they were
        if cfg.degrade is True:
            pipeline = receipt_pipeline() if receipt else page_pipeline()
        elif cfg.degrade is False:
            pipeline = Pipeline()
        else:
            pipeline = cfg.degrade
        background = tuple(rng.randint(20, 160) for _ in range(3))
        ctx = Context(rng, background=background)
        printer = None
        if how == "thermal":
            canvas.layers, printer = thermal_print(canvas.layers, b.layer_kinds, canvas.words, ctx,
                                                   cfg.capture_options.thermal)
        else:
            canvas.layers = [pipeline.apply_ink(layer, ctx) if kind != "shade" else layer
                             for layer, kind in zip(canvas.layers, b.layer_kinds)]
        tone = rng.randint(232, 255)
        paper = np.empty((canvas.height, canvas.width, 3), np.uint8)
        paper[:] = (tone, max(0, tone - rng.randint(0, 10)), max(0, tone - rng.randint(0, 22)))
        if printer is not None:
            paper[:] = paper_tone(rng, printer)
        ink_colour = _layer_colour(rng, "ink")
        if rng.random() < cfg.colour_ink_prob:
            ink_colour = rng.choice(((25, 35, 110), (60, 40, 30), (40, 40, 40)))
        if printer == "dot_matrix":
            ink_colour = ribbon_colour(rng)
        colours = [ink_colour if kind == "ink" else _layer_colour(rng, kind) for kind in b.layer_kinds]
        # shading fills go under the text: compose them first
        order = sorted(range(len(canvas.layers)), key=lambda i: b.layer_kinds[i] != "shade")
        image = compose(paper, [canvas.layers[i] for i in order], [colours[i] for i in order])
        words = canvas.words
        h, w = image.shape[:2]
        captured: dict[str, Any] = {}
        if how in (None, "plain"):
            if rng.random() < cfg.skew_prob and cfg.max_skew > 0:
                angle = rng.uniform(-cfg.max_skew, cfg.max_skew)
                m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
                image = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                       borderValue=tuple(int(c) for c in paper[0, 0]))
                ctx.then(np.vstack([m, [0, 0, 1]]))
            image = pipeline.apply_image(image, ctx)
            if cfg.fax_prob > 0 and rng.random() < cfg.fax_prob:
                image = Fax(prob=1.0).apply(image, ctx)
            if not np.allclose(ctx.matrix, np.eye(3)):
                m = ctx.matrix
                transform_words(words, lambda p: apply_homography(m, p))
            if how == "plain":
                captured = capture_record(how, apply_homography(ctx.matrix, np.array([[0, 0], [w, 0], [w, h], [0, h]])))
        elif how == "scan":
            image, corners = scan(image, words, ctx, cfg.capture_options.scan)
            captured = capture_record(how, corners)
        else:
            look = cfg.capture_options.photo
            more: dict[str, Any] = {}
            if how == "thermal":
                image, mm = thermal_roll(image, words, ctx, cfg.capture_options.thermal,
                                         tuple(int(c) for c in paper[0, 0]))
                look = cfg.capture_options.thermal.photo
                more = {"printer": printer, "roll_mm": mm}
            image, corners, info = photograph(image, words, ctx, look, backgrounds_for(self.split))
            captured = capture_record(how, corners, **info, **more)
        h, w = image.shape[:2]
        orientation = 0
        if (cfg.rotate if rotate is None else rotate) and rng.random() < cfg.rotate_prob:
            orientation = rng.choice((90, 180, 270))
            image = np.ascontiguousarray(np.rot90(image, orientation // 90))
            transform_words(words, lambda p: rotate_points(p, orientation, w, h))
            if "paper" in captured:
                captured["paper"] = np.round(rotate_points(np.array(captured["paper"]), orientation, w, h), 2).tolist()
        height, width = image.shape[:2]
        for wd in words:  # a word pushed partly off the picture is "don't care"
            q = wd.quad
            if q[:, 0].min() < -0.5 or q[:, 1].min() < -0.5 or q[:, 0].max() > width + 0.5 or q[:, 1].max() > height + 0.5:
                wd.extra["ignore"] = True
        record: dict[str, Any] = {
            "image": f"{index:05d}.png", "width": int(width), "height": int(height), "orientation": orientation,
            "layout": layout, "font": b.face.name, "split": self.split,
            "words": [word_record(wd) for wd in words],
            "entities": [{"label": label, "text": " ".join(words[i].text for i in idx), "word_indices": idx}
                         for label, idx in b.entities],
            "fields": {},
        }
        record.update(captured)
        if extra:
            record.update(extra)
        return image, record
