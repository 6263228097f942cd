"""Entity labels kocr's NER recognises, and the BIO tags its token classifier predicts.

The labels are those of the form-like text generator (:data:`kocr_sdk.synth.text.ENTITY_LABELS`)
plus ``CARD`` (card numbers, the one format with a Luhn check). Templates name them in a
field's ``entity:`` key, so they are part of kocr's public vocabulary.
"""

from __future__ import annotations

from ..synth.text import ENTITY_LABELS as _FORM_LABELS

#: Every entity label, in a fixed order (the tag ids of shipped weights depend on it).
LABELS: tuple[str, ...] = (*_FORM_LABELS, "CARD")

#: BIO tags: ``O``, then ``B-X``/``I-X`` for each label in :data:`LABELS`.
TAGS: tuple[str, ...] = ("O", *(f"{p}-{label}" for label in LABELS for p in ("B", "I")))


def tag_ids() -> dict[str, int]:
    """Tag → class id of the classifier."""
    return {t: i for i, t in enumerate(TAGS)}
