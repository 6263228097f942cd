"""Entity labels kocr's NER recognises, and the BIO tags its token classifier predicts.

Templates name the labels in a field's ``entity:`` key and ``--redact`` takes them, so they are
part of kocr's public vocabulary; the data generator writes the form-text ones
(:data:`FORM_LABELS`) into its samples. ``CARD`` (card numbers, the one format with a Luhn
check) is found by rule, not generated.
"""

from __future__ import annotations

#: Entity labels of form-like text, the NER model's targets.
FORM_LABELS: tuple[str, ...] = ("PERSON", "ORG", "ADDRESS", "DATE", "MONEY", "PHONE", "EMAIL", "URL", "BIZ_REG_NO", "RRN")

#: Every entity label, in a fixed order (the tag ids of shipped weights depend on it).
LABELS: tuple[str, ...] = (*FORM_LABELS, "CARD")

#: BIO tags: ``O``, then ``B-X``/``I-X`` for each label in :data:`LABELS`.
TAGS: tuple[str, ...] = ("O", *(f"{p}-{label}" for label in LABELS for p in ("B", "I")))


def tag_ids() -> dict[str, int]:
    """Tag → class id of the classifier."""
    return {t: i for i, t in enumerate(TAGS)}
