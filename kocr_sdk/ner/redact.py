"""PII masking: black boxes over the words of chosen entities, and their text replaced.

Korean personal-data rules (개인정보 보호법) make masking names, resident registration numbers
and phone numbers a routine step before a scanned form is stored or shared. Redaction uses
what NER found (``Page.entities``) and nothing else:

- the image: every word an entity touches is filled black over its whole quad, grown by 15 %
  of the word's height above and below and by about a character before and after, since a
  detector's box may cut into, or leave out, a word's first or last character (a word only
  partly in the entity is filled whole: a box cannot be cut at a character the detector may
  have placed imprecisely);
- the Document: the entity's characters in each word's text (and the matching character boxes'
  text) become ``■``, the entity's own text too, and it is marked ``redacted``; template fields
  built on those words have the entity text masked in their value and lose their normalised
  value. ``Page.text`` and every export derive from the words, so none of them leaks it.
"""

from __future__ import annotations

import difflib
import unicodedata
from typing import Iterable

import numpy as np

from ..document import Document, Entity, FieldValue, Page, Word
from ..errors import KocrConfigError
from ..vocabulary.entities import LABELS

MASK = "■"


def parse_labels(spec: str | Iterable[str], known: Iterable[str] = LABELS) -> set[str]:
    """``"PERSON,RRN, phone"`` → ``{"PERSON", "RRN", "PHONE"}``.

    An empty list, or a label no entity recogniser produces, is an error: a typo (``PERSN``)
    would otherwise mask nothing while the command reports success — the worst outcome of a
    privacy feature.
    """
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    labels = {s.strip().upper() for s in items if s and s.strip()}
    if not labels:
        raise KocrConfigError("--redact needs entity labels, e.g. --redact PERSON,RRN,PHONE")
    valid = sorted(set(known))
    unknown = sorted(labels - set(valid))
    if unknown:
        hints = []
        for label in unknown:
            close = difflib.get_close_matches(label, valid, n=1)
            hints.append(f"{label} (did you mean {close[0]}?)" if close else label)
        raise KocrConfigError(f"--redact: unknown entity label(s): {', '.join(hints)}; valid labels: {', '.join(valid)}")
    return labels


def _mask_text(text: str, ranges: list[tuple[int, int]]) -> str:
    chars = list(text)
    for s, e in ranges:
        for i in range(max(0, s), min(len(chars), e)):
            if not chars[i].isspace():
                chars[i] = MASK
    return "".join(chars)


def _redact_word(word: Word, ranges: list[tuple[int, int]]) -> Word:
    text = word.text or ""
    lead = len(text) - len(text.lstrip())
    if len(unicodedata.normalize("NFC", text).strip()) != len(text.strip()):
        ranges = [(0, len(text))]  # offsets are of the NFC text NER read; mask the word whole
    masked = _mask_text(text, [(s + lead, e + lead) for s, e in ranges])
    # Character boxes hold the non-space letters of the text, in order.
    letter_masked = [m == MASK for c, m in zip(text, masked) if not c.isspace()]
    chars = word.chars
    if chars and len(letter_masked) == len(chars):
        chars = [c.model_copy(update={"text": MASK}) if hit and c.text is not None else c
                 for c, hit in zip(chars, letter_masked)]
    elif chars:
        chars = [c.model_copy(update={"text": MASK if c.text is not None else None}) for c in chars]
    return word.model_copy(update={"text": masked, "chars": chars})


def redact_page(page: Page, labels: set[str]) -> Page:
    """The page with the text of every entity labelled in ``labels`` masked."""
    targets = [e for e in page.entities if e.label in labels]
    if not targets:
        return page
    ranges: dict[str, list[tuple[int, int]]] = {}
    for ent in targets:
        if ent.spans:
            for sp in ent.spans:
                ranges.setdefault(sp.word_id, []).append((sp.start, sp.end))
        else:  # an entity recogniser that gives no offsets: mask its words whole
            for wid in ent.word_ids:
                ranges.setdefault(wid, []).append((0, 10**9))
    words = [_redact_word(w, ranges[w.id]) if w.id in ranges else w for w in page.words]
    entities = [_redact_entity(e) if e.label in labels else e for e in page.entities]
    update: dict = {"words": words, "entities": entities}
    if page.template_match is not None:
        secrets = [e.text for e in targets if e.text]
        fields = {name: _redact_field(f, set(ranges), secrets) for name, f in page.template_match.fields.items()}
        update["template_match"] = page.template_match.model_copy(update={"fields": fields})
    return page.model_copy(update=update)


def _redact_entity(entity: Entity) -> Entity:
    return entity.model_copy(update={"text": _mask_text(entity.text, [(0, len(entity.text))]), "redacted": True})


def _redact_field(field: FieldValue, redacted_words: set[str], secrets: list[str]) -> FieldValue:
    if not (set(field.word_ids) & redacted_words) or field.value is None:
        return field
    value = field.value
    hit = False
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in value:
            value = value.replace(secret, _mask_text(secret, [(0, len(secret))]))
            hit = True
    if not hit:  # the field's words were masked but its text was put together otherwise: mask it all
        value = _mask_text(value, [(0, len(value))])
    return field.model_copy(update={"value": value, "normalized": None})


def redact_document(doc: Document, labels: set[str]) -> Document:
    """The document with every page redacted (see :func:`redact_page`)."""
    return doc.model_copy(update={"pages": [redact_page(p, labels) for p in doc.pages]})


def redaction_quads(page: Page, labels: set[str]) -> list[list[tuple[float, float]]]:
    """The quads (page pixels) of every word an entity labelled in ``labels`` touches."""
    wanted = {wid for e in page.entities if e.label in labels for wid in e.word_ids}
    return [[tuple(p) for p in w.quad] for w in page.words if w.id in wanted]


def redact_image(image: np.ndarray, page: Page, labels: set[str], margin: float = 0.15, reach: float = 0.6,
                 grow: int = 2) -> np.ndarray:
    """A copy of ``image`` (the page at its original size) with those words' quads filled black.

    Each quad is grown by ``margin`` × its height above and below (the recogniser's crop margin,
    ``EngineConfig.crop_margin``) and by ``reach`` × its height before and after — about one
    character: a detector's box can sit inside the ink of a word's first or last character, or
    leave out a character altogether (``214-86-18758`` found as ``14-86-18758``), and masking a
    little too much is the safe side of redaction. At least ``grow`` pixels everywhere.
    """
    import cv2

    out = image.copy()
    sy, sx = out.shape[0] / page.height, out.shape[1] / page.width
    for quad in redaction_quads(page, labels):
        pts = np.array([[x * sx, y * sy] for x, y in quad], dtype=np.float32)
        along = (pts[1] - pts[0] + pts[2] - pts[3]) / 2  # reading direction
        across = (pts[3] - pts[0] + pts[2] - pts[1]) / 2  # top to bottom of the text
        height = float(np.linalg.norm(across))
        u = along / max(float(np.linalg.norm(along)), 1e-6) * max(float(grow), reach * height)
        v = across / max(height, 1e-6) * max(float(grow), margin * height)
        grown = pts + np.array([-u - v, u - v, u + v, -u + v])
        cv2.fillPoly(out, [np.round(grown).astype(np.int32)], color=(0, 0, 0) if out.ndim == 3 else 0)
    return out
