"""``kocr read --format pdf``: a searchable PDF of each input, its pages' images under the text read.

The Document holds no pixels, so the page images are read again from the input, as ``--overlay``
does, at the same resolution the engine read them (a PDF's pages at the engine's ``pdf.dpi``).
"""

from __future__ import annotations

from pathlib import Path

from .common import note, output_path
from ..atomic import atomic_path
from ..document import Document


def _dpi(source: Path, pdf_dpi: float) -> float | None:
    """The resolution of the input's pages: a PDF's rasterising dpi, an image file's own (if it says)."""
    if source.suffix.lower() == ".pdf":
        return pdf_dpi
    from PIL import Image

    try:
        with Image.open(source) as im:
            dpi = im.info.get("dpi")
    except (OSError, ValueError):
        return None
    return float(dpi[0]) if dpi and dpi[0] and 18 <= float(dpi[0]) <= 2400 else None


def pdf_target(source: Path, name: str, out_dir: Path | None) -> Path:
    """``<name>.pdf`` in ``out_dir`` or beside the input — ``<name>.ocr.pdf`` when that is the input itself."""
    target = output_path(source, name, out_dir, ".pdf")
    if target.resolve() == source.resolve():
        target = output_path(source, name, out_dir, ".ocr.pdf")
    return target


def write_pdf(doc: Document, source: Path, out_dir: Path | None, max_pixels: int, pdf_dpi: float, quiet: bool = False,
              redact: set[str] | None = None, margin: float = 0.15, name: str | None = None) -> Path:
    """Write the searchable PDF of ``source`` (atomically) and return its path.

    With ``redact`` (the labels of ``--redact``), the pages under the text are the redacted ones:
    a PDF of a redacted read must not show what the redaction hid.
    """
    from ..export.pdf import document_to_pdf
    from ..io import iter_pages

    images = [pim.image for pim in iter_pages(source, max_side=1 << 30, max_pixels=max_pixels, dpi=pdf_dpi)]
    pages = [images[p.index] for p in doc.pages]
    if redact:
        from ..ner.redact import redact_image

        pages = [redact_image(image, page, redact, margin) for image, page in zip(pages, doc.pages)]
    data = document_to_pdf(doc, pages, dpi=_dpi(source, pdf_dpi))
    target = pdf_target(source, name or source.stem, out_dir)
    with atomic_path(target, suffix=".pdf") as tmp:
        Path(tmp).write_bytes(data)
    if not quiet:
        note(f"wrote {target}")
    return target
