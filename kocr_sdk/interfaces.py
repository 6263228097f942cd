"""What a stage implementation is: the base classes plugins subclass, and the values they return.

Every stage is a class with a ``name`` (unique within its stage), an optional ``priority`` (the
engine's ``auto`` choice takes the highest), and a constructor taking ``device`` plus the
options from the engine config. Classes are registered, not instances, so that registering a
plugin never loads weights: the engine constructs only what it uses, once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .document import Block, Entity, KeyValue, Page, TemplateMatch
from .geometry import Quad

if TYPE_CHECKING:  # pragma: no cover
    from .templates.schema import Template


class PageRectification(BaseModel):
    """A rectifier's answer for one page image: the homography that flattens it, or why it is left alone.

    ``matrix`` maps the pixels of the image the rectifier was given (continuous coordinates:
    pixel ``(r, c)`` covers ``[c, c+1) × [r, r+1)``) to those of the flat ``width``×``height``
    page; None leaves the image as it is and ``message`` says why (no paper edge found, already
    flat). The engine warps the image itself, so the transform it records is the one its pixels
    went through.
    """

    model_config = ConfigDict(extra="forbid")
    matrix: list[list[float]] | None = Field(None, description="3×3 homography, image pixels → flat page pixels.")
    width: int | None = Field(None, ge=1)
    height: int | None = Field(None, ge=1)
    paper: Quad | None = Field(None, description="The paper's corners in the image (TL, TR, BR, BL), when found.")
    message: str = ""

    @property
    def applied(self) -> bool:
        return self.matrix is not None


class DetectedChar(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quad: Quad
    confidence: float = 1.0


class DetectedWord(BaseModel):
    """A word the detector found: its quad in reading order, and its characters' quads."""

    model_config = ConfigDict(extra="forbid")
    quad: Quad
    confidence: float = 1.0
    chars: list[DetectedChar] = Field(default_factory=list)


class Detection(BaseModel):
    """A detector's answer for one page, in the pixels of the image it was given."""

    model_config = ConfigDict(extra="forbid")
    words: list[DetectedWord] = Field(default_factory=list)
    orientation: int = 0
    orientation_confidence: float | None = None
    scale: float | None = Field(
        None, gt=0, description="Factor the detector resized the image by before its network ran (the last pass's, "
        "when it ran more than one); None when it does not say.",
    )


class ScriptPrediction(BaseModel):
    """Probabilities over scripts for one crop (need not cover every script)."""

    model_config = ConfigDict(extra="forbid")
    probabilities: dict[str, float]

    def ranked(self) -> list[tuple[str, float]]:
        return sorted(self.probabilities.items(), key=lambda kv: -kv[1])

    @property
    def script(self) -> str:
        return self.ranked()[0][0]

    @property
    def confidence(self) -> float:
        return self.ranked()[0][1]


class Reading(BaseModel):
    """A recogniser's reading of one crop."""

    model_config = ConfigDict(extra="forbid")
    text: str
    confidence: float = Field(ge=0.0, le=1.0)
    char_confidences: list[float] | None = None


class TemplateReading(BaseModel):
    """What the template stage found on a page: the matching template (or None), the key–value
    pairs found without one, and a note for the stage's record (why no template fits)."""

    model_config = ConfigDict(extra="forbid")
    match: TemplateMatch | None = None
    key_values: list[KeyValue] = Field(default_factory=list)
    message: str | None = None

    def __init__(self, match: TemplateMatch | None = None, key_values: list[KeyValue] | None = None,
                 message: str | None = None, **data: Any) -> None:
        super().__init__(match=match, key_values=key_values or [], message=message, **data)


class Stage(ABC):
    """Common shape of every stage implementation."""

    name: ClassVar[str]
    priority: ClassVar[int] = 0
    description: ClassVar[str] = ""
    #: False for implementations that need options to run (a model directory): ``auto`` skips them.
    auto: ClassVar[bool] = True

    def __init__(self, device: str = "cpu", **options: Any) -> None:
        self.device = device
        self.options = options


class Rectifier(Stage):
    """Flattens a photographed page before detection (perspective, curl), or leaves it alone."""

    @abstractmethod
    def rectify(self, image: np.ndarray) -> PageRectification:
        """``image`` is RGB uint8 of shape (H, W, 3)."""


class TextDetector(Stage):
    """Finds words (and their characters) on a page image."""

    @abstractmethod
    def detect(self, image: np.ndarray) -> Detection:
        """``image`` is RGB uint8 of shape (H, W, 3)."""


class ScriptIdentifier(Stage):
    """Says which script each word crop is written in, so the right recogniser reads it."""

    scripts: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def identify(self, crops: list[np.ndarray]) -> list[ScriptPrediction]:
        """``crops`` are upright RGB uint8 word images; one prediction per crop, in order."""


class Recognizer(Stage):
    """Reads the text of upright word crops. ``scripts`` are the scripts its weights cover."""

    scripts: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def recognize(self, crops: list[np.ndarray]) -> list[Reading]:
        """One reading per crop, in order."""


class EntityRecognizer(Stage):
    """Labels the named entities among a page's recognised words."""

    #: Labels it gives beyond kocr's own (``kocr_sdk.vocabulary.entities.LABELS``): declared, so
    #: that a template's ``entity:`` may name them and a typo of any other is still refused.
    entity_labels: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def recognize(self, page: Page) -> list[Entity]:
        ...


class Clusterer(Stage):
    """Groups a page's words into lines and blocks, in reading order."""

    @abstractmethod
    def cluster(self, page: Page) -> list[Block]:
        ...


class TemplateMatcher(Stage):
    """Picks the registered template that fits the page and extracts its fields."""

    @abstractmethod
    def match(self, page: Page, templates: list["Template"]) -> TemplateMatch | None:
        ...

    def read(self, page: Page, templates: list["Template"]) -> TemplateReading:
        """The match with whatever else the stage finds (key–value pairs, why nothing matched);
        what the engine calls. A matcher that only implements ``match`` gets this default."""
        return TemplateReading(self.match(page, templates))


STAGE_BASES: dict[str, type[Stage]] = {
    "rectifier": Rectifier,
    "detector": TextDetector,
    "script_identifier": ScriptIdentifier,
    "recognizer": Recognizer,
    "entity_recognizer": EntityRecognizer,
    "clusterer": Clusterer,
    "template_matcher": TemplateMatcher,
}
