"""Registers kocr's entity recognisers: any local Hugging Face token classifier, any installed
spaCy pipeline, and kocr's own character BERT when its weights ship with this installation."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..ner.recognizer import shipped_entity_recognizers
from ..ner.spacy_stage import SpacyEntityRecognizer


@hookimpl
def register_entity_recognizers(register):
    for cls in shipped_entity_recognizers():
        register(cls)
    register(SpacyEntityRecognizer)  # needs its `pipeline` option: never chosen by `auto`
