"""``kocr read --overlay``: a picture of what was read written beside each input (:mod:`kocr_sdk.visualize`)."""

from __future__ import annotations

from pathlib import Path

from .common import note, page_image_path
from ..atomic import atomic_path
from ..document import Document


def write_overlays(doc: Document, source: Path, out_dir: Path | None, max_pixels: int, quiet: bool = False,
                   redact: set[str] | None = None, margin: float = 0.15, name: str | None = None) -> list[Path]:
    """Write ``<name>.overlay.png`` (``<name>.p<i>.overlay.png`` per page of a multi-page file); return the paths.

    With ``redact`` (the labels of ``--redact``), the page under the boxes is the redacted one:
    a picture of a redacted read must not show what the redaction hid.

    Each file is written atomically (:mod:`kocr_sdk.atomic`): an interrupted run never leaves a
    half-written picture that looks like a finished one.
    """
    from PIL import Image

    from ..io import iter_pages
    from ..visualize import draw_page

    images = {i: pim.image for i, pim in enumerate(iter_pages(source, max_side=1 << 30, max_pixels=max_pixels))}
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for page in doc.pages:
        image = images.get(page.index)
        if image is None:
            continue
        if redact:
            from ..ner.redact import redact_image

            image = redact_image(image, page, redact, margin)
        target = page_image_path(source, name or source.stem, out_dir, page.index, len(doc.pages), "overlay")
        with atomic_path(target, suffix=".png") as tmp:
            Image.fromarray(draw_page(image, page)).save(tmp, format="PNG")
        written.append(target)
        if not quiet:
            note(f"wrote {target}")
    return written
