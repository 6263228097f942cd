"""``kocr read --redact``: the redacted image files written beside a read, and the redacted Document."""

from __future__ import annotations

from pathlib import Path

from .common import note, page_image_path
from ..atomic import atomic_path
from ..document import Document
from ..errors import KocrConfigError
from ..ner.redact import redact_document, redact_image


def redact_outputs(doc: Document, source: Path, labels: set[str], out_dir: Path | None, max_pixels: int,
                   quiet: bool = False, margin: float = 0.15, name: str | None = None) -> Document:
    """Write a redacted copy of every page image of ``source`` and return the redacted Document.

    Refuses when no entity recogniser ran: redacting nothing while claiming to have redacted
    would be the worst outcome of a privacy feature.
    """
    from PIL import Image

    from ..io import iter_pages

    for page in doc.pages:
        ner = next((r for r in page.stages if r.stage == "entity_recognizer"), None)
        if page.words and (ner is None or ner.status != "ran"):
            why = f": {ner.message}" if ner is not None and ner.message else ""
            raise KocrConfigError(f"--redact needs an entity recogniser, and none ran on {source}{why}")
    images = {i: pim.image for i, pim in enumerate(iter_pages(source, max_side=1 << 30, max_pixels=max_pixels))}
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    for page in doc.pages:
        image = images.get(page.index)
        if image is None:
            continue
        target = page_image_path(source, name or source.stem, out_dir, page.index, len(doc.pages), "redacted")
        with atomic_path(target, suffix=".png") as tmp:
            Image.fromarray(redact_image(image, page, labels, margin)).save(tmp, format="PNG")
        if not quiet:
            count = sum(e.label in labels for e in page.entities)
            note(f"wrote {target} ({count} entit{'y' if count == 1 else 'ies'} masked)")
    return redact_document(doc, labels)
