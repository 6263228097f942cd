"""Any spaCy pipeline as kocr's entity recogniser (``entity_recognizer: spacy``).

It runs a pipeline the user has installed (a trained package name, a saved directory, or a
``Language`` object) over each OCR line and maps its ``doc.ents`` back to words and characters,
so NER is swappable through the ``register_entity_recognizers`` hook (see docs/plugins.md for
the plugin wrapping it).
"""

from __future__ import annotations

from typing import Any

from ..document import Entity, Page, WordSpan
from ..errors import KocrConfigError
from ..export.lines import page_lines
from ..interfaces import EntityRecognizer
from .validators import validate


class SpacyEntityRecognizer(EntityRecognizer):
    """Runs a spaCy pipeline over each OCR line (option ``pipeline``: package name, path, or Language)."""

    name = "spacy"
    priority = -10
    auto = False
    description = "any installed spaCy pipeline (option `pipeline`), run over OCR lines"

    def __init__(self, device: str = "cpu", pipeline: Any = None, label_map: dict[str, str | None] | None = None,
                 **options: Any) -> None:
        super().__init__(device, **options)
        if pipeline is None:
            raise KocrConfigError(f"entity recogniser {self.name!r} needs the `pipeline` option: an installed spaCy "
                                  "package name or the path of a saved pipeline")
        if isinstance(pipeline, str):
            import spacy

            try:
                pipeline = spacy.load(pipeline)
            except OSError as exc:
                raise KocrConfigError(f"spaCy pipeline {pipeline!r} cannot be loaded: {exc}") from None
        self.nlp = pipeline
        self.label_map = label_map or {}

    def recognize(self, page: Page) -> list[Entity]:
        lines = page_lines(page)
        entities: list[Entity] = []
        for line, doc in zip(lines, self.nlp.pipe([line.text for line in lines])):
            for ent in doc.ents:
                label = self.label_map.get(ent.label_, ent.label_)
                if not label:
                    continue
                spans = line.spans_of(ent.start_char, ent.end_char)
                if not spans:
                    continue
                valid, confidence = validate(label, ent.text, 1.0)
                entities.append(Entity(id=f"p{page.index}-e{len(entities)}", label=label, text=ent.text,
                                       word_ids=[s.word_id for s in spans], spans=[WordSpan(**s._asdict()) for s in spans],
                                       confidence=confidence,
                                       valid=valid))
        return entities
