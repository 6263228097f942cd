"""Searchable PDF: each page image with an invisible text layer of what kocr read.

A PDF viewer shows the scan as it is, and searching, selecting or copying finds the words kocr
read where they are printed: every word is written in text render mode 3 (neither filled nor
stroked, PDF 32000-1 §9.3.6) at its quad — turned along the word's baseline, sized to the
quad's height and scaled horizontally to its width — so a selection covers the printed word.
Words follow reading order (:func:`~kocr_sdk.export.lines.reading_blocks`), so the text a PDF
tool extracts reads as :attr:`Document.text` does.

Built on fpdf2 (the ``pdf`` extra), which embeds a subset of a TrueType/OpenType font with a
``ToUnicode`` map — what makes the invisible text searchable and copyable as Unicode. It was
chosen over pikepdf (a fine PDF editor, but text would mean writing content-stream operators
by hand) and reportlab (whose TrueType subsets cannot embed the CFF-outlined CJK fonts many
systems have, such as Noto CJK); fpdf2 is pure Python and needs only fontTools and Pillow,
which kocr already depends on.

The text layer needs a font that has glyphs for the text, since a viewer selects and extracts
through them (they are never drawn). None ships with these libraries that covers Hangul, so an
installed one is used (:func:`kocr_sdk.fonts.discover_fonts`): the sans face that covers most of
the document's characters, plus further faces for what it lacks. When no installed face has
glyphs for the document's Hangul, Latin letters or digits, writing fails with a
:class:`~kocr_sdk.errors.KocrConfigError` that says what to install (on Debian/Ubuntu
``fonts-nanum`` or ``fonts-noto-cjk``), or pass ``font=`` a font file; other characters no face
has (an emoji) are left out of the text layer with a warning.
"""

from __future__ import annotations

import io
import logging
import math
import unicodedata
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np
from PIL import Image, ImageOps

from ..errors import KocrConfigError, KocrInputError
from .lines import reading_blocks

if TYPE_CHECKING:  # the document model calls into this module: its names are for typing only
    from ..document import Document, Page, Word
    from ..fonts import FontFace

PDF_HINT = "install the PDF extra: pip install 'kocr-sdk[pdf]' (fpdf2)"
FONT_HINT = ("install a font with Hangul, Latin and digits (Debian/Ubuntu: apt-get install fonts-nanum, or "
             "fonts-noto-cjk), or pass font= the path of one")
#: Resolution assumed for an image that does not say its own: a scan's usual 300 dpi.
DEFAULT_DPI = 300.0


def require_fpdf() -> Any:
    """The fpdf2 module, or a :class:`KocrConfigError` saying how to install it."""
    try:
        import fpdf
    except ImportError:
        raise KocrConfigError(f"writing a searchable PDF needs fpdf2: {PDF_HINT}") from None
    return fpdf


def _essential(ch: str) -> bool:
    """Characters a text layer must not lose: Hangul, Latin letters and digits."""
    name = unicodedata.name(ch, "")
    return name.startswith("HANGUL") or (ch.isascii() and ch.isalnum())


def text_layer_fonts(text: str) -> tuple[list[FontFace], set[str]]:
    """The installed faces that write ``text`` (first the main one, then those for what it lacks),
    and the characters none of them has.

    Raises :class:`KocrConfigError` when the text has Hangul, Latin letters or digits that no
    installed face has: a text layer without them would look searchable and find nothing.
    """
    from ..fonts import discover_fonts

    need = {ch for ch in text if not ch.isspace()}
    faces = [f for f in discover_fonts() if not f.handwriting and not f.italic]

    def rank(f: FontFace, wanted: set[str]) -> tuple:
        sans = any(k in f.family for k in ("Gothic", "Sans", "Dotum"))
        return (-sum(f.covers(c) for c in wanted), not sans, abs(f.weight - 400), "Mono" in f.family, f.family, f.index)

    chosen: list[FontFace] = []
    missing = set(need)
    while missing and faces:
        best = min(faces, key=lambda f: rank(f, missing))
        covered = {c for c in missing if best.covers(c)}
        if not covered:
            break
        chosen.append(best)
        faces.remove(best)
        missing -= covered
    lost = sorted(c for c in missing if _essential(c))
    if lost:
        raise KocrConfigError(f"no installed font has glyphs for {''.join(lost[:20])!r}, which the PDF's text layer "
                              f"needs: {FONT_HINT}")
    return chosen, missing


def _image(image: Any, page: Page) -> tuple[Image.Image, float | None]:
    """The page image as a PIL image the PDF can hold, and the resolution it says it has (if any)."""
    if isinstance(image, (str, Path)):
        try:
            with Image.open(image) as im:
                # upright as kocr read it: a phone photo's EXIF orientation applied
                pil = ImageOps.exif_transpose(im)
                pil.load()
        except (OSError, ValueError) as exc:
            raise KocrInputError(f"{image}: not an image the PDF can hold ({exc})") from None
    elif isinstance(image, Image.Image):
        pil = image
    elif isinstance(image, np.ndarray):
        if image.ndim not in (2, 3) or image.dtype != np.uint8 or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
            raise KocrInputError(f"page {page.index}: a page image array must be uint8 H×W, H×W×3 or H×W×4, "
                                 f"got {image.dtype} {image.shape}")
        pil = Image.fromarray(image[:, :, 0] if image.ndim == 3 and image.shape[2] == 1 else image)
    else:
        raise KocrInputError(f"page {page.index}: the page image must be a path, a PIL image or a numpy array, "
                             f"got {type(image).__name__}")
    w, h = pil.size
    if abs(w / h - page.width / page.height) > 0.02 * (page.width / page.height):
        raise KocrInputError(f"page {page.index}: the image is {w}×{h} pixels, but the page kocr read is "
                             f"{page.width}×{page.height}: pass the image that was read")
    dpi = pil.info.get("dpi")
    own = float(dpi[0]) * page.width / w if dpi and dpi[0] and dpi[0] > 1 else None
    if pil.mode not in ("RGB", "L"):
        pil = pil.convert("RGB")
    return pil, own


@contextmanager
def _quiet_font_logs() -> Iterator[None]:
    """fontTools reports every table it drops from a subset, and fpdf2 every glyph a font lacks: not news to a reader."""
    loggers = [logging.getLogger(name) for name in ("fontTools.subset", "fpdf.output")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _place(pdf: Any, word: Word, scale: float, ascent: float, descent: float) -> None:
    """Write ``word``'s text invisibly over its quad: along its top edge, as tall as the quad, as wide."""
    text = word.text or ""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = [(x * scale, y * scale) for x, y in word.quad]
    ux, uy = ((x1 - x0) + (x2 - x3)) / 2, ((y1 - y0) + (y2 - y3)) / 2
    width = math.hypot(ux, uy)
    height = (math.hypot(x3 - x0, y3 - y0) + math.hypot(x2 - x1, y2 - y1)) / 2
    if width <= 0 or height <= 0:
        return
    size = height / (ascent - descent)
    pdf.set_font_size(size)
    pdf.set_stretching(100)
    natural = pdf.get_string_width(text)
    if natural <= 0:
        return
    pdf.set_stretching(100 * width / natural)
    # the baseline starts one ascent below the quad's top-left corner, square to the reading direction
    nx, ny = -uy / width, ux / width
    bx, by = x0 + nx * ascent * size, y0 + ny * ascent * size
    angle = -math.degrees(math.atan2(uy, ux))  # fpdf2 turns counter-clockwise as seen; image y runs down
    if abs(angle) < 0.05:
        pdf.text(bx, by, text)
        return
    with pdf.rotation(angle, bx, by):
        pdf.text(bx, by, text)


def document_to_pdf(doc: Document, images: Sequence[Any], dpi: float | None = None,
                    font: str | Path | None = None, jpeg_quality: int | None = None) -> bytes:
    """The document as a searchable PDF: one PDF page per page, its image under an invisible text layer.

    ``images`` holds each page's image, in the order of ``doc.pages``: the path of an image file
    (its first frame), a PIL image or a numpy array (RGB or grey) — the image that was read (a
    smaller copy of it will do). ``dpi``
    sets the printed size (pixels of the page as read per inch); without it, an image that says
    its resolution keeps it, and others are taken as :data:`DEFAULT_DPI`. ``font`` is a font file
    for the text layer instead of the installed ones kocr picks. The image is stored losslessly
    unless ``jpeg_quality`` (1–95) asks for JPEG, which makes photographs far smaller.
    """
    fpdf = require_fpdf()
    if len(images) != len(doc.pages):
        raise KocrInputError(f"a searchable PDF needs one image per page: the document has {len(doc.pages)} "
                             f"pages, {len(images)} images were given")
    if dpi is not None and not (18 <= dpi <= 2400):
        raise KocrInputError(f"dpi must be between 18 and 2400, got {dpi}")
    if jpeg_quality is not None and not (1 <= jpeg_quality <= 95):
        raise KocrInputError(f"jpeg_quality must be between 1 and 95, got {jpeg_quality}")
    text = "".join(w.text or "" for w in doc.words())

    pdf = fpdf.FPDF(unit="pt")
    pdf.set_creator(f"kocr {doc.kocr_version}")
    pdf.set_margin(0)
    pdf.set_auto_page_break(False)
    families: list[str] = []
    if text.strip():
        if font is not None:
            path = Path(font)
            if not path.is_file():
                raise KocrInputError(f"font {font}: no such file")
            try:
                pdf.add_font("kocr0", fname=str(path))
            except Exception as exc:  # fpdf2/fontTools raise many kinds on a file that is not a font
                raise KocrInputError(f"font {font}: not a font fpdf2 can embed ({type(exc).__name__}: {exc})") from None
            families = ["kocr0"]
        else:
            faces, lost = text_layer_fonts(text)
            if lost:
                warnings.warn(f"no installed font has glyphs for {''.join(sorted(lost))!r}: they are left out of the "
                              "PDF's text layer", stacklevel=2)
            for k, face in enumerate(faces):
                pdf.add_font(f"kocr{k}", fname=face.path, collection_font_number=face.index)
                families.append(f"kocr{k}")
        pdf.set_font(families[0], size=10)
        if len(families) > 1:
            pdf.set_fallback_fonts(families[1:])
        ascent, descent = pdf.current_font.desc.ascent / 1000, pdf.current_font.desc.descent / 1000
        if ascent - descent <= 0:  # a font with no vertical metrics: the em square
            ascent, descent = 0.8, -0.2

    for page, image in zip(doc.pages, images):
        pil, own_dpi = _image(image, page)
        scale = 72.0 / (dpi or own_dpi or DEFAULT_DPI)  # points per pixel of the page as read
        w_pt, h_pt = page.width * scale, page.height * scale
        pdf.add_page(format=(w_pt, h_pt))
        if jpeg_quality is not None:
            buf = io.BytesIO()
            pil.save(buf, format="JPEG", quality=jpeg_quality)
            buf.seek(0)
            pdf.image(buf, x=0, y=0, w=w_pt, h=h_pt)
        else:
            pdf.image(pil, x=0, y=0, w=w_pt, h=h_pt)
        if not families:
            continue
        pdf.text_mode = fpdf.enums.TextMode.INVISIBLE
        for block in reading_blocks(page):
            for line in block.lines:
                for word in line.words:
                    if word.text and word.text.strip():
                        _place(pdf, word, scale, ascent, descent)
        pdf.set_stretching(100)
        pdf.text_mode = fpdf.enums.TextMode.FILL
    with _quiet_font_logs():
        return bytes(pdf.output())
