"""hOCR export (https://kba.github.io/hocr-spec/1.2/): the HTML microformat of OCR results.

Blocks become ``ocr_carea``/``ocr_par``, lines ``ocr_line``, words ``ocrx_word`` with ``bbox`` and
``x_wconf``. Words that no clusterer placed in a line are written one per line, in detector order,
so that nothing recognised is left out of the export.
"""

from __future__ import annotations

from html import escape

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the document model calls into this module: its names are for typing only
    from ..document import Document, Page, Word


def _bbox(box) -> str:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    return f"bbox {x0} {y0} {x1} {y1}"


def _word(word: Word) -> str:
    conf = word.text_confidence if word.text_confidence is not None else word.confidence
    lang = {"hangul": ' lang="ko"', "latin": ' lang="en"'}.get(word.script or "", "")
    return (
        f'<span class="ocrx_word" id="{escape(word.id)}"{lang} '
        f'title="{_bbox(word.box)}; x_wconf {int(round(conf * 100))}">{escape(word.text or "")}</span>'
    )


def _page(page: Page) -> str:
    parts = [
        f'<div class="ocr_page" id="page_{page.index}" title="image &quot;{escape(page.source or "")}&quot;; '
        f'bbox 0 0 {page.width} {page.height}; ppageno {page.index}; textangle {page.orientation}">'
    ]
    by_id = {w.id: w for w in page.words}
    placed: set[str] = set()
    for block in page.blocks:
        parts.append(f'<div class="ocr_carea" id="{escape(block.id)}" title="{_bbox(block.box)}">')
        parts.append(f'<p class="ocr_par" title="{_bbox(block.box)}">')
        for line in block.lines:
            parts.append(f'<span class="ocr_line" id="{escape(line.id)}" title="{_bbox(line.box)}">')
            parts.append(" ".join(_word(by_id[i]) for i in line.word_ids if i in by_id))
            placed.update(line.word_ids)
            parts.append("</span>")
        parts.append("</p></div>")
    for word in page.words:
        if word.id not in placed:
            parts.append(f'<span class="ocr_line" title="{_bbox(word.box)}">{_word(word)}</span>')
    parts.append("</div>")
    return "\n".join(parts)


def document_to_hocr(doc: Document) -> str:
    """The whole document as one hOCR XHTML string."""
    body = "\n".join(_page(p) for p in doc.pages)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="ko" lang="ko">\n<head>\n<title>kocr</title>\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />\n'
        f'<meta name="ocr-system" content="kocr {escape(doc.kocr_version)}" />\n'
        '<meta name="ocr-capabilities" content="ocr_page ocr_carea ocr_par ocr_line ocrx_word" />\n'
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
