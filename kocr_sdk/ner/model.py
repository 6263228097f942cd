"""The NER network: a small BERT-style encoder with a token-classification head, from scratch.

Nothing is downloaded: the architecture is a ``transformers.BertConfig`` built here, trained by
``kocr train ner`` on generated text, and saved as an ordinary Hugging Face model directory
(``config.json``, ``model.safetensors``, ``tokenizer.json``), so the shipped weights load with
``AutoModelForTokenClassification`` and any Hugging Face token-classification directory loads
in their place. Sizes are data (:data:`ARCHS`), not subclasses.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..vocabulary.entities import TAGS


class NerArch(BaseModel):
    """Size of the encoder. ``max_length`` counts characters plus ``[CLS]``/``[SEP]``."""

    model_config = ConfigDict(extra="forbid")

    hidden: int = Field(192, ge=16)
    layers: int = Field(4, ge=1)
    heads: int = Field(4, ge=1)
    intermediate: int = Field(768, ge=16)
    max_length: int = Field(128, ge=8)
    dropout: float = Field(0.1, ge=0, lt=1)


#: Named sizes (``arch:`` in a training config may name one or spell out a :class:`NerArch`).
ARCHS: dict[str, NerArch] = {
    "char-bert-mini": NerArch(hidden=128, layers=4, heads=4, intermediate=512),
    "char-bert-small": NerArch(hidden=192, layers=4, heads=4, intermediate=768),
    "char-bert-base": NerArch(hidden=256, layers=4, heads=4, intermediate=1024),
}


def create_model(arch: NerArch, vocab_size: int, pad_id: int = 0, tags: tuple[str, ...] = TAGS):
    """A freshly initialised ``BertForTokenClassification`` of size ``arch`` over ``tags``."""
    from transformers import BertConfig, BertForTokenClassification

    config = BertConfig(
        vocab_size=vocab_size, hidden_size=arch.hidden, num_hidden_layers=arch.layers,
        num_attention_heads=arch.heads, intermediate_size=arch.intermediate,
        max_position_embeddings=arch.max_length, type_vocab_size=1, pad_token_id=pad_id,
        hidden_dropout_prob=arch.dropout, attention_probs_dropout_prob=arch.dropout,
        num_labels=len(tags), id2label=dict(enumerate(tags)), label2id={t: i for i, t in enumerate(tags)},
    )
    return BertForTokenClassification(config)
