"""The YAML form-template format, as pydantic models.

A template says how to recognise a kind of form (keywords that must or may appear, fuzzily) and
where each named field's value lies relative to a label on the page. Matching itself is a stage
(``TemplateMatcher``); this module only defines and validates the format, so that template
authors get errors naming the file, the line and the field before anything runs.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Iterable, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ..vocabulary.entities import LABELS
from ..vocabulary.languages import LANGUAGES, describe_languages, suggest_language
from .patterns import compile_pattern

#: Key of the validation context that holds the entity labels a template may name, when they are
#: more than kocr's own (an installed entity recogniser declares more): ``load_template(..., entity_labels=)``.
ENTITY_LABELS_CONTEXT = "entity_labels"


def check_entity_label(label: str, known: Iterable[str] = LABELS) -> str:
    """``label`` if an entity recogniser gives it; else a ValueError naming the closest label.

    Why: a misspelt label (``PERSN``) never matches what NER found, so it silently lowers the
    field's confidence on every page instead of failing once.
    """
    known = sorted(set(known))
    if label in known:
        return label
    close = difflib.get_close_matches(label.upper(), known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ValueError(f"{label!r} is not an entity label ({hint}known: {', '.join(known)}; an installed entity "
                     "recogniser may declare more)")


def _check_language(code: str) -> str:
    if code in LANGUAGES:
        return code
    guess = suggest_language(code)
    hint = f"did you mean {guess!r}? " if guess else ""
    raise ValueError(f"{code!r} is not a language code kocr knows ({hint}use ISO 639-1: {describe_languages()})")


LanguageCode = Annotated[str, AfterValidator(_check_language)]

FieldType = Literal["text", "date", "amount", "biz_reg_no", "phone", "rrn", "number"]
Position = Literal["right", "below", "same_cluster", "region"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KeywordRule(_Strict):
    """A phrase that identifies the form; matched fuzzily (rapidfuzz score 0–100).

    ``text`` may list alternatives (``[합계, 결제금액]``): the rule is found when any of them is,
    so that synonyms a form may print instead of each other do not dilute the coverage.
    ``partial`` lets the phrase be part of a longer word, as an issuer line prints
    ``역삼세무서장``; keep it off for short phrases, which would then match inside other words.
    """

    text: str | list[str]
    required: bool = False
    threshold: float = Field(80.0, ge=0, le=100)
    weight: float = Field(1.0, gt=0)
    partial: bool = False

    @field_validator("text")
    @classmethod
    def _not_empty(cls, v: str | list[str]) -> str | list[str]:
        phrases = [v] if isinstance(v, str) else v
        if not phrases or any(not p.strip() for p in phrases):
            raise ValueError("a keyword needs a non-empty phrase (or a non-empty list of them)")
        return v

    @property
    def phrases(self) -> list[str]:
        """The alternatives, the first being the one a form most often prints."""
        return [self.text] if isinstance(self.text, str) else list(self.text)


class MatchRules(_Strict):
    keywords: list[KeywordRule] = Field(min_length=1)
    min_score: float = Field(0.6, ge=0, le=1, description="Share of keyword weight that must be found.")
    layout: dict[str, str] = Field(default_factory=dict, description="Free-form layout hints (e.g. orientation).")


class FieldSpec(_Strict):
    """Where one field's value is, what it looks like, and how to normalise it."""

    anchors: list[str] = Field(default_factory=list, description="Label phrases next to the value (fuzzy).")
    anchor_threshold: float = Field(80.0, ge=0, le=100)
    position: Position = "right"
    region: tuple[float, float, float, float] | None = Field(
        None, description="Page-relative (x0, y0, x1, y1) in 0..1, for position: region."
    )
    pattern: str | None = Field(None, description="Regular expression (RE2 syntax) the value must match.")
    entity: str | None = Field(None, description="Expected NER label of the value.")
    type: FieldType = "text"
    required: bool = False

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            compile_pattern(v)  # ValueError naming what RE2 cannot run
        return v

    @field_validator("entity")
    @classmethod
    def _known_entity(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None:
            check_entity_label(v, (info.context or {}).get(ENTITY_LABELS_CONTEXT) or LABELS)
        return v

    @model_validator(mode="after")
    def _position_needs(self) -> "FieldSpec":
        if self.position == "region":
            if self.region is None:
                raise ValueError("position 'region' needs `region: [x0, y0, x1, y1]` in page-relative units")
            x0, y0, x1, y1 = self.region
            if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
                raise ValueError("region must satisfy 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1")
        elif not self.anchors:
            raise ValueError(f"position {self.position!r} needs at least one anchor phrase")
        return self


class Template(_Strict):
    """One form template."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    name: str
    version: str = "1"
    languages: list[LanguageCode] = Field(
        default_factory=lambda: ["ko"], description="ISO 639-1 codes (kocr_sdk.vocabulary.languages); the first is "
        "the language the form is printed in.")
    match: MatchRules
    fields: dict[str, FieldSpec] = Field(min_length=1)
    source: str | None = Field(None, description="File the template was loaded from (set by the loader).")
