"""spaCy interop: a kocr Page as a spaCy ``Doc``, and any spaCy pipeline as an entity recogniser.

``Page.to_spacy()`` builds the ``Doc`` from the OCR words themselves (one spaCy token per OCR
word, in reading order), so nothing is re-tokenised and every token keeps its box: the
extension attributes ``token._.kocr_box``/``_.kocr_quad``/``_.kocr_word_id``/``_.kocr_confidence``
carry them, and ``doc._.kocr_pages`` the pages' index and size. Entities become ``doc.ents``
over the tokens of their words (spaCy spans are token-aligned; an entity covering part of an
OCR word spans that whole token). The vocabulary comes from ``spacy.blank("xx")`` — no model
download, and the Korean blank pipeline would need MeCab.

:class:`SpacyEntityRecognizer` goes the other way: it runs a spaCy pipeline the user has
installed (a trained package name, a saved directory, or a ``Language`` object) over each OCR
line and maps its ``doc.ents`` back to words and characters, so NER is swappable through the
``register_entity_recognizers`` hook (see docs/plugins.md for the plugin wrapping it).
"""

from __future__ import annotations

import warnings
from typing import Any

from ..document import Entity, Page
from ..errors import KocrConfigError
from ..interfaces import EntityRecognizer
from .align import page_lines

_EXTENSIONS = {"kocr_box": None, "kocr_quad": None, "kocr_word_id": None, "kocr_confidence": None}


def _register_extensions() -> None:
    from spacy.tokens import Doc, Token

    for name, default in _EXTENSIONS.items():
        if not Token.has_extension(name):
            Token.set_extension(name, default=default)
    if not Doc.has_extension("kocr_pages"):
        Doc.set_extension("kocr_pages", default=None)


_BLANK: Any = None


def blank_vocab():
    """The vocabulary of ``spacy.blank("xx")`` (multi-language), made once."""
    global _BLANK
    if _BLANK is None:
        import spacy

        _BLANK = spacy.blank("xx")
    return _BLANK.vocab


def page_to_spacy(page: Page, vocab: Any = None):
    """The page's words (reading order) as a spaCy ``Doc`` with entities and word boxes."""
    from spacy.tokens import Doc

    _register_extensions()
    by_id = {w.id: w for w in page.words}
    order = [i for line in page.lines() for i in line.word_ids] if page.blocks else [w.id for w in page.words]
    order += [w.id for w in page.words if w.id not in set(order)]
    words = [by_id[i] for i in order if by_id[i].text]
    line_end = {line.word_ids[-1] for line in page.lines() if line.word_ids}
    doc = Doc(vocab or blank_vocab(), words=[w.text for w in words],
              spaces=[w.id not in line_end for w in words] if words else [])
    index = {w.id: k for k, w in enumerate(words)}
    for token, word in zip(doc, words):
        token._.kocr_box = tuple(word.box)
        token._.kocr_quad = [tuple(p) for p in word.quad]
        token._.kocr_word_id = word.id
        token._.kocr_confidence = word.text_confidence
    doc._.kocr_pages = [{"index": page.index, "width": page.width, "height": page.height, "source": page.source}]
    spans = []
    taken: set[int] = set()
    for ent in sorted(page.entities, key=lambda e: -e.confidence):
        ks = sorted(index[w] for w in ent.word_ids if w in index)
        if not ks:
            continue
        start, end = ks[0], ks[-1] + 1
        if taken & set(range(start, end)):  # spaCy entities may not overlap; the surer one stays
            continue
        taken |= set(range(start, end))
        spans.append(doc.char_span(doc[start].idx, doc[end - 1].idx + len(doc[end - 1]), label=ent.label,
                                   kb_id=ent.id) or doc[start:end])
    doc.ents = sorted(spans, key=lambda s: s.start)
    return doc


def document_to_spacy(document: Any):
    """Every page's ``Doc`` joined into one (``token._.kocr_*`` and ``doc.ents`` kept)."""
    from spacy.tokens import Doc

    docs = [page_to_spacy(p) for p in document.pages]
    if len(docs) == 1:
        return docs[0]
    if not docs:
        return Doc(blank_vocab(), words=[])
    with warnings.catch_warnings():  # doc-level extensions are not merged; they are set below
        warnings.simplefilter("ignore", UserWarning)
        merged = Doc.from_docs(docs)
    merged._.kocr_pages = [info for d in docs for info in d._.kocr_pages]
    return merged


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
                from .validators import validate

                valid, confidence = validate(label, ent.text, 1.0)
                entities.append(Entity(id=f"p{page.index}-e{len(entities)}", label=label, text=ent.text,
                                       word_ids=[s.word_id for s in spans], spans=spans, confidence=confidence,
                                       valid=valid))
        return entities
