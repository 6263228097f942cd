"""ALTO XML 4 export (https://www.loc.gov/standards/alto/): the layout-and-text format of libraries
and digitisation workflows (Goobi, Transkribus, eScriptorium, the OCR-D tools read it).

One ``Page`` per page of the Document, its ``PrintSpace`` the whole image, then ``TextBlock``/
``TextLine``/``String`` in reading order (:func:`~kocr_sdk.export.lines.reading_blocks`: the
clusterer's blocks and lines, then the words no line holds), with ``SP`` between the words of a
line. Measurements are pixels of the image as it was given (``MeasurementUnit`` ``pixel``), boxes
axis-aligned (``HPOS``/``VPOS``/``WIDTH``/``HEIGHT``), ``WC`` the word's confidence (0–1). Where
each character box holds its letter (:func:`~kocr_sdk.export.hocr.word_chars`), the ``String``
also has one ``Glyph`` per character with its box and ``GC``, the recogniser's probability.

IDs are made unique across the file (ALTO's are ``xsd:ID``): kocr's own id of the element, behind
the page's position in the Document (``p0_p0-w3``), so a String still says which word it is.
``sourceImageInformation/fileName`` is written when every page comes from one file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Sequence

from .hocr import word_chars
from .lines import reading_blocks

if TYPE_CHECKING:  # the document model calls into this module: its names are for typing only
    from ..document import Document, Page, Word

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_VERSION = "4.2"
SCHEMA_LOCATION = f"{ALTO_NS} http://www.loc.gov/standards/alto/v4/alto-4-2.xsd"
_LANGS = {"hangul": "ko", "latin": "en"}
_NOT_NAME = re.compile(r"[^\w.-]")


def _q(tag: str) -> str:
    return f"{{{ALTO_NS}}}{tag}"


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _pos(box: Sequence[float]) -> dict[str, str]:
    x0, y0, x1, y1 = box
    return {"HPOS": _num(x0), "VPOS": _num(y0), "WIDTH": _num(max(0.0, x1 - x0)), "HEIGHT": _num(max(0.0, y1 - y0))}


def _conf(v: float) -> str:
    return f"{min(1.0, max(0.0, v)):.4f}".rstrip("0").rstrip(".") or "0"


class _Ids:
    """xsd:ID values: kocr's id behind the page's position, made an XML name and unique."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, page_pos: int, kind: str, own: str | None, n: int) -> str:
        base = f"p{page_pos}_{_NOT_NAME.sub('_', own)}" if own else f"p{page_pos}_{kind}{n}"
        out, k = base, 1
        while out in self.seen:
            out, k = f"{base}_{k}", k + 1
        self.seen.add(out)
        return out


def _string(line: ET.Element, word: Word, ident: str) -> None:
    conf = word.text_confidence if word.text_confidence is not None else word.confidence
    attrib = {"ID": ident, "CONTENT": word.text or "", **_pos(word.box), "WC": _conf(conf)}
    if word.script in _LANGS:
        attrib["LANG"] = _LANGS[word.script]
    el = ET.SubElement(line, _q("String"), attrib)
    chars = word_chars(word)
    # a Glyph is one character at its position in CONTENT: only for words without spaces inside
    if chars is not None and not any(ch.isspace() for ch in word.text or "") and all(len(c.text or "") == 1 for c in chars):
        for c in chars:
            ET.SubElement(el, _q("Glyph"), {"CONTENT": c.text or "", "GC": _conf(c.confidence), **_pos(c.box)})


def _page(layout: ET.Element, page: Page, pos: int, ids: _Ids) -> None:
    el = ET.SubElement(layout, _q("Page"), {
        "ID": f"page_{pos}", "PHYSICAL_IMG_NR": str(pos + 1), "WIDTH": str(page.width), "HEIGHT": str(page.height),
    })
    space = ET.SubElement(el, _q("PrintSpace"), {"HPOS": "0", "VPOS": "0", "WIDTH": str(page.width),
                                                 "HEIGHT": str(page.height)})
    n_words = 0
    for b, block in enumerate(reading_blocks(page)):
        lines = [(line, [w for w in line.words if w.text]) for line in block.lines]
        lines = [(line, words) for line, words in lines if words]  # a TextLine holds at least one String
        if not lines:
            continue
        tb = ET.SubElement(space, _q("TextBlock"), {"ID": ids(pos, "block", block.id, b), **_pos(block.box)})
        for k, (line, words) in enumerate(lines):
            tl = ET.SubElement(tb, _q("TextLine"), {"ID": ids(pos, f"block{b}_line", line.id, k), **_pos(line.box)})
            for j, word in enumerate(words):
                if j:
                    prev = words[j - 1].box
                    gap = word.box[0] - prev[2]
                    sp = {"HPOS": _num(prev[2]), "VPOS": _num(min(prev[1], word.box[1])), "WIDTH": _num(gap)} if gap > 0 else {}
                    ET.SubElement(tl, _q("SP"), sp)
                _string(tl, word, ids(pos, "word", word.id, n_words))
                n_words += 1


def document_to_alto(doc: Document) -> str:
    """The whole document as one ALTO 4 XML string (UTF-8 declared)."""
    ET.register_namespace("", ALTO_NS)
    ET.register_namespace("xsi", XSI_NS)
    root = ET.Element(_q("alto"), {f"{{{XSI_NS}}}schemaLocation": SCHEMA_LOCATION, "SCHEMAVERSION": SCHEMA_VERSION})
    desc = ET.SubElement(root, _q("Description"))
    ET.SubElement(desc, _q("MeasurementUnit")).text = "pixel"
    sources = {p.source for p in doc.pages}
    if len(sources) == 1 and (source := sources.pop()) and not source.startswith("<"):
        info = ET.SubElement(desc, _q("sourceImageInformation"))
        ET.SubElement(info, _q("fileName")).text = source
    step = ET.SubElement(desc, _q("Processing"), {"ID": "kocr"})
    ET.SubElement(step, _q("processingCategory")).text = "contentGeneration"
    software = ET.SubElement(step, _q("processingSoftware"))
    ET.SubElement(software, _q("softwareName")).text = "kocr"
    ET.SubElement(software, _q("softwareVersion")).text = doc.kocr_version
    layout = ET.SubElement(root, _q("Layout"))
    ids = _Ids()
    for pos, page in enumerate(doc.pages):
        _page(layout, page, pos, ids)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
