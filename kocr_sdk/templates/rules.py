"""Where a field's value is: the location rules of the template format, and layout cues.

A field is found by one rule (its own keys) and, when that finds nothing usable, by the rules
of its ``fallback`` list in order. Rules with a label (``right``, ``below``, ``same_cluster``)
need ``anchors``; the others find values without one, because real receipts print a store name
as their first lines, a date alone on a line, and a business number with or without its label:

- ``first_lines``: the first lines of the page's text (after lines that ``skip`` matches);
- ``under_title``: the line under the template's title keyword;
- ``after``: the lines following another field's value (an address under the company name);
- ``region``: the words inside a rectangle of the page, or ``top``/``bottom`` of its text;
- ``anywhere``: every value of the field's ``type`` (or ``pattern``) on the page, one chosen by
  ``choose``: ``first``, ``last``, ``largest``, ``smallest``, ``nearest`` to ``near``, ``only``;
- ``entity``: what the entity recogniser labelled as the field's ``entity`` on the page;
- ``table``: rows under a header (``anchors``) split into ``columns`` (receipt items).

Anchors may be tiers of alternatives in order of preference (``anchor_order: listed``):
``[결제금액, 받을금액, [합계, 총액]]`` takes the amount paid over the amount due over the total.
``exclude`` names labels an anchor must not be taken for (``받은금액``, the cash handed over, is
one jamo from ``받을금액``, the amount due). A value may run over several lines (``lines``), up
to a line that matches ``until`` or before one that matches ``stop_before``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .patterns import compile_pattern

__all__ = ["Position", "Choose", "FieldRule", "CueRule", "Column", "ANCHORED", "NAMED_REGIONS"]

Position = Literal["right", "below", "same_cluster", "region", "first_lines", "under_title", "after", "anywhere",
                   "entity", "table"]
Choose = Literal["best", "first", "last", "largest", "smallest", "nearest", "only"]

#: Positions that read a value next to a label, and so need ``anchors``.
ANCHORED: frozenset[str] = frozenset({"right", "below", "same_cluster", "table"})

#: ``region: top`` and the like: fractions (x0, y0, x1, y1) of the box around the page's text, which
#: on a photographed receipt is the paper, not the photo.
NAMED_REGIONS: dict[str, tuple[float, float, float, float]] = {
    "top": (0.0, 0.0, 1.0, 0.34), "bottom": (0.0, 0.66, 1.0, 1.0),
    "top_half": (0.0, 0.0, 1.0, 0.5), "bottom_half": (0.0, 0.5, 1.0, 1.0),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _compile_all(values: list[str] | str | None) -> None:
    for v in [values] if isinstance(values, str) else values or []:
        compile_pattern(v)  # ValueError naming what RE2 cannot run


class FieldRule(_Strict):
    """One way of finding a field's value on the page (see the module docstring)."""

    anchors: list[str | list[str]] = Field(
        default_factory=list, description="Label phrases next to the value (fuzzy); a list inside is one tier of "
        "equally good alternatives (with anchor_order: listed).")
    anchor_threshold: float = Field(80.0, ge=0, le=100)
    anchor_order: Literal["score", "listed"] = Field(
        "score", description="score: the most confident value wins, whichever anchor found it; listed: a value found "
        "by an earlier anchor wins over any found by a later one.")
    exclude: list[str] = Field(
        default_factory=list, description="Labels that are not this field's though an anchor matches them fuzzily "
        "(`Subtotal` for `Total`, `받은금액` for `받을금액`): an anchor read better as one of these is passed over.")
    position: Position = "right"
    region: tuple[float, float, float, float] | Literal["top", "bottom", "top_half", "bottom_half"] | None = Field(
        None, description="(x0, y0, x1, y1) in 0..1 of the upright page, or top/bottom (of the text), for position: "
        "region; with position: anywhere, where to look.")
    choose: Choose = Field("best", description="Which of several values: best (most confident), first, last (in "
                           "reading order), largest, smallest (amounts, numbers), nearest (to `near`), only.")
    near: list[str] = Field(default_factory=list, description="Phrases `choose: nearest` measures distance from.")
    after: str | None = Field(None, description="position: after — the field whose value this one follows.")
    lines: int = Field(1, ge=1, le=20, description="Most lines the value may run over.")
    until: str | None = Field(None, description="RE2 pattern: the value ends with the line that matches it.")
    stop_before: str | None = Field(None, description="RE2 pattern: the value ends before a line that matches it.")
    skip: list[str] = Field(default_factory=list,
                            description="RE2 patterns of lines passed over before the value starts (first_lines, after).")
    within: int = Field(6, ge=1, le=100, description="first_lines: how many lines from the top the value may start in.")

    @field_validator("anchors")
    @classmethod
    def _anchor_phrases(cls, v: list[str | list[str]]) -> list[str | list[str]]:
        for tier in v:
            phrases = [tier] if isinstance(tier, str) else tier
            if not phrases or any(not p.strip() for p in phrases):
                raise ValueError("an anchor needs a non-empty phrase (or a non-empty list of them)")
        return v

    @field_validator("until", "stop_before", "skip")
    @classmethod
    def _rule_patterns_compile(cls, v: list[str] | str | None) -> list[str] | str | None:
        _compile_all(v)
        return v

    @model_validator(mode="after")
    def _position_needs(self) -> "FieldRule":
        if self.position == "region" and self.region is None:
            raise ValueError("position 'region' needs `region: [x0, y0, x1, y1]` in page-relative units (or top, bottom)")
        if isinstance(self.region, tuple):
            x0, y0, x1, y1 = self.region
            if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
                raise ValueError("region must satisfy 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1")
        if self.position in ANCHORED and not self.anchors:
            raise ValueError(f"position {self.position!r} needs at least one anchor phrase")
        if self.position == "after" and not self.after:
            raise ValueError("position 'after' needs `after: <field name>`: the field this value follows")
        if self.after and self.position != "after":
            raise ValueError("`after` applies to position 'after' only")
        if self.choose == "nearest" and not (self.near or self.anchors):
            raise ValueError("choose 'nearest' needs `near: [phrases]` to measure the distance from")
        return self

    @property
    def anchor_tiers(self) -> list[list[str]]:
        """The anchors as tiers of alternatives, most preferred first."""
        return [[t] if isinstance(t, str) else list(t) for t in self.anchors]

    @property
    def anchor_phrases(self) -> list[str]:
        """Every anchor phrase, in the order written."""
        return [p for tier in self.anchor_tiers for p in tier]

    @property
    def region_box(self) -> tuple[float, float, float, float] | None:
        """``region`` as fractions (x0, y0, x1, y1); named regions are of the text's box."""
        if isinstance(self.region, str):
            return NAMED_REGIONS[self.region]
        return self.region


class Column(_Strict):
    """One column of a ``table`` field's rows: its name in the output and how to read it."""

    name: str = Field(min_length=1)
    type: Literal["text", "amount", "number"] = "text"


class CueRule(_Strict):
    """Evidence of a kind of document other than its words: counted like a keyword when it holds.

    Give exactly one of ``pattern`` (at least ``min_count`` lines match it: a column of amounts),
    ``columns`` (the text is this many character cells wide, a Hangul syllable counting two: a till
    roll prints 32–48, an A4 page 70 or more, whatever the photo's size) or ``aspect`` (the text's
    height over its width).
    """

    pattern: str | None = None
    min_count: int = Field(1, ge=1)
    columns: tuple[float, float] | None = None
    aspect: tuple[float, float] | None = None
    weight: float = Field(1.0, gt=0)
    required: bool = Field(False, description="The template cannot pass without it (an invoice is no till roll).")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        _compile_all(v)
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> "CueRule":
        given = [k for k in ("pattern", "columns", "aspect") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a cue needs exactly one of pattern, columns, aspect")
        for key in ("columns", "aspect"):
            lo_hi = getattr(self, key)
            if lo_hi is not None and not 0 <= lo_hi[0] < lo_hi[1]:
                raise ValueError(f"{key} must be [min, max] with 0 <= min < max")
        return self

    @property
    def name(self) -> str:
        """How the cue is reported among the keywords found."""
        if self.pattern is not None:
            return f"cue: {self.min_count}+ lines matching {self.pattern}"
        key, (lo, hi) = ("columns", self.columns) if self.columns is not None else ("aspect", self.aspect)  # type: ignore[misc]
        return f"cue: {key} {lo:g}–{hi:g}"
