"""The entity-recogniser stages: a Hugging Face token classifier over the page's OCR lines.

- ``char-bert``: kocr's own character-level BERT, trained by ``kocr train ner`` and shipped in
  ``kocr_sdk/weights/ner-char-bert/``; registered only when those weights ship.
- ``hf-token-classification``: any local Hugging Face token-classification directory, named by
  the ``model`` option (a KLUE or multilingual BERT a user fine-tuned, say)::

      entity_recognizer: hf-token-classification
      options:
        hf-token-classification:
          model: /models/klue-ner
          label_map: {PS: PERSON, OG: ORG, LC: ADDRESS, DT: DATE, QT: null}

  It needs that option to run at all, so ``auto`` never picks it.

Both read lines in reading order (:func:`~kocr_sdk.export.lines.page_lines`), tag them in batches,
map each span back to its words and the characters within them, and run the format validators.
Nothing is downloaded: a directory that is not there is an error naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from .. import resources
from ..document import Entity, Page, WordSpan
from ..errors import KocrConfigError, KocrModelError
from ..interfaces import EntityRecognizer
from ..export.lines import page_lines
from ..vocabulary.entities import LABELS
from .validators import validate

WEIGHTS_DIR = resources.WEIGHTS_DIR / "ner-char-bert"


class HuggingFaceEntityRecognizer(EntityRecognizer):
    """NER with a local Hugging Face token-classification model (``model`` option: its directory)."""

    name = "hf-token-classification"
    priority = -10
    auto = False
    description = "any local Hugging Face token-classification model directory (option `model`)"

    def __init__(self, device: str = "cpu", model: str | Path | None = None,
                 label_map: dict[str, str | None] | None = None, labels: list[str] | None = None,
                 batch_size: int = 64, min_confidence: float = 0.0, threads: int | None = None,
                 quantize: bool | None = None, runtime: str = "torch", **options: Any) -> None:
        super().__init__(device, **options)
        if options:
            raise KocrConfigError(f"entity recogniser {self.name!r} has no option(s) {', '.join(sorted(options))} "
                                  "(known: model, label_map, labels, batch_size, min_confidence, threads, quantize, "
                                  "runtime)")
        directory = Path(model) if model is not None else self.default_model()
        if directory is None:
            raise KocrConfigError(f"entity recogniser {self.name!r} needs the `model` option: the directory of a "
                                  "Hugging Face token-classification model (config.json, weights, tokenizer.json)")
        if not directory.is_dir():
            raise KocrModelError(f"NER model directory not found: {directory}")
        if threads and runtime != "onnx":  # onnxruntime sessions take the count themselves, no torch
            import torch

            torch.set_num_threads(threads)
        from .tagger import TokenTagger

        if quantize is None:  # onnxruntime's int8 pays only where the CPU has an int8 dot product
            if runtime == "onnx":
                from ..runtime.cpu import int8_by_default

                quantize = self.quantize_by_default and int8_by_default(device)
            else:
                quantize = self.quantize_by_default
        self.tagger = TokenTagger.from_directory(directory, runtime=runtime, label_map=label_map, device=device,
                                                 batch_size=batch_size, quantize=quantize,
                                                 threads=threads if runtime == "onnx" else None)
        self.labels = set(labels) if labels else None
        self.min_confidence = min_confidence

    #: int8 dynamic quantisation of the Linear layers on CPU, unless the ``quantize`` option says otherwise.
    quantize_by_default: ClassVar[bool] = False
    # No ``runtimes`` here: the engine's ``runtime: onnx`` must not make it export an arbitrary
    # user model that may not trace; ``runtime: onnx`` as this stage's own option still does.

    @classmethod
    def default_model(cls) -> Path | None:
        return None

    def recognize(self, page: Page) -> list[Entity]:
        lines = page_lines(page)
        tagged = self.tagger.tag([line.text for line in lines])
        entities: list[Entity] = []
        for line, spans in zip(lines, tagged):
            for span in spans:
                if self.labels is not None and span.label not in self.labels:
                    continue
                text = line.text[span.start:span.end]
                word_spans = line.spans_of(span.start, span.end)
                if not word_spans:
                    continue
                valid, confidence = validate(span.label, text, span.confidence)
                if confidence < self.min_confidence:
                    continue
                entities.append(Entity(
                    id=f"p{page.index}-e{len(entities)}", label=span.label, text=text,
                    word_ids=[ws.word_id for ws in word_spans], spans=[WordSpan(**ws._asdict()) for ws in word_spans],
                    confidence=round(min(1.0, max(0.0, confidence)), 4), valid=valid,
                ))
        return entities


class CharBertEntityRecognizer(HuggingFaceEntityRecognizer):
    """kocr's shipped character-level BERT NER (PERSON, ORG, ADDRESS, DATE, MONEY, PHONE, EMAIL,
    URL, BIZ_REG_NO, RRN, CARD), trained on generated Korean and English form lines with OCR noise."""

    name = "char-bert"
    priority = 10
    auto = True
    quantize_by_default = True  # measured: same F1 within 0.002, about twice the lines/s (docs/benchmarks.md)
    #: ``onnx``: the model from a cached ONNX export, and no transformers import (:mod:`.onnx`).
    runtimes: ClassVar[tuple[str, ...]] = ("torch", "onnx")
    description = "character-level BERT over OCR lines: " + ", ".join(LABELS)

    @classmethod
    def default_model(cls) -> Path | None:
        return WEIGHTS_DIR


def shipped_entity_recognizers() -> list[type[EntityRecognizer]]:
    """The NER stages this installation can run: the generic one always, kocr's own when its weights ship."""
    found: list[type[EntityRecognizer]] = [HuggingFaceEntityRecognizer]
    if (WEIGHTS_DIR / "config.json").is_file():
        found.append(CharBertEntityRecognizer)
    return found
