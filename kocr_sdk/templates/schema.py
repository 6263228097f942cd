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
from .rules import Column, CueRule, FieldRule, Position

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

FieldType = Literal["text", "date", "amount", "biz_reg_no", "phone", "rrn", "card", "number"]
__all__ = ["FieldType", "Position", "KeywordRule", "MatchRules", "FieldSpec", "Template", "check_entity_label"]


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
    cues: list[CueRule] = Field(default_factory=list, description="Layout cues, counted with the keywords.")
    min_confidence: float = Field(0.0, ge=0, le=1, description="Least template score for the template to be chosen.")


class FieldSpec(FieldRule):
    """Where one field's value is (its rule, then its ``fallback`` rules), what it looks like, and
    how to normalise it."""

    pattern: str | None = Field(None, description="Regular expression (RE2 syntax) the value must match.")
    entity: str | None = Field(None, description="Expected NER label of the value.")
    type: FieldType = "text"
    required: bool = False
    day_first: bool | None = Field(None, description="type date: read 05/03/2018 as 5 March (receipts outside the US).")
    review_threshold: float | None = Field(
        None, ge=0, le=1, description="Least confidence before the field needs review (default: the matcher's).")
    fallback: list[FieldRule] = Field(default_factory=list,
                                      description="Rules tried in order when the field's own finds no usable value.")
    columns: list[Column] = Field(default_factory=list, description="position: table — the columns of each row.")

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
    def _rules_need(self) -> "FieldSpec":
        for rule in (self, *self.fallback):
            if rule.position == "anywhere" and self.type == "text" and self.pattern is None:
                raise ValueError("position 'anywhere' needs a `pattern` or a `type` other than text: what to look for")
            if rule.position == "entity" and self.entity is None:
                raise ValueError("position 'entity' needs `entity: <label>`: which entities to take the value from")
            if rule.position == "table" and rule is not self:
                raise ValueError("position 'table' is a field's own rule, not a fallback")
        if (self.position == "table") != bool(self.columns):
            raise ValueError("position 'table' needs `columns: [{name, type}, ...]`, and only it takes columns")
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

    @model_validator(mode="after")
    def _after_refers_to_a_field(self) -> "Template":
        follows = {}
        for name, spec in self.fields.items():
            for rule in (spec, *spec.fallback):
                if rule.after is not None:
                    if rule.after not in self.fields or rule.after == name:
                        raise ValueError(f"fields.{name}: `after: {rule.after}` names no other field of this "
                                         f"template (fields: {', '.join(self.fields)})")
                    follows.setdefault(name, set()).add(rule.after)
        for name in follows:
            seen, todo = set(), [name]
            while todo:
                for other in follows.get(todo.pop(), ()):
                    if other == name:
                        raise ValueError(f"fields.{name}: `after` goes round in a circle back to {name}")
                    if other not in seen:
                        seen.add(other)
                        todo.append(other)
        return self

    @property
    def title(self) -> list[str]:
        """The phrases of the title keyword: the heaviest required one (else the heaviest), as
        ``position: under_title`` and the form generator take it."""
        pool = [k for k in self.match.keywords if k.required] or list(self.match.keywords)
        return max(pool, key=lambda k: k.weight).phrases

    def field_order(self) -> list[str]:
        """Field names with every field after the ones its ``after`` rules name."""
        done: list[str] = []

        def visit(name: str) -> None:
            if name in done:
                return
            spec = self.fields[name]
            for rule in (spec, *spec.fallback):
                if rule.after is not None:
                    visit(rule.after)
            done.append(name)

        for name in self.fields:
            visit(name)
        return done
