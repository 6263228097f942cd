"""kocr's text-only PDF of one page, for OCRmyPDF's sandwich renderer.

OCRmyPDF grafts this PDF's page onto the scanned page, so it must hold the invisible text and
nothing visible, at the size of the page image at its resolution. kocr's writer
(:meth:`kocr_sdk.Document.to_pdf`) lays each word along its quad, turned and stretched with
it; it always draws a page image under the text, so it is given a small blank stand-in, which
is then taken out again.

Words of a line are written with a space after them. Why: a detector's word boxes can nearly
touch, and PDF readers that infer spaces from the gaps between words then join them
(``OCRmyPDFKorean``), so a phrase search would miss them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import pikepdf
from PIL import Image

if TYPE_CHECKING:
    from kocr_sdk import Document, Page

#: The blank stand-in image keeps the page's proportions with this many pixels on its short side.
STAND_IN_SHORT_SIDE = 100
#: OCRmyPDF writes the resolution into each page image; an image without one is taken as a scan's usual 300 dpi.
DEFAULT_DPI = 300.0


def image_dpi(path: Path) -> float:
    """The resolution recorded in the page image (its horizontal one: OCRmyPDF's are square)."""
    with Image.open(path) as im:
        dpi = im.info.get("dpi")
    return float(dpi[0]) if dpi and dpi[0] and dpi[0] > 1 else DEFAULT_DPI


def _stand_in(width: int, height: int) -> Image.Image:
    """A small white image with the page's proportions (kocr's writer checks them)."""
    k = max(1, min(width, height) // STAND_IN_SHORT_SIDE)
    return Image.new("L", (max(1, round(width / k)), max(1, round(height / k))), 255)


def spaced_words(page: Page) -> Page:
    """The page with a space after every word of a line but the last (see the module's docstring)."""
    from kocr_sdk.export.lines import reading_blocks

    last = {line.words[-1].id for block in reading_blocks(page) for line in block.lines if line.words}
    words = [w if w.id in last or not (w.text or "").strip() else w.model_copy(update={"text": w.text + " "})
             for w in page.words]
    return page.model_copy(update={"words": words})


def drop_images(data: bytes) -> bytes:
    """The PDF without its image XObjects and the operators that draw them."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            xobjects = page.resources.get("/XObject", {})
            images = {name for name, obj in xobjects.items() if obj.get("/Subtype") == "/Image"}
            if not images:
                continue
            kept = [(operands, op) for operands, op in pikepdf.parse_content_stream(page)
                    if not (str(op) == "Do" and str(operands[0]) in images)]
            page.Contents = pdf.make_stream(pikepdf.unparse_content_stream(kept))
            for name in images:
                del xobjects[name]
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def text_only_pdf(doc: Document, image: Path) -> bytes:
    """One PDF page the size of ``image`` at its resolution, holding ``doc``'s page as invisible text."""
    page = spaced_words(doc.pages[0])
    one = doc.model_copy(update={"pages": [page]})
    return drop_images(one.to_pdf([_stand_in(page.width, page.height)], dpi=image_dpi(image)))
