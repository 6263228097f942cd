"""PDF pages as page images (pypdfium2, the ``[pdf]`` extra), one page at a time.

Scanned archives arrive as PDFs of hundreds of pages, so a page is rasterised only when it is
read and dropped after: a 500-page PDF never holds more than one page's pixels. A page whose PDF
already carries text (a "born-digital" page, or a scan an earlier OCR gave a text layer) is
reported as such, and its words can be taken from that layer instead of being read again
(``EngineConfig.pdf.text_layer``).

pdfium coordinates are PDF points (1/72 inch) with the origin at the bottom left; the page
images and the text-layer boxes here are in pixels at ``dpi`` with the origin at the top left,
like every other input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..errors import KocrInputError

PDF_MAGIC = b"%PDF"
EXTRA_HINT = 'install the PDF extra: pip install "kocr-sdk[pdf]" (pypdfium2)'


@dataclass
class TextLayerWord:
    """One word of a PDF text layer: its text, its quad and its characters' quads, in pixels."""

    text: str
    quad: tuple[tuple[float, float], ...]
    char_quads: list[tuple[tuple[float, float], ...]] = field(default_factory=list)


@dataclass
class TextLayer:
    """What a PDF page's own text layer holds (empty ``words`` when it has none)."""

    words: list[TextLayerWord]

    @property
    def present(self) -> bool:
        return bool(self.words)


def _pdfium():
    try:
        import pypdfium2
    except ImportError:
        raise KocrInputError(f"reading PDF files needs pypdfium2: {EXTRA_HINT}") from None
    return pypdfium2


def is_pdf(fp: Any) -> bool:
    """True when the file or bytes start with the PDF signature (suffixes lie; magic does not)."""
    if isinstance(fp, (bytes, bytearray, memoryview)):
        return bytes(fp[:4]) == PDF_MAGIC
    try:
        with open(fp, "rb") as fh:
            return fh.read(4) == PDF_MAGIC
    except OSError:
        return False


def _open(src: Any, source: str):
    pdfium = _pdfium()
    try:
        return pdfium.PdfDocument(src)
    except pdfium.PdfiumError:
        pass
    except OSError as exc:
        raise KocrInputError(f"{source}: cannot open: {exc}") from None
    raise KocrInputError(f"{source}: {_why_not_loaded(pdfium, src)}")


def _why_not_loaded(pdfium: Any, src: Any) -> str:
    """Why PDFium refused a document, asked again through its C API.

    pypdfium2's message cannot be trusted for this: it reads PDFium's last-error code, which only a
    failed load sets, for a document that *did* load but has no pages too; that code is then what
    an earlier file left behind ("Success" for the first file, "password" after an encrypted one).
    Here a null handle means the code is fresh, and a handle means the page tree is empty.
    """
    raw = pdfium.raw
    if isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
        handle = raw.FPDF_LoadMemDocument64(data, len(data), None)
    else:
        path = str(Path(src).expanduser().resolve()).encode("utf-8", errors="surrogateescape") + b"\0"
        handle = raw.FPDF_LoadDocument(path, None)
    if handle:
        try:
            pages = raw.FPDF_GetPageCount(handle)
        finally:
            raw.FPDF_CloseDocument(handle)
        return "the PDF has no pages" if pages < 1 else "not a PDF kocr can read (PDFium refused it)"
    code = raw.FPDF_GetLastError()
    if code == raw.FPDF_ERR_PASSWORD:
        return "the PDF is encrypted (password-protected); decrypt it first"
    if code == raw.FPDF_ERR_SECURITY:
        return "the PDF is encrypted with a security handler PDFium does not support; decrypt it first"
    if code == raw.FPDF_ERR_FILE:
        return "cannot read the file"
    reason = {raw.FPDF_ERR_FORMAT: "damaged or not a PDF"}.get(code, f"PDFium error {code}")
    return f"not a PDF kocr can read ({reason})"


def page_count(src: Any, source: str) -> int:
    """Pages in a PDF, from its page tree only (nothing is rendered)."""
    doc = _open(src, source)
    try:
        return len(doc)
    finally:
        doc.close()


def iter_pdf_pages(src: Any, source: str, dpi: float = 150, start: int = 0, stop: int | None = None,
                   max_pixels: int = 500_000_000) -> Iterator[tuple[Any, str, TextLayer]]:
    """``(PIL image, label, text layer)`` for pages ``start``..``stop`` (0-based, stop exclusive).

    Each page is rendered and closed before the next one opens; labels are ``file#page=N``
    (1-based, as PDF viewers number pages).
    """
    pdfium = _pdfium()
    doc = _open(src, source)
    try:
        n = len(doc)
        if n == 0:
            raise KocrInputError(f"{source}: the PDF has no pages")
        stop = n if stop is None else min(stop, n)
        scale = dpi / 72.0
        for i in range(start, stop):
            label = f"{source}#page={i + 1}"
            try:
                page = doc[i]
            except pdfium.PdfiumError as exc:
                raise KocrInputError(f"{label}: cannot open the page ({exc})") from None
            try:
                w_pt, h_pt = page.get_size()
                if w_pt * scale * h_pt * scale > max_pixels:
                    raise KocrInputError(
                        f"{label}: {w_pt:.0f}×{h_pt:.0f} pt at {dpi:g} dpi is above the limit of {max_pixels:,} pixels; "
                        "lower the dpi or raise max_pixels"
                    )
                layer = _text_layer(page, scale, h_pt)
                image = page.render(scale=scale).to_pil()
            except pdfium.PdfiumError as exc:
                raise KocrInputError(f"{label}: cannot render the page ({exc})") from None
            finally:
                page.close()
            yield image, label, layer
    finally:
        doc.close()


def _text_layer(page: Any, scale: float, height_pt: float) -> TextLayer:
    """Words of the page's text layer: characters grouped at whitespace, boxes from pdfium."""
    textpage = page.get_textpage()
    try:
        n = textpage.count_chars()
        if n <= 0:
            return TextLayer(words=[])
        text = textpage.get_text_range(0, n)
        words: list[TextLayerWord] = []
        current: list[tuple[str, tuple[float, float, float, float]]] = []

        def flush() -> None:
            if current:
                boxes = [b for _, b in current]
                x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
                x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
                words.append(TextLayerWord(text="".join(c for c, _ in current), quad=_quad((x0, y0, x1, y1)),
                                           char_quads=[_quad(b) for b in boxes]))
                current.clear()

        # get_text_range may return fewer characters than count_chars (generated ones); index by
        # the char index pdfium gives each box, and walk the text only as far as it goes.
        for i in range(min(n, len(text))):
            ch = text[i]
            if ch.isspace() or ch == "\x00":
                flush()
                continue
            left, bottom, right, top = textpage.get_charbox(i)
            box = (left * scale, (height_pt - top) * scale, right * scale, (height_pt - bottom) * scale)
            if box[2] <= box[0] or box[3] <= box[1]:
                box = (box[0], box[1], max(box[2], box[0] + 1), max(box[3], box[1] + 1))
            current.append((ch, box))
        flush()
        return TextLayer(words=words)
    finally:
        textpage.close()


def _quad(box: tuple[float, float, float, float]) -> tuple[tuple[float, float], ...]:
    x0, y0, x1, y1 = box
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
