"""Named-entity recognition over OCR output.

- :mod:`.data` and :mod:`.noise`: generated Korean/English form lines with entity spans, and
  OCR-like noise, for ``kocr train ner``;
- :mod:`.tokenizer`, :mod:`.model`: the character tokenizer and the small BERT trained on them;
- :mod:`.tagger`: any Hugging Face token classifier as a span tagger;
- :mod:`.recognizer`: the entity-recogniser stages (``char-bert``, ``hf-token-classification``);
- :mod:`.align`: OCR lines → text, spans → words and characters; :mod:`.validators`: check digits;
- :mod:`.spacy_interop`: ``Page.to_spacy()`` and spaCy pipelines as recognisers;
- :mod:`.redact`: PII masking of images and Documents.
"""

from __future__ import annotations

from ..vocabulary.entities import LABELS, TAGS

__all__ = ["LABELS", "TAGS"]
