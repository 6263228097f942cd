"""hOCR export (https://kba.github.io/hocr-spec/1.2/): the HTML microformat of OCR results.

Blocks become ``ocr_carea``/``ocr_par``, lines ``ocr_line``, words ``ocrx_word`` with ``bbox``,
``x_wconf`` (0–100) and, where each character box holds its letter, ``x_confs`` (one 0–100
confidence per character) and one ``ocrx_cinfo`` span per character with its ``bbox`` and
``x_conf``. The character spans also carry ``x_bboxes``, the property Tesseract writes on them,
so tools written against Tesseract's character output read kocr's. Words that no clusterer
placed in a line are written one per line, in detector order, so that nothing recognised is
left out of the export.

The XHTML is built with :mod:`xml.etree.ElementTree`, which escapes text and attributes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # the document model calls into this module: its names are for typing only
    from ..document import Char, Document, Page, Word

XHTML_NS = "http://www.w3.org/1999/xhtml"
CAPABILITIES = "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrx_cinfo ocrp_wconf ocrp_lang"
_LANGS = {"hangul": "ko", "latin": "en"}


def _ints(box: Sequence[float]) -> str:
    return " ".join(str(int(round(v))) for v in box)


def _pct(value: float) -> str:
    return f"{value * 100:.2f}"


def word_chars(word: Word) -> list[Char] | None:
    """The word's character boxes when each holds the letter of the word's text at its place
    (spaces have no box), else None: then the boxes cannot be paired with the text."""
    letters = [c for c in (word.text or "") if not c.isspace()]
    if not letters or len(word.chars) != len(letters) or [c.text for c in word.chars] != letters:
        return None
    return list(word.chars)


def _word(parent: ET.Element, word: Word) -> ET.Element:
    conf = word.text_confidence if word.text_confidence is not None else word.confidence
    chars = word_chars(word)
    title = f"bbox {_ints(word.box)}; x_wconf {int(round(conf * 100))}"
    if chars is not None:
        title += "; x_confs " + " ".join(_pct(c.confidence) for c in chars)
    attrib = {"class": "ocrx_word", "id": word.id, "title": title}
    if word.script in _LANGS:
        attrib["lang"] = _LANGS[word.script]
    el = ET.SubElement(parent, "span", attrib)
    if chars is None:
        el.text = word.text or ""
        return el
    pending = iter(chars)
    last: ET.Element | None = None
    for ch in word.text or "":
        if ch.isspace():  # a space inside a word's text (a line crop read whole) stays in the text
            if last is None:
                el.text = (el.text or "") + ch
            else:
                last.tail = (last.tail or "") + ch
            continue
        c = next(pending)
        last = ET.SubElement(el, "span", {
            "class": "ocrx_cinfo",
            "title": f"bbox {_ints(c.box)}; x_bboxes {_ints(c.box)}; x_conf {_pct(c.confidence)}",
        })
        last.text = c.text
    return el


def _line(parent: ET.Element, words: list[Word], box: Sequence[float], line_id: str | None) -> None:
    attrib = {"class": "ocr_line", "title": f"bbox {_ints(box)}"}
    if line_id is not None:
        attrib["id"] = line_id
    line = ET.SubElement(parent, "span", attrib)
    last = None
    for w in words:
        if last is not None:
            last.tail = " "
        last = _word(line, w)
    line.tail = "\n"


def _page(body: ET.Element, page: Page) -> None:
    source = (page.source or "").replace("\\", "\\\\").replace('"', '\\"')
    el = ET.SubElement(body, "div", {
        "class": "ocr_page", "id": f"page_{page.index}",
        "title": f'image "{source}"; bbox 0 0 {page.width} {page.height}; ppageno {page.index}; '
                 f"textangle {page.orientation}",
    })
    el.text = "\n"
    el.tail = "\n"
    by_id = {w.id: w for w in page.words}
    placed: set[str] = set()
    for block in page.blocks:
        area = ET.SubElement(el, "div", {"class": "ocr_carea", "id": block.id, "title": f"bbox {_ints(block.box)}"})
        area.tail = "\n"
        par = ET.SubElement(area, "p", {"class": "ocr_par", "title": f"bbox {_ints(block.box)}"})
        par.text = "\n"
        for line in block.lines:
            _line(par, [by_id[i] for i in line.word_ids if i in by_id], line.box, line.id)
            placed.update(line.word_ids)
    for word in page.words:
        if word.id not in placed:
            _line(el, [word], word.box, None)


def document_to_hocr(doc: Document) -> str:
    """The whole document as one hOCR XHTML string."""
    html = ET.Element("html", {"xmlns": XHTML_NS, "xml:lang": "ko", "lang": "ko"})
    html.text = "\n"
    head = ET.SubElement(html, "head")
    head.tail = "\n"
    ET.SubElement(head, "title").text = "kocr"
    for name, content in (("ocr-system", f"kocr {doc.kocr_version}"), ("ocr-capabilities", CAPABILITIES),
                          ("ocr-number-of-pages", str(len(doc.pages)))):
        ET.SubElement(head, "meta", {"name": name, "content": content})
    ET.SubElement(head, "meta", {"http-equiv": "Content-Type", "content": "text/html; charset=utf-8"})
    body = ET.SubElement(html, "body")
    body.text = "\n"
    for page in doc.pages:
        _page(body, page)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        + ET.tostring(html, encoding="unicode", short_empty_elements=False) + "\n"
    )
