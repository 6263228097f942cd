"""Template matching: which registered form a page is, and the values of its named fields.

Every template is scored on the page; the best one whose keywords pass its ``match`` rules wins,
or none does. A template *passes* when all its required keywords are found and the found
keywords and layout cues carry at least ``min_score`` of their weight, and its score reaches
its ``min_confidence``. Among those, the winner has the highest score::

    score = 0.6 × coverage (weight of keywords found × fuzzy score, and of cues that hold / total weight)
          + 0.25 × share of required fields found with a value that validates
          + 0.15 × share of found fields whose pattern and validation pass

so that two forms sharing keywords are told apart by whether their fields are really there.
When none passes, the stage says why in its record (each template's score and what it missed).

Each field is found by its rule and, when that yields no usable value, by its ``fallback``
rules in order (:mod:`.rules`): next to every fuzzy match of its anchors (:mod:`.fuzzy`) by its
``position`` (:mod:`.locate`), or without a label — the first lines, the line under the title,
the lines after another field, a region, every value of its type on the page, or an entity
NER found. Each candidate's value is cut to the field's ``pattern`` (or, for a typed field, to
the words of the value of its type: the date and its time, the last amount of a line),
normalised by its ``type`` (:mod:`.normalize`), and scored::

    confidence = OCR confidence of the value's words
               × (anchor score / 100 | position_prior without a label | NER's confidence)
               × (choice_prior when the rule chose among several different values)
               × (fallback_prior when a fallback rule found it)
               × (0.5 if the pattern does not match) × (0.5 if validation fails)
               × (0.85 if NER ran and labelled the value otherwise than ``entity``)

Among a rule's candidates, usable ones (pattern and validation pass) come first; then
``anchor_order: listed`` keeps the earliest anchor tier, and ``choose`` picks (the most
confident by default; a label that starts its line is preferred over one found in the middle of
a longer label, ``Date`` in ``Due date``). Fields under their review threshold, failing
validation, repaired, or required and missing are flagged ``needs_review``.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..document import FieldValue, KeyValue, Page, TemplateMatch
from ..errors import KocrConfigError
from ..interfaces import TemplateMatcher, TemplateReading
from ..layout import ClusterConfig, Layout, layout_from_blocks, layout_page
from ..yamlio import located_errors
from .fuzzy import PageIndex, Span
from .keyvalues import KeyValueConfig, extract_key_values
from .locate import Locator
from .normalize import find_spans, normalize
from .patterns import compile_pattern
from .patterns import search as pattern_search
from .rules import CueRule, FieldRule
from .schema import FieldSpec, Template

KEYWORD_WEIGHT, FIELDS_WEIGHT, VALID_WEIGHT = 0.6, 0.25, 0.15
_TYPED = ("date", "amount", "biz_reg_no", "phone", "rrn", "card")


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
    position_prior: float = Field(0.9, ge=0, le=1, description="Confidence factor of a value found by position, not label.")
    choice_prior: float = Field(0.85, ge=0, le=1,
                                description="Confidence factor when a rule chose among several different values.")
    fallback_prior: float = Field(0.9, ge=0, le=1, description="Confidence factor of a value a fallback rule found.")
    key_values: KeyValueConfig = Field(default_factory=KeyValueConfig,
                                       description="Key–value pairs without a template (Page.key_values).")
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
    tier: int = 0
    note: str | None = None

    @property
    def usable(self) -> bool:
        return self.valid is not False and self.pattern_ok

    @property
    def number(self) -> float | None:
        n = self.normalized
        if isinstance(n, dict):
            n = n.get("value")
        return float(n) if isinstance(n, (int, float)) and not isinstance(n, bool) else None


@dataclass
class _PageContext:
    """Everything about one page that every template's matching shares."""

    page: Page
    layout: Layout
    index: PageIndex
    locator: Locator
    scores: dict[tuple[str, bool], np.ndarray] = field(default_factory=dict)
    _cues: dict[str, bool] = field(default_factory=dict)
    _by_word: dict[int, list[int]] | None = None
    _best: dict[tuple[tuple[str, ...], bool], np.ndarray] = field(default_factory=dict)
    _hits: dict[tuple[Any, ...], list[tuple[Span, float, int]]] = field(default_factory=dict)
    _text_box: tuple[float, float, float] | None = None

    def phrase_scores(self, phrases: Sequence[str], partial: bool = False) -> None:
        """Score ``phrases`` against every span once per page (templates share phrases)."""
        todo = sorted({p for p in phrases if (p, partial) not in self.scores})
        if todo:
            for p, row in zip(todo, self.index.scores(todo, partial)):
                self.scores[(p, partial)] = row

    def best(self, phrases: Sequence[str], partial: bool = False) -> np.ndarray:
        """Per span, the best score of any of ``phrases``."""
        key = (tuple(phrases), partial)
        if key not in self._best:
            self.phrase_scores(phrases, partial)
            self._best[key] = np.max(np.stack([self.scores[(p, partial)] for p in phrases]), axis=0)
        return self._best[key]

    def spans_over(self, k: int) -> list[int]:
        """Spans sharing a word with span ``k`` (itself included)."""
        if self._by_word is None:
            self._by_word = {}
            for j, sp in enumerate(self.index.spans):
                for w in sp.words:
                    self._by_word.setdefault(w, []).append(j)
        return sorted({j for w in self.index.spans[k].words for j in self._by_word.get(w, [])})

    def order(self, words: Sequence[int]) -> tuple[int, float]:
        """Where ``words`` start on the page: (row, x), top to bottom, left to right."""
        loc = self.locator
        w = min(words, key=lambda k: (loc.row_of.get(k, 1 << 30), loc.boxes[k, 0]))
        return loc.row_of.get(w, 1 << 30), float(loc.boxes[w, 0])

    def cue(self, cue: CueRule) -> bool:
        """Whether a layout cue holds on the page (cached: templates share cues)."""
        key = cue.name
        if key not in self._cues:
            self._cues[key] = _cue_holds(self, cue)
        return self._cues[key]


def _cells(text: str) -> int:
    """Character cells ``text`` takes on a fixed-pitch line: two for a wide (Hangul, Han) character."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text if not c.isspace())


def _text_box(ctx: _PageContext) -> tuple[float, float, float]:
    """Width and height of the page's text (1st–99th percentile of word edges) and the median width
    of one character cell (a word's width over its cells), which a photo's scale does not change."""
    if ctx._text_box is None:
        ctx._text_box = _measure_text(ctx)
    return ctx._text_box


def _measure_text(ctx: _PageContext) -> tuple[float, float, float]:
    b = ctx.layout.geometry.boxes
    x0, x1 = np.percentile(b[:, 0], 1), np.percentile(b[:, 2], 99)
    y0, y1 = np.percentile(b[:, 1], 1), np.percentile(b[:, 3], 99)
    pitch = [(b[k, 2] - b[k, 0]) / n for k, w in enumerate(ctx.page.words) if (n := _cells(w.text or "")) >= 2]
    cell = float(np.median(pitch)) if pitch else float(np.median(ctx.layout.geometry.heights)) / 2
    return float(x1 - x0), float(y1 - y0), cell


def _cue_holds(ctx: _PageContext, cue: CueRule) -> bool:
    if not ctx.page.words:
        return False
    if cue.pattern is not None:
        program = compile_pattern(cue.pattern)
        return sum(program.search(t) is not None for t in ctx.locator.row_texts) >= cue.min_count
    width, height, cell = _text_box(ctx)
    if cue.columns is not None:
        value = width / max(cell, 1e-9)
        lo, hi = cue.columns
    else:
        value = height / max(width, 1e-9)
        lo, hi = cue.aspect  # type: ignore[misc]
    return lo <= value <= hi


def _context(page: Page, cfg: MatcherConfig) -> _PageContext:
    layout = layout_from_blocks(page, cfg.layout) if page.blocks else layout_page(page, cfg.layout)
    index = PageIndex.build(page, layout, cfg.max_anchor_words, cfg.anchor_gap)
    return _PageContext(page, layout, index, Locator(index, cfg.right_reach, cfg.below_reach))


def _anchor_hits(ctx: _PageContext, rule: FieldRule, phrases: list[list[str]] | None = None
                 ) -> list[tuple[Span, float, int]]:
    """Spans found as the rule's anchors: (span, score, tier), overlaps resolved (cached per page)."""
    tiers = phrases if phrases is not None else rule.anchor_tiers
    if not tiers or not ctx.index.spans:
        return []
    key = (tuple(tuple(t) for t in tiers), rule.anchor_threshold, tuple(rule.exclude))
    if key not in ctx._hits:
        ctx._hits[key] = _find_anchors(ctx, rule, tiers)
    return ctx._hits[key]


def _find_anchors(ctx: _PageContext, rule: FieldRule, tiers: list[list[str]]) -> list[tuple[Span, float, int]]:
    rows = np.stack([ctx.best(t) for t in tiers])
    best = rows.max(axis=0)
    tier_of = np.argmax(rows >= best[None, :] - 1e-6, axis=0)
    hits = np.nonzero(best >= rule.anchor_threshold)[0]
    # Overlapping spans are one label read several ways ("개업연월일" and "개업연월일 2010년"):
    # keep the best-scoring of them, so a label never swallows its own value; on a tie the longer
    # one, so that "Total Due" is a label of its own and not "Total" followed by the value "Due".
    # with tiers in order of preference, a label of an earlier tier wins over the words it shares with
    # a later one (``TOTAL (INCL GST)`` read fuzzily over the exact ``TOTAL`` inside it)
    listed = rule.anchor_order == "listed"
    hits = sorted(hits.tolist(), key=lambda k: (tier_of[k] if listed else 0, -best[k],
                                                -len(ctx.index.spans[k].words), ctx.index.spans[k].rank))
    excluded = np.zeros(len(ctx.index.spans), bool)
    if rule.exclude:
        # an anchor read at least as well as an excluded label over the same words is that label
        other = ctx.best(rule.exclude)
        for k in np.nonzero(other >= rule.anchor_threshold)[0].tolist():
            for j in ctx.spans_over(k):
                if other[k] >= best[j]:
                    excluded[j] = True
    used: set[int] = set()
    out = []
    for k in hits:
        span = ctx.index.spans[k]
        if used.isdisjoint(span.words):
            used.update(span.words)
            if not excluded[k]:
                out.append((span, float(best[k]), int(tier_of[k])))
    return out


_THOUSANDS_PIECE = re.compile(r"^\d{3}(?!\d)")
_CENTS_PIECE = re.compile(r"^\d{2}(?!\d)")
_COMMA_PIECE = re.compile(r"^,\d{3}(?!\d)")


def _joined(texts: list[str], glue_amounts: bool) -> tuple[str, list[int]]:
    """``texts`` joined by spaces, with the offset where each starts; an amount a detector cut at
    a thousands comma (``12,`` ``562,`` ``804원``; ``56`` ``,680원``) or after its decimal point
    (``RM289.`` ``59``) is joined without the space."""
    out, starts = "", []
    for i, t in enumerate(texts):
        if i:
            glue = glue_amounts and ((out[-2:-1].isdigit() and (
                (out.endswith(",") and _THOUSANDS_PIECE.match(t)) or (out.endswith(".") and _CENTS_PIECE.match(t))))
                or (out[-1:].isdigit() and _COMMA_PIECE.match(t) is not None))  # 56 ,680원
            out += "" if glue else " "
        starts.append(len(out))
        out += t
    return out, starts


_SPACE_BEFORE_SEPARATOR = re.compile(r"(?<=\d)\s+(?=[.\-/])")
_SPACE_AFTER_SEPARATOR = re.compile(r"(?<=\d[\-/])\s+(?=\d)")
_SPACE_AFTER_DOT = re.compile(r"(?<=\d\.)(\s*)(?=\d)")
_SPACE_IN_PARENTHESES = re.compile(r"\(\s*([^()\s]{1,3})\s*\)")


def date_as_printed(text: str) -> str:
    """A date found in the page's text, as it was printed: the matched date alone (not the word's
    other characters: ``(2033.6.23``, ``14:41.``) without the spaces a detector puts between its
    pieces (``2021 .09. 26``, ``18( 금 )``). A space after a dot stays only where every dot of the
    date has one (``2022. 11. 18.``, a Korean way of printing it)."""
    text = _SPACE_BEFORE_SEPARATOR.sub("", text.strip())
    text = _SPACE_AFTER_SEPARATOR.sub("", text)
    gaps = [m.group(1) for m in _SPACE_AFTER_DOT.finditer(text)]
    if gaps and not all(gaps):
        text = _SPACE_AFTER_DOT.sub("", text)
    return _SPACE_IN_PARENTHESES.sub(r"(\1)", text)


def _value(ctx: _PageContext, spec: FieldSpec, words: list[int]) -> tuple[list[int], str, bool]:
    """The value's words and text, cut to the field's pattern when it has one, else to the value of
    its type; and whether the pattern matched.

    The words are joined with spaces; when that text misses the pattern, they are tried once more
    joined with nothing, because detectors split digit strings into pieces (`585-74- 67065`) that
    a pattern without spaces (a registration number) reads as one value. An amount loses the
    space after a thousands comma for the same reason. A typed value keeps the words of the
    first value of its type (the last, for an amount: a receipt's amount column is its right end).
    """
    texts = [ctx.page.words[w].text or "" for w in words]
    if spec.pattern is None:
        text, starts = _joined(texts, spec.type == "amount")
        if spec.type not in _TYPED:
            return words, text, True
        spans = find_spans(spec.type, text, spec.day_first)
        if not spans:
            return words, text, False  # nothing of the field's type: flagged like a pattern miss
        a, b = spans[-1] if spec.type == "amount" else spans[0]
        kept = [i for i, s in enumerate(starts) if s < b and s + len(texts[i]) > a]
        if spec.type == "date":
            return [words[i] for i in kept], date_as_printed(text[a:b]), True
        sub, _ = _joined([texts[i] for i in kept], spec.type == "amount")
        return [words[i] for i in kept], sub, True
    for sep in (" ", ""):
        pieces = texts if sep else [t.replace(" ", "") for t in texts]  # a word read with a space inside
        m = pattern_search(spec.pattern, sep.join(pieces))
        if m is None:
            continue
        kept, pos = [], 0
        for w, t in zip(words, pieces):
            if pos < m.end() and pos + len(t) > m.start():
                kept.append(w)
            pos += len(t) + len(sep)
        return kept, m.group(0), True
    return words, " ".join(texts), False


def _suspects(ctx: _PageContext, words: list[int]) -> list[int] | None:
    """Positions (among the digits) of the least confident digit, when the recogniser gave
    per-character confidences: where a misread digit most likely is."""
    confs: list[float] = []
    for w in words:
        word = ctx.page.words[w]
        chars = [c for c in word.chars if c.text]
        if not chars or "".join(c.text or "" for c in chars) != (word.text or "").replace(" ", ""):
            return None
        confs.extend(c.confidence for c in chars if (c.text or "").isdigit())
    if not confs or min(confs) >= 0.9:
        return None
    low = min(confs)
    return [i for i, c in enumerate(confs) if c <= low + 1e-6]


def _candidate(ctx: _PageContext, spec: FieldSpec, words: list[int], prior: float, anchor: str | None,
               cfg: MatcherConfig, label_start: bool = True, tier: int = 0, text: str | None = None) -> _Candidate | None:
    if not words:
        return None
    words, cut, pattern_ok = _value(ctx, spec, words)
    text = cut if text is None else text
    norm = normalize(spec.type, text, day_first=spec.day_first,
                     suspects=_suspects(ctx, words) if spec.type == "biz_reg_no" else None)
    confs = [ctx.page.words[w].text_confidence for w in words]
    conf = float(np.mean([1.0 if c is None else c for c in confs])) * prior
    if not pattern_ok:
        conf *= cfg.pattern_miss
    if norm.valid is False:
        conf *= cfg.invalid
    if spec.entity and ctx.page.entities:
        ids = {ctx.page.words[w].id for w in words}
        if not any(e.label == spec.entity and ids & set(e.word_ids) for e in ctx.page.entities):
            conf *= cfg.entity_miss
    rank_key = (conf * (1.0 if label_start else cfg.mid_label_penalty), -float(ctx.index.rank[words[0]]))
    return _Candidate(words, text, norm.value, norm.valid, pattern_ok, conf, rank_key, anchor, tier, norm.note)


def _distinct(cands: list[_Candidate]) -> int:
    return len({json.dumps(c.normalized, sort_keys=True, ensure_ascii=False) if c.normalized is not None else c.value
                for c in cands})


def _nearest(ctx: _PageContext, rule: FieldRule, pool: list[_Candidate]) -> _Candidate | None:
    """The candidate closest after (right of or below) a ``near`` phrase, in text heights."""
    hits = _anchor_hits(ctx, rule, [rule.near] if rule.near else None)
    if not hits:
        return None
    boxes = ctx.layout.geometry.boxes

    def distance(c: _Candidate) -> float:
        v = boxes[c.words]
        vx0, vy = float(v[:, 0].min()), float((v[:, 1].min() + v[:, 3].max()) / 2)
        best = math.inf
        for span, _, _ in hits:
            a = boxes[list(span.words)]
            h = float(np.median(ctx.layout.geometry.heights[list(span.words)]))
            ax1, ay = float(a[:, 2].max()), float((a[:, 1].min() + a[:, 3].max()) / 2)
            dx, dy = (vx0 - ax1) / h, (vy - ay) / h
            # a row's partner first, however far right; then the lines under; never above or behind
            d = math.hypot(max(dx, 0.0) / 10, dy) + (3.0 if dy < -0.5 or dx < -0.5 and abs(dy) < 0.5 else 0.0)
            best = min(best, d)
        return best

    return min(pool, key=distance)


_FORMATTED = re.compile(r"\d[,.]\d|[₩￦$€£¥원]|RM|S\$")


def _choose(ctx: _PageContext, rule: FieldRule, cands: list[_Candidate], cfg: MatcherConfig) -> _Candidate | None:
    """The rule's pick among its candidates (see the module docstring)."""
    cands = [c for c in cands if c is not None]
    if not cands:
        return None
    pool = [c for c in cands if c.usable] or cands
    if rule.anchor_order == "listed":
        top = min(c.tier for c in pool)
        pool = [c for c in pool if c.tier == top]
    how = rule.choose
    if how == "only":
        best = max(pool, key=lambda c: c.rank_key) if _distinct(pool) == 1 else None
    elif how == "first":
        best = min(pool, key=lambda c: ctx.order(c.words))
    elif how == "last":
        best = max(pool, key=lambda c: ctx.order(c.words))
    elif how in ("largest", "smallest"):
        numeric = [c for c in pool if c.number is not None]
        if not numeric:
            return None
        # a bare integer (a count, a registration number) is less likely a price than 1,234 or 12.50
        formatted = [c for c in numeric if _FORMATTED.search(c.value)]
        numeric = formatted or numeric
        best = (max if how == "largest" else min)(numeric, key=lambda c: (c.number, c.rank_key))
    elif how == "nearest":
        best = _nearest(ctx, rule, pool)
    else:
        best = max(pool, key=lambda c: c.rank_key)
    if best is not None and how != "best" and rule.position in ("anywhere", "entity") and _distinct(pool) > 1:
        best.confidence *= cfg.choice_prior
    return best


def _acceptor(spec: FieldSpec) -> Any:
    """Whether a text holds a value of the field (its pattern, else its type); None for free text."""
    if spec.pattern is not None:
        return lambda text: pattern_search(spec.pattern, text) is not None or \
            pattern_search(spec.pattern, text.replace(" ", "")) is not None
    if spec.type in _TYPED:
        return lambda text: bool(find_spans(spec.type, _joined(text.split(" "), spec.type == "amount")[0], spec.day_first))
    return None


def _rule_candidates(ctx: _PageContext, template: Template, spec: FieldSpec, rule: FieldRule, taken: set[int],
                     found: dict[str, list[int]], cfg: MatcherConfig) -> list[_Candidate]:
    loc = ctx.locator
    pos = rule.position
    out: list[_Candidate | None] = []
    if pos in ("right", "below", "same_cluster", "under_title"):
        tiers = rule.anchor_tiers or [template.title] if pos == "under_title" else None
        how = "below" if pos == "under_title" else pos
        for span, score, tier in _anchor_hits(ctx, rule, tiers):
            blocked = taken - set(span.words)
            found = loc.right(span.words, blocked, _acceptor(spec)) if how == "right" else \
                getattr(loc, how)(span.words, blocked)
            words = loc.extend(found, rule, blocked, column=True)
            anchor = " ".join(ctx.page.words[w].text or "" for w in span.words)
            prior = score / 100.0 if pos != "under_title" else cfg.position_prior
            out.append(_candidate(ctx, spec, words, prior, anchor, cfg, span.line_start, tier))
    elif pos == "region":
        box = rule.region_box
        words = loc.region(box, exclude=taken, of_text=isinstance(rule.region, str))  # type: ignore[arg-type]
        out.append(_candidate(ctx, spec, loc.extend(words, rule, taken), cfg.position_prior, None, cfg))
    elif pos == "first_lines":
        typed = spec.pattern is not None or spec.type in _TYPED

        def accept(text: str) -> bool:
            if spec.pattern is not None:
                return pattern_search(spec.pattern, text) is not None
            return bool(find_spans(spec.type, text, spec.day_first))

        words = loc.first_lines(rule, taken, accept if typed else None)
        out.append(_candidate(ctx, spec, words, cfg.position_prior, None, cfg))
    elif pos == "after":
        words = loc.after(found.get(rule.after or "", []), rule, taken)
        out.append(_candidate(ctx, spec, words, cfg.position_prior, None, cfg))
    elif pos == "anywhere":
        allowed = None
        if rule.region is not None:
            allowed = set(loc.region(rule.region_box, of_text=isinstance(rule.region, str)))  # type: ignore[arg-type]
        for row in loc.rows:
            words = [w for w in row if w not in taken and (allowed is None or w in allowed)]
            if not words:
                continue
            texts = [ctx.page.words[w].text or "" for w in words]
            text, starts = _joined(texts, spec.type == "amount")
            if spec.type in _TYPED or spec.pattern is None:  # the type's own finder knows its value's bounds (no digits glued on)
                spans = find_spans(spec.type, text, spec.day_first)
            else:
                spans = [(m.start(), m.end()) for m in compile_pattern(spec.pattern).finditer(text)]
            for a, b in spans:
                kept = [words[i] for i, s in enumerate(starts) if s < b and s + len(texts[i]) > a]
                out.append(_candidate(ctx, spec, kept, 1.0, None, cfg))
    elif pos == "entity":
        index = {w.id: k for k, w in enumerate(ctx.page.words)}
        for e in ctx.page.entities:
            if e.label != spec.entity:
                continue
            words = [index[i] for i in e.word_ids if i in index]
            c = _candidate(ctx, spec, words, e.confidence, None, cfg)
            if c is not None and spec.pattern is None and spec.type not in _TYPED:
                c.value = e.text
            out.append(c)
    return [c for c in out if c is not None]


def _table_value(ctx: _PageContext, name: str, spec: FieldSpec, taken: set[int], cfg: MatcherConfig) -> FieldValue:
    loc = ctx.locator
    best: tuple[float, list[Any], Span, float] | None = None
    for span, score, _tier in _anchor_hits(ctx, spec):
        rows = loc.table(span.words, spec.columns, spec, taken - set(span.words))
        if rows and (best is None or len(rows) * score > len(best[1]) * best[3]):
            best = (score, rows, span, score)
    if best is None:
        return FieldValue(name=name, value=None, normalized=[], needs_review=spec.required)
    score, rows, span, _ = best
    words = sorted({w for r in rows for w in r.words}, key=lambda w: ctx.index.rank[w])
    confs = [ctx.page.words[w].text_confidence for w in words]
    conf = float(np.mean([1.0 if c is None else c for c in confs])) * score / 100.0
    normalized = [{col: value for col, (value, _) in r.cells.items()} for r in rows]
    text = "\n".join(" ".join(ctx.page.words[w].text or "" for w in sorted(r.words, key=lambda k: loc.boxes[k, 0]))
                     for r in rows)
    return FieldValue(
        name=name, value=text, normalized=normalized, confidence=round(min(1.0, conf), 6),
        word_ids=[ctx.page.words[w].id for w in words], quad=_quad(ctx, words), valid=None,
        anchor=" ".join(ctx.page.words[w].text or "" for w in span.words),
        needs_review=conf < (spec.review_threshold if spec.review_threshold is not None else cfg.review_threshold),
    )


def _quad(ctx: _PageContext, words: list[int]) -> Any:
    b = ctx.layout.geometry.boxes[words]
    return ctx.layout.frame.quad_of((b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()))


def _field_value(ctx: _PageContext, template: Template, name: str, spec: FieldSpec, taken: set[int],
                 found: dict[str, list[int]], cfg: MatcherConfig) -> FieldValue:
    if spec.position == "table":
        return _table_value(ctx, name, spec, taken, cfg)
    best: _Candidate | None = None
    for k, rule in enumerate((spec, *spec.fallback)):
        pick = _choose(ctx, rule, _rule_candidates(ctx, template, spec, rule, taken, found, cfg), cfg)
        if pick is not None and k:
            pick.confidence *= cfg.fallback_prior
        if pick is not None and (best is None or (pick.usable and not best.usable)):
            best = pick
        if best is not None and best.usable:
            break
    if best is None:
        return FieldValue(name=name, value=None, needs_review=spec.required)
    threshold = spec.review_threshold if spec.review_threshold is not None else cfg.review_threshold
    return FieldValue(
        name=name, value=best.value, normalized=best.normalized, confidence=round(min(1.0, best.confidence), 6),
        word_ids=[ctx.page.words[w].id for w in best.words], quad=_quad(ctx, best.words), valid=best.valid,
        anchor=best.anchor, note=best.note,
        needs_review=best.confidence < threshold or best.valid is False or not best.pattern_ok or best.note is not None,
    )


def score_template(ctx: _PageContext, template: Template, cfg: MatcherConfig) -> TemplateScore:
    """Keywords, cues, fields and the score of ``template`` on the page of ``ctx``."""
    rules = template.match
    found: dict[str, float] = {}
    total = sum(k.weight for k in rules.keywords) + sum(c.weight for c in rules.cues)
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
    for cue in rules.cues:
        holds = ctx.cue(cue)
        found[cue.name] = 100.0 if holds else 0.0
        if holds:
            hard += cue.weight
            soft += cue.weight
        elif cue.required:
            missing_required.append(cue.name)
    coverage = hard / total
    taken = {w for spec in template.fields.values() for rule in (spec, *spec.fallback)
             if rule.position in ("right", "below", "same_cluster", "table")
             for span, _, _ in _anchor_hits(ctx, rule) for w in span.words}
    fields: dict[str, FieldValue] = {}
    value_words: dict[str, list[int]] = {}
    index = {w.id: k for k, w in enumerate(ctx.page.words)}
    for name in template.field_order():
        fields[name] = _field_value(ctx, template, name, template.fields[name], taken, value_words, cfg)
        value_words[name] = [index[i] for i in fields[name].word_ids]
    fields = {name: fields[name] for name in template.fields}
    required = [n for n, s in template.fields.items() if s.required]
    req_ok = [n for n in required if fields[n].value is not None and fields[n].valid is not False]
    present = [f for f in fields.values() if f.value is not None]
    checked = [f for f in present if f.valid is not False and _pattern_ok(template.fields[f.name], f.value)]
    score = (KEYWORD_WEIGHT * soft / total
             + FIELDS_WEIGHT * (len(req_ok) / len(required) if required else 1.0)
             + VALID_WEIGHT * (len(checked) / len(present) if present else 0.0))
    score = round(min(1.0, score), 6)
    reason = None
    if missing_required:
        reason = f"required keyword(s) or cue(s) not found: {', '.join(missing_required)}"
    elif coverage < rules.min_score:
        missed = [k for k, v in found.items() if v < 100.0 and not k.startswith("cue:")][:4]
        reason = (f"keyword coverage {coverage:.2f} is below min_score {rules.min_score}"
                  + (f" (not found: {', '.join(missed)})" if missed else ""))
    elif score < rules.min_confidence:
        reason = f"score {score:.2f} is below min_confidence {rules.min_confidence}"
    return TemplateScore(template, score, coverage, reason is None, found, fields, reason)


def _pattern_ok(spec: FieldSpec, value: str | None) -> bool:
    return value is not None and (spec.pattern is None or pattern_search(spec.pattern, value) is not None)


def _score_all(ctx: _PageContext, templates: Sequence[Template], cfg: MatcherConfig) -> list[TemplateScore]:
    scored = [score_template(ctx, t, cfg) for t in templates]
    return sorted(scored, key=lambda s: (s.passed, s.score), reverse=True)


def score_templates(page: Page, templates: Sequence[Template], config: MatcherConfig | None = None) -> list[TemplateScore]:
    """Every template scored on ``page``, best first (passing templates before failing ones)."""
    cfg = config or MatcherConfig()
    if not templates or not page.words:
        return []
    return _score_all(_context(page, cfg), templates, cfg)


def _match_of(scored: list[TemplateScore]) -> TemplateMatch | None:
    if not scored or not scored[0].passed:
        return None
    best = scored[0]
    return TemplateMatch(template_id=best.template.id, template_version=best.template.version, score=best.score,
                         fields=best.fields, scores={s.template.id: s.score for s in scored})


def match_templates(page: Page, templates: Sequence[Template], config: MatcherConfig | None = None) -> TemplateMatch | None:
    """The best passing template and its fields, or None when no template passes its match rules."""
    return _match_of(score_templates(page, templates, config))


def why_no_template(scored: list[TemplateScore], templates: Sequence[Template], page: Page) -> str:
    """Why no template matched, for the stage's record: each template's score and what it missed."""
    if not templates:
        return "no template fits: no templates are registered"
    if not page.words:
        return "no template fits: the page has no words"
    parts = [f"{s.template.id} {s.score:.2f}: {s.reason}" for s in scored[:4]]
    more = f"; {len(scored) - 4} more" if len(scored) > 4 else ""
    return "no template fits: " + "; ".join(parts) + more


def read_page(page: Page, templates: Sequence[Template], config: MatcherConfig | None = None) -> TemplateReading:
    """The template match, the key–value pairs and a note for the stage's record, in one pass."""
    cfg = config or MatcherConfig()
    if not page.words:
        return TemplateReading(None, [], why_no_template([], templates, page) if templates else None)
    ctx = _context(page, cfg)
    scored = _score_all(ctx, templates, cfg) if templates else []
    match = _match_of(scored)
    pairs: list[KeyValue] = extract_key_values(page, ctx.index, ctx.locator, cfg.key_values) if cfg.key_values.enabled else []
    if match is None:
        message = why_no_template(scored, templates, page)
    else:
        review = [n for n, f in match.fields.items() if f.needs_review]
        message = (f"{match.template_id} (score {match.score:.2f})"
                   + (f"; needs review: {', '.join(review)}" if review else ""))
    return TemplateReading(match, pairs, message)


class FuzzyTemplateMatcher(TemplateMatcher):
    """kocr's template matcher: fuzzy keywords and anchors (rapidfuzz), geometric value rules,
    and key–value pairs for pages no template fits.

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

    def read(self, page: Page, templates: list[Template]) -> TemplateReading:
        return read_page(page, templates, self.config)


__all__ = ["FuzzyTemplateMatcher", "MatcherConfig", "TemplateScore", "match_templates", "score_templates",
           "score_template", "read_page", "why_no_template"]
