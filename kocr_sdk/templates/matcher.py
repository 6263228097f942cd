"""Template matching: which registered form a page is, and the values of its named fields.

Every template is scored on the page; the best one whose keywords pass its ``match`` rules wins,
or none does. A template *passes* when all its required keywords are found and the found
keywords carry at least ``min_score`` of its keyword weight. Among those, the winner has the
highest score::

    score = 0.6 × keyword coverage (weight found × fuzzy score / total weight)
          + 0.25 × share of required fields found with a value that validates
          + 0.15 × share of found fields whose pattern and validation pass

so that two forms sharing keywords are told apart by whether their fields are really there.

Each field is looked for next to every fuzzy match of its anchors (:mod:`.fuzzy`), by its
``position`` rule (:mod:`.locate`); each candidate's value is cut to the field's ``pattern``,
normalised by its ``type`` (:mod:`.normalize`), and scored::

    confidence = OCR confidence of the value's words × anchor score / 100
               × (0.5 if the pattern does not match) × (0.5 if validation fails)
               × (0.85 if NER ran and labelled the value otherwise than ``entity``)

The most confident candidate wins; a label that starts its line is preferred over one found in
the middle of a longer label (``Date`` in ``Due date``). Fields under ``review_threshold``,
failing validation, or required and missing are flagged ``needs_review``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..document import FieldValue, Page, TemplateMatch
from ..errors import KocrConfigError
from ..interfaces import TemplateMatcher
from ..layout import ClusterConfig, Layout, layout_from_blocks, layout_page
from ..yamlio import located_errors
from .fuzzy import PageIndex, Span
from .locate import Locator
from .normalize import normalize
from .patterns import search as pattern_search
from .schema import FieldSpec, Template

KEYWORD_WEIGHT, FIELDS_WEIGHT, VALID_WEIGHT = 0.6, 0.25, 0.15


class MatcherConfig(BaseModel):
    """Options of the ``fuzzy`` template matcher (engine ``options: {fuzzy: {...}}``)."""

    model_config = ConfigDict(extra="forbid")

    review_threshold: float = Field(0.8, ge=0, le=1, description="Fields less confident than this need review.")
    max_anchor_words: int = Field(8, ge=1, description="Most OCR words one label may be split over.")
    anchor_gap: float = Field(4.0, gt=0, description="Widest gap inside a split label (`합    계`), in text heights.")
    right_reach: float = Field(40.0, gt=0, description="Farthest a `right` value may start from its label, in text heights.")
    below_reach: float = Field(3.0, gt=0, description="Farthest a `below` value may start under its label, in text heights.")
    mid_label_penalty: float = Field(
        0.9, gt=0, le=1, description="Ranking factor for a label found mid-line (only ranks candidates; not in confidence).")
    pattern_miss: float = Field(0.5, ge=0, le=1, description="Confidence factor when the value does not match `pattern`.")
    invalid: float = Field(0.5, ge=0, le=1, description="Confidence factor when the type's validation fails.")
    entity_miss: float = Field(0.85, ge=0, le=1, description="Confidence factor when NER labelled the value otherwise.")
    layout: ClusterConfig = Field(default_factory=ClusterConfig,
                                  description="Clustering used when no clusterer ran before the matcher.")


@dataclass
class TemplateScore:
    """How well one template fits a page (``passed``: its match rules hold), with its fields."""

    template: Template
    score: float
    coverage: float
    passed: bool
    keywords: dict[str, float]
    fields: dict[str, FieldValue]
    reason: str | None = None


@dataclass
class _Candidate:
    words: list[int]
    value: str
    normalized: Any
    valid: bool | None
    pattern_ok: bool
    confidence: float
    rank_key: tuple[float, ...]
    anchor: str | None


@dataclass
class _PageContext:
    """Everything about one page that every template's matching shares."""

    page: Page
    layout: Layout
    index: PageIndex
    locator: Locator
    scores: dict[tuple[str, bool], np.ndarray] = field(default_factory=dict)

    def phrase_scores(self, phrases: Sequence[str], partial: bool = False) -> None:
        """Score ``phrases`` against every span once per page (templates share phrases)."""
        todo = sorted({p for p in phrases if (p, partial) not in self.scores})
        if todo:
            for p, row in zip(todo, self.index.scores(todo, partial)):
                self.scores[(p, partial)] = row

    def best(self, phrases: Sequence[str], partial: bool = False) -> np.ndarray:
        """Per span, the best score of any of ``phrases``."""
        self.phrase_scores(phrases, partial)
        return np.max(np.stack([self.scores[(p, partial)] for p in phrases]), axis=0)


def _context(page: Page, cfg: MatcherConfig) -> _PageContext:
    layout = layout_from_blocks(page, cfg.layout) if page.blocks else layout_page(page, cfg.layout)
    index = PageIndex.build(page, layout, cfg.max_anchor_words, cfg.anchor_gap)
    return _PageContext(page, layout, index, Locator(index, cfg.right_reach, cfg.below_reach))


def _anchor_candidates(ctx: _PageContext, spec: FieldSpec) -> list[tuple[Span, float]]:
    if not spec.anchors or not ctx.index.spans:
        return []
    best = ctx.best(spec.anchors)
    hits = np.nonzero(best >= spec.anchor_threshold)[0]
    # Overlapping spans are one label read several ways ("개업연월일" and "개업연월일 2010년"):
    # keep the best-scoring of them, so a label never swallows its own value; on a tie the longer
    # one, so that "Total Due" is a label of its own and not "Total" followed by the value "Due".
    hits = sorted(hits.tolist(), key=lambda k: (-best[k], -len(ctx.index.spans[k].words), ctx.index.spans[k].rank))
    used: set[int] = set()
    out = []
    for k in hits:
        span = ctx.index.spans[k]
        if used.isdisjoint(span.words):
            used.update(span.words)
            out.append((span, float(best[k])))
    return out


_SPLIT_THOUSANDS = re.compile(r"(?<=\d,) (?=\d{3}(?!\d))")


def _value(ctx: _PageContext, spec: FieldSpec, words: list[int]) -> tuple[list[int], str, bool]:
    """The value's words and text, cut to the field's pattern when it has one; and whether it matched.

    The words are joined with spaces; when that text misses the pattern, they are tried once more
    joined with nothing, because detectors split digit strings into pieces (`585-74- 67065`) that
    a pattern without spaces (a registration number) reads as one value. An amount without a
    pattern loses the space after a thousands comma for the same reason.
    """
    texts = [ctx.page.words[w].text or "" for w in words]
    text = " ".join(texts)
    if spec.pattern is None:
        if spec.type == "amount":  # `12, 562, 804` is one amount a detector cut at its commas
            text = _SPLIT_THOUSANDS.sub("", text)
        return words, text, True
    for sep in (" ", ""):
        m = pattern_search(spec.pattern, sep.join(texts))
        if m is None:
            continue
        kept, pos = [], 0
        for w, t in zip(words, texts):
            if pos < m.end() and pos + len(t) > m.start():
                kept.append(w)
            pos += len(t) + len(sep)
        return kept, m.group(0), True
    return words, text, False


def _candidate(ctx: _PageContext, spec: FieldSpec, words: list[int], anchor_score: float, anchor: str | None,
               cfg: MatcherConfig, label_start: bool, rank: int) -> _Candidate | None:
    if not words:
        return None
    words, text, pattern_ok = _value(ctx, spec, words)
    norm = normalize(spec.type, text)
    confs = [ctx.page.words[w].text_confidence for w in words]
    conf = float(np.mean([1.0 if c is None else c for c in confs])) * anchor_score / 100.0
    if not pattern_ok:
        conf *= cfg.pattern_miss
    if norm.valid is False:
        conf *= cfg.invalid
    if spec.entity and ctx.page.entities:
        ids = {ctx.page.words[w].id for w in words}
        if not any(e.label == spec.entity and ids & set(e.word_ids) for e in ctx.page.entities):
            conf *= cfg.entity_miss
    rank_key = (conf * (1.0 if label_start else cfg.mid_label_penalty), -rank)
    return _Candidate(words, text, norm.value, norm.valid, pattern_ok, conf, rank_key, anchor)


def _field_value(ctx: _PageContext, name: str, spec: FieldSpec, cands: dict[str, list[tuple[Span, float]]],
                 cfg: MatcherConfig) -> FieldValue:
    taken = {w for spans in cands.values() for sp, _ in spans for w in sp.words}
    best: _Candidate | None = None
    if spec.position == "region":
        own = {w for sp, _ in cands.get(name, []) for w in sp.words}
        words = ctx.locator.region(spec.region, exclude=own)  # type: ignore[arg-type]
        best = _candidate(ctx, spec, words, 100.0, None, cfg, True, 0)
    else:
        rule = getattr(ctx.locator, spec.position)
        for span, score in cands.get(name, []):
            blocked = taken - set(span.words)
            anchor = " ".join(ctx.page.words[w].text or "" for w in span.words)
            cand = _candidate(ctx, spec, rule(span.words, blocked), score, anchor, cfg, span.line_start, span.rank)
            if cand is not None and (best is None or cand.rank_key > best.rank_key):
                best = cand
    if best is None:
        return FieldValue(name=name, value=None, needs_review=spec.required)
    frame = ctx.layout.frame
    b = ctx.layout.geometry.boxes[best.words]
    quad = frame.quad_of((b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()))
    return FieldValue(
        name=name, value=best.value, normalized=best.normalized, confidence=round(min(1.0, best.confidence), 6),
        word_ids=[ctx.page.words[w].id for w in best.words], quad=quad, valid=best.valid, anchor=best.anchor,
        needs_review=best.confidence < cfg.review_threshold or best.valid is False or not best.pattern_ok,
    )


def score_template(ctx: _PageContext, template: Template, cfg: MatcherConfig) -> TemplateScore:
    """Keywords, fields and the score of ``template`` on the page of ``ctx``."""
    rules = template.match
    found: dict[str, float] = {}
    total = sum(k.weight for k in rules.keywords)
    hard = soft = 0.0
    missing_required = []
    for kw in rules.keywords:
        row = ctx.best(kw.phrases, kw.partial)
        best = float(row.max()) if len(row) else 0.0
        found[kw.phrases[0]] = best
        if best >= kw.threshold:
            hard += kw.weight
            soft += kw.weight * best / 100.0
        elif kw.required:
            missing_required.append(kw.phrases[0])
    coverage = hard / total
    cands = {name: _anchor_candidates(ctx, spec) for name, spec in template.fields.items()}
    fields = {name: _field_value(ctx, name, spec, cands, cfg) for name, spec in template.fields.items()}
    required = [n for n, s in template.fields.items() if s.required]
    req_ok = [n for n in required if fields[n].value is not None and fields[n].valid is not False]
    present = [f for f in fields.values() if f.value is not None]
    checked = [f for f in present if f.valid is not False and _pattern_ok(template.fields[f.name], f.value)]
    score = (KEYWORD_WEIGHT * soft / total
             + FIELDS_WEIGHT * (len(req_ok) / len(required) if required else 1.0)
             + VALID_WEIGHT * (len(checked) / len(present) if present else 0.0))
    reason = None
    if missing_required:
        reason = f"required keyword(s) not found: {', '.join(missing_required)}"
    elif coverage < rules.min_score:
        reason = f"keyword coverage {coverage:.2f} is below min_score {rules.min_score}"
    return TemplateScore(template, round(min(1.0, score), 6), coverage, reason is None, found, fields, reason)


def _pattern_ok(spec: FieldSpec, value: str | None) -> bool:
    return value is not None and (spec.pattern is None or pattern_search(spec.pattern, value) is not None)


def score_templates(page: Page, templates: Sequence[Template], config: MatcherConfig | None = None) -> list[TemplateScore]:
    """Every template scored on ``page``, best first (passing templates before failing ones)."""
    cfg = config or MatcherConfig()
    if not templates or not page.words:
        return []
    ctx = _context(page, cfg)
    scored = [score_template(ctx, t, cfg) for t in templates]
    return sorted(scored, key=lambda s: (s.passed, s.score), reverse=True)


def match_templates(page: Page, templates: Sequence[Template], config: MatcherConfig | None = None) -> TemplateMatch | None:
    """The best passing template and its fields, or None when no template passes its match rules."""
    scored = score_templates(page, templates, config)
    if not scored or not scored[0].passed:
        return None
    best = scored[0]
    return TemplateMatch(template_id=best.template.id, template_version=best.template.version, score=best.score,
                         fields=best.fields, scores={s.template.id: s.score for s in scored})


class FuzzyTemplateMatcher(TemplateMatcher):
    """kocr's template matcher: fuzzy keywords and anchors (rapidfuzz), geometric value rules.

    Options are :class:`MatcherConfig` fields (engine ``options: {fuzzy: {...}}``).
    """

    name: ClassVar[str] = "fuzzy"
    priority: ClassVar[int] = 0
    description: ClassVar[str] = "fuzzy keyword/anchor template matching with typed, validated fields"

    def __init__(self, device: str = "cpu", **options: Any) -> None:
        super().__init__(device, **options)
        try:
            self.config = MatcherConfig(**options)
        except ValidationError as exc:
            raise KocrConfigError(f"options of template matcher {self.name!r}:\n" + located_errors(exc, "options", None)) from None

    def match(self, page: Page, templates: list[Template]) -> TemplateMatch | None:
        return match_templates(page, templates, self.config)


__all__ = ["FuzzyTemplateMatcher", "MatcherConfig", "TemplateScore", "match_templates", "score_templates",
           "score_template"]
