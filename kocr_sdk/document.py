"""The Document: the one typed object every stage of the pipeline adds its part to.

Data flows one way: detection fills ``Page.words`` with quads and character quads,
script identification sets ``Word.script``, recognition sets ``Word.text``, NER fills
``Page.entities``, clustering fills ``Page.blocks`` (blocks → lines → word ids, in reading order),
and template matching fills ``Page.template_match`` and ``Page.key_values``. Words live once, flat, in ``Page.words``;
lines, entities and fields refer to them by id, so nothing is stored twice and a JSON
round-trip is lossless.

Coordinates are pixels of the image as it was given (not of any resized copy the engine made).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Literal, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from .geometry import Box, Quad, apply_homography, box_from_quad

StageStatus = Literal["ran", "missing", "skipped", "failed"]
Orientation = Literal[0, 90, 180, 270]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class Element(_Model):
    """Anything with a place on the page: a quad (4 points, reading order) and its bounding box."""

    id: str
    quad: Quad
    box: Box = Field(description="Axis-aligned box (x0, y0, x1, y1) around the quad; derived when omitted.")
    confidence: float = Field(1.0, ge=0.0, le=1.0, description="How sure the stage that found it is.")

    @model_validator(mode="before")
    @classmethod
    def _derive_box(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("box") is None and data.get("quad") is not None:
            data = {**data, "box": box_from_quad(data["quad"])}
        return data


class Char(Element):
    """One character's box, with its text once a recogniser has read it.

    With its letter, ``confidence`` is the recogniser's probability for that letter (for
    recognisers that give one, as kocr's do); without, it is the detector's. A box gets its letter
    only where the detector found as many character boxes as the recogniser read letters.
    """

    text: str | None = None


class Word(Element):
    """A word: found by the detector, labelled by the script identifier, read by a recogniser."""

    chars: list[Char] = Field(default_factory=list)
    script: str | None = Field(None, description="e.g. hangul, latin, digits, han, kana, other.")
    script_confidence: float | None = Field(None, ge=0.0, le=1.0)
    text: str | None = None
    text_confidence: float | None = Field(None, ge=0.0, le=1.0)
    recognizer: str | None = Field(None, description="Name of the recogniser that produced the text.")
    unsupported_script: bool = Field(
        False, description="True when no recogniser covers the word's script and the text is a best effort."
    )


class Line(Element):
    """Words that read as one line, in reading order."""

    word_ids: list[str]


class Block(Element):
    """A cluster of lines that belong together (a paragraph, a key–value row, a table cell)."""

    lines: list[Line]


class WordSpan(_Model):
    """The characters ``[start, end)`` of one word's text that belong to an entity."""

    word_id: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Entity(_Model):
    """A named entity found on the page (person, organisation, date, amount, ID number ...).

    ``word_ids`` are the words it touches, in reading order; ``spans`` say which characters of
    each word (an entity can be part of an OCR word, ``성명:홍길동``, or run over several).
    ``valid`` is False when the value fails its format's check (a business registration or
    resident number's check digit, a card number's Luhn digit): kept, flagged for review.
    """

    id: str
    label: str
    text: str
    word_ids: list[str]
    spans: list[WordSpan] = Field(default_factory=list, description="Character offsets within each word's text.")
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    valid: bool | None = Field(None, description="Result of a format validator (check digit...), if one applies.")
    redacted: bool = Field(False, description="True when the text was masked (`kocr read --redact`).")


class FieldValue(_Model):
    """One named field of a matched template.

    ``value`` is the text as printed (what a reviewer compares with the page); ``normalized`` is
    what software keys on (ISO 8601 date, ``{"value": 1234000, "currency": "KRW"}``, digits of an
    ID number), a JSON value so that a Document's JSON round-trip stays lossless.
    ``confidence`` multiplies the OCR confidence of the value's words, the fuzzy score of the
    label it was found by, and whether its pattern and validation passed; ``needs_review`` is set
    below the matcher's review threshold, on failed validation, or when a required field is missing.
    """

    name: str
    value: str | None
    normalized: JsonValue = None
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    word_ids: list[str] = Field(default_factory=list)
    quad: Quad | None = Field(None, description="Quad around the value's words, in reading order.")
    valid: bool | None = Field(None, description="Result of the type's validator (check digit, real date...).")
    needs_review: bool = False
    anchor: str | None = Field(None, description="The label text the value was found next to, as read.")
    note: str | None = Field(
        None, description="What the matcher changed beyond formatting, for a reviewer: e.g. a business registration "
        "number's digit repaired by its check digit (such a field also needs review).")


class TemplateMatch(_Model):
    """The registered template that matched the page best, and the fields it yielded."""

    template_id: str
    template_version: str | None = None
    score: float = Field(ge=0.0, le=1.0)
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    scores: dict[str, float] = Field(
        default_factory=dict, description="Score of every template considered, by id (why this one won)."
    )


class KeyValue(_Model):
    """A label and its value found on the page without a template (``Page.key_values``).

    ``layout`` says how they were paired: ``inline`` (``label: value`` on one line), ``right``
    (the value across a gap in the same row), ``below`` (the value on the line under the label),
    ``table`` (a cell and its column header). ``value`` is None for a label with nothing after
    it (a blank field on the form).
    """

    key: str
    value: str | None
    key_word_ids: list[str] = Field(default_factory=list)
    value_word_ids: list[str] = Field(default_factory=list)
    layout: Literal["inline", "right", "below", "table"]
    confidence: float = Field(0.0, ge=0.0, le=1.0)


class StageRecord(_Model):
    """What one stage did on one page: which implementation, how long, or why it did not run."""

    stage: str
    implementation: str | None = None
    status: StageStatus
    seconds: float = 0.0
    message: str | None = None


class Rectification(_Model):
    """How a photographed page was flattened before detection (``Page.rectification``).

    ``matrix`` maps pixels of the image as given to pixels of the flat ``width``×``height`` page
    the detector and recognisers read; every coordinate on the Page is still in the image as
    given (the engine maps each box back through the inverse, :meth:`to_page`), so an overlay
    on the original photo lines up. ``paper`` is the sheet's corners in the image as given.
    """

    matrix: list[list[float]] = Field(description="3×3 homography: image pixels → flat page pixels.")
    width: int = Field(ge=1, description="Width of the flat page the stages read.")
    height: int = Field(ge=1, description="Height of the flat page the stages read.")
    paper: Quad | None = Field(None, description="The paper's corners in the image as given (TL, TR, BR, BL).")

    def to_page(self, quad: Sequence[Sequence[float]]) -> Quad:
        """A quad (or any points) of the flat page in the pixels of the image as given."""
        inv = np.linalg.inv(np.asarray(self.matrix, dtype=np.float64))
        return tuple((float(x), float(y)) for x, y in apply_homography(inv, quad))  # type: ignore[return-value]

    def to_flat(self, quad: Sequence[Sequence[float]]) -> Quad:
        """A quad of the image as given in the pixels of the flat page."""
        return tuple((float(x), float(y)) for x, y in apply_homography(self.matrix, quad))  # type: ignore[return-value]


class Page(_Model):
    """One page image and everything the pipeline found on it."""

    index: int = 0
    source: str | None = Field(None, description="File name, or a description of an in-memory input.")
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    scale: float = Field(1.0, gt=0.0, description="Factor the engine resized the image by before the models ran.")
    detection_scale: float | None = Field(
        None, gt=0.0, description="Factor the detector further resized the page by for its network (e.g. 1.5 when "
        "small text made it look again at a larger size); None when the detector does not say.",
    )
    rectification: Rectification | None = Field(
        None, description="The flattening of a photographed page the stages read (its paper found, perspective "
        "undone); None when no rectifier changed the image (a flat scan). Boxes are in the image as given either way.",
    )
    orientation: Orientation = 0
    orientation_confidence: float | None = None
    words: list[Word] = Field(default_factory=list)
    blocks: list[Block] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    template_match: TemplateMatch | None = None
    key_values: list[KeyValue] = Field(
        default_factory=list, description="Label–value pairs found without a template (by the template stage), in "
        "reading order: structure for forms no template fits.")
    script_shares: dict[str, float] = Field(default_factory=dict)
    pdf_text_layer: bool | None = Field(
        None, description="For a PDF page, whether it carried its own text layer (None for other inputs)."
    )
    stages: list[StageRecord] = Field(default_factory=list)

    def word(self, word_id: str) -> Word:
        """The word with id ``word_id``."""
        for w in self.words:
            if w.id == word_id:
                return w
        raise KeyError(word_id)

    def lines(self) -> Iterator[Line]:
        """Lines in reading order."""
        for block in self.blocks:
            yield from block.lines

    @property
    def text(self) -> str:
        """The page's text in reading order: words of a line joined by spaces, lines by newlines,
        blocks by blank lines. Without clustering, words follow the detector's order."""
        by_id = {w.id: w for w in self.words}
        if self.blocks:
            blocks = []
            for block in self.blocks:
                lines = [" ".join(by_id[i].text or "" for i in line.word_ids if by_id[i].text) for line in block.lines]
                blocks.append("\n".join(line for line in lines if line))
            return "\n\n".join(b for b in blocks if b)
        return " ".join(w.text for w in self.words if w.text)

    @property
    def missing_stages(self) -> list[StageRecord]:
        """Stages that had no implementation installed for this page."""
        return [s for s in self.stages if s.status == "missing"]

    def to_spacy(self, vocab: Any = None) -> Any:
        """The page as a spaCy ``Doc``: one token per OCR word in reading order, entities as
        ``doc.ents``, boxes as ``token._.kocr_box``/``kocr_quad`` (see kocr_sdk.export.spacy)."""
        from .export.spacy import page_to_spacy

        return page_to_spacy(self, vocab)


class FailedInput(_Model):
    """An input file that could not be read (its pages that could be read are in ``pages``)."""

    source: str
    message: str


class Document(_Model):
    """The result of reading one or more page images."""

    kocr_version: str
    pages: list[Page] = Field(default_factory=list)
    failed_inputs: list[FailedInput] = Field(
        default_factory=list,
        description="Files of a directory or list that could not be read; the other files' pages are still here.",
    )
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def text(self) -> str:
        """All pages' text in reading order, pages separated by a form feed."""
        return "\f".join(p.text for p in self.pages)

    def words(self) -> Iterator[Word]:
        """Every word of every page."""
        for page in self.pages:
            yield from page.words

    def timings(self) -> dict[str, float]:
        """Wall seconds spent in each stage, summed over pages."""
        totals: dict[str, float] = {}
        for page in self.pages:
            for rec in page.stages:
                totals[rec.stage] = totals.get(rec.stage, 0.0) + rec.seconds
        return totals

    def to_spacy(self) -> Any:
        """All pages as one spaCy ``Doc`` (pages joined in order; see :meth:`Page.to_spacy`)."""
        from .export.spacy import document_to_spacy

        return document_to_spacy(self)

    def to_hocr(self) -> str:
        """The document as hOCR (XHTML that document tools such as hocr-tools read): blocks, lines
        and words with boxes and confidences, and each character's box and confidence where the
        detector's character boxes hold the recogniser's letters."""
        from .export.hocr import document_to_hocr

        return document_to_hocr(self)

    def to_alto(self) -> str:
        """The document as ALTO XML 4, the layout-and-text format of libraries and digitisation
        tools: one ``Page`` per page, blocks, lines and words (``String``) in reading order with
        boxes and confidences (see kocr_sdk.export.alto)."""
        from .export.alto import document_to_alto

        return document_to_alto(self)

    def to_markdown(self) -> str:
        """The text as Markdown: reading order, one paragraph per block, ``---`` between pages,
        and a matched template's fields as a table (see kocr_sdk.export.markdown)."""
        from .export.markdown import document_to_markdown

        return document_to_markdown(self)

    def to_pdf(self, images: Sequence[Any], dpi: float | None = None, font: str | Path | None = None,
               jpeg_quality: int | None = None) -> bytes:
        """A searchable PDF: each page's image with the text read laid over its words invisibly,
        so a viewer finds, selects and copies them. The Document holds no pixels, so ``images``
        gives each page's image (paths, PIL images or arrays, in page order). Needs the ``pdf``
        extra (fpdf2) and an installed font with Hangul; see kocr_sdk.export.pdf for the options."""
        from .export.pdf import document_to_pdf

        return document_to_pdf(self, images, dpi=dpi, font=font, jpeg_quality=jpeg_quality)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of the serialized Document."""
        return cls.model_json_schema()
