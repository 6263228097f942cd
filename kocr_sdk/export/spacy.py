"""A kocr Page (or Document) as a spaCy ``Doc``: ``Page.to_spacy()`` and ``Document.to_spacy()``.

``Page.to_spacy()`` builds the ``Doc`` from the OCR words themselves (one spaCy token per OCR
word, in reading order), so nothing is re-tokenised and every token keeps its box: the
extension attributes ``token._.kocr_box``/``_.kocr_quad``/``_.kocr_word_id``/``_.kocr_confidence``
carry them, and ``doc._.kocr_pages`` the pages' index and size. Entities become ``doc.ents``
over the tokens of their words (spaCy spans are token-aligned; an entity covering part of an
OCR word spans that whole token). The vocabulary comes from ``spacy.blank("xx")`` — no model
download, and the Korean blank pipeline would need MeCab.


The other way round — a spaCy pipeline as kocr's entity recogniser — is
:class:`kocr_sdk.ner.spacy_stage.SpacyEntityRecognizer`.
"""

from __future__ import annotations

import warnings
from typing import Any

from typing import TYPE_CHECKING


if TYPE_CHECKING:  # the document model calls into this module: its names are for typing only
    from ..document import Page

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
