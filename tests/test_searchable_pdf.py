"""Searchable PDF: the page image under an invisible text layer whose text is what kocr read, in
reading order, each word placed over its box (checked with pypdfium2's text extraction)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from kocr_sdk.document import Document
from kocr_sdk.errors import KocrConfigError, KocrInputError
from kocr_sdk.export.lines import reading_blocks

from .builders import page_of, skewed, turned
from .conftest import WidthScript
from .pdfs import make_pdf
from .test_engine import engine

pdfium = pytest.importorskip("pypdfium2")
pytest.importorskip("fpdf")


@pytest.fixture(autouse=True)
def _needs_a_hangul_font():
    from kocr_sdk.export.pdf import text_layer_fonts

    try:
        text_layer_fonts("한국어 Latin 0123")
    except KocrConfigError as exc:
        pytest.skip(str(exc))


def korean_and_latin_document() -> Document:
    page = page_of([("한국어", (10, 10, 110, 40)), ("Latin", (130, 10, 200, 40)), ("2024년", (10, 60, 150, 90)),
                    ("kocr", (170, 60, 280, 90))], width=300, height=120)
    pages = [page, turned(page, 90).model_copy(update={"index": 1}), skewed(page, 8).model_copy(update={"index": 2})]
    return Document(kocr_version="0.1.0", pages=pages)


def _white(page) -> np.ndarray:
    return np.full((page.height, page.width, 3), 255, np.uint8)


def _chars(pdf_page) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Every non-space character of the page's text layer with its box in points, origin top left."""
    tp = pdf_page.get_textpage()
    height = pdf_page.get_height()
    out = []
    for i in range(tp.count_chars()):
        ch = tp.get_text_range(i, 1)
        if ch.isspace():
            continue
        left, bottom, right, top = tp.get_charbox(i)
        out.append((ch, (left, height - top, right, height - bottom)))
    return out


def assert_words_lie_in_their_boxes(page, pdf_page, dpi: float) -> None:
    words = [w for b in reading_blocks(page) for line in b.lines for w in line.words if w.text and w.text.strip()]
    expected = [(ch, w) for w in words for ch in w.text if not ch.isspace()]
    got = _chars(pdf_page)
    assert [c for c, _ in got] == [c for c, _ in expected]
    px = dpi / 72  # pixels of the page per point
    for (ch, (x0, y0, x1, y1)), (_, word) in zip(got, expected):
        bx0, by0, bx1, by1 = word.box
        tol = 2.0
        assert bx0 - tol <= x0 * px and x1 * px <= bx1 + tol, (ch, word.text, (x0 * px, x1 * px), word.box)
        assert by0 - tol <= y0 * px and y1 * px <= by1 + tol, (ch, word.text, (y0 * px, y1 * px), word.box)


def test_text_layer_reads_as_the_document_and_covers_each_word():
    doc = korean_and_latin_document()
    data = doc.to_pdf([_white(p) for p in doc.pages], dpi=150)
    pdf = pdfium.PdfDocument(data)
    assert len(pdf) == 3
    texts = []
    for page, pdf_page in zip(doc.pages, pdf):
        assert pdf_page.get_size() == pytest.approx((page.width * 72 / 150, page.height * 72 / 150))
        kinds = [obj.type for obj in pdf_page.get_objects()]
        assert kinds.count(pdfium.raw.FPDF_PAGEOBJ_IMAGE) == 1  # the page image, under the text
        texts.append(pdf_page.get_textpage().get_text_range())
        assert_words_lie_in_their_boxes(page, pdf_page, 150)
    assert [t.split() for t in texts] == [p.text.split() for p in doc.pages]


def test_text_is_invisible():
    doc = korean_and_latin_document()
    doc.pages = doc.pages[:1]
    pdf = pdfium.PdfDocument(doc.to_pdf([_white(doc.pages[0])], dpi=72))
    rendered = np.asarray(pdf[0].render(scale=1).to_pil().convert("L"))
    assert rendered.min() >= 250  # a white page stays white: the text is there only to find and select


def test_page_size_follows_the_image_resolution_and_jpeg_is_smaller(tmp_path):
    doc = korean_and_latin_document()
    doc.pages = doc.pages[:1]
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 255, (120, 300, 3), dtype=np.uint8))
    photo.info["dpi"] = (200, 200)
    lossless = doc.to_pdf([photo])
    assert pdfium.PdfDocument(lossless)[0].get_size() == pytest.approx((300 * 72 / 200, 120 * 72 / 200))
    assert len(doc.to_pdf([photo], jpeg_quality=60)) < len(lossless)
    path = tmp_path / "page.png"
    photo.save(path, dpi=(100, 100))
    assert pdfium.PdfDocument(doc.to_pdf([path]))[0].get_size() == pytest.approx((216, 86.4), abs=0.05)


def test_bad_images_are_clear_errors():
    doc = korean_and_latin_document()
    with pytest.raises(KocrInputError, match="one image per page"):
        doc.to_pdf([_white(doc.pages[0])])
    with pytest.raises(KocrInputError, match="pass the image that was read"):
        doc.to_pdf([np.zeros((300, 300, 3), np.uint8)] * 3)
    with pytest.raises(KocrInputError, match="must be a path, a PIL image or a numpy array"):
        doc.to_pdf([b"png bytes"] * 3)


def test_without_fpdf2_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "fpdf", None)  # as if fpdf2 were not installed
    doc = korean_and_latin_document()
    with pytest.raises(KocrConfigError, match=r"kocr-sdk\[pdf\]"):
        doc.to_pdf([_white(p) for p in doc.pages])


def test_without_a_hangul_font_the_error_says_what_to_install(monkeypatch):
    from kocr_sdk import fonts

    monkeypatch.setattr(fonts, "discover_fonts", lambda *a: ())
    doc = korean_and_latin_document()
    with pytest.raises(KocrConfigError, match="fonts-nanum"):
        doc.to_pdf([_white(p) for p in doc.pages])


def test_the_product_imports_without_the_pdf_writer():
    code = ("import sys; import kocr_sdk, kocr_sdk.export, kocr_sdk.document, kocr_sdk.cli.main; "
            "assert 'fpdf' not in sys.modules, 'fpdf imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# --- kocr read --format pdf ----------------------------------------------------------------------

@pytest.fixture
def cli_engine(fake_plugin, monkeypatch):
    from kocr_sdk.cli import main

    WidthScript.table = {96: {"latin": 0.99, "hangul": 0.01}}  # the second word is Latin ("AB")
    monkeypatch.setattr(main, "_engine", lambda *a: engine([fake_plugin]))
    return main.cli


def test_read_format_pdf_writes_a_pdf_whose_text_is_the_text_format(cli_engine, tmp_path):
    path = tmp_path / "page.png"
    Image.fromarray(np.full((100, 200, 3), 255, np.uint8)).save(path, dpi=(144, 144))
    result = CliRunner().invoke(cli_engine, ["read", str(path), "--format", "pdf", "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    text = CliRunner().invoke(cli_engine, ["read", str(path), "--format", "text", "-q"]).stdout
    assert "AB" in text and "가나" in text
    pdf = pdfium.PdfDocument(tmp_path / "out" / "page.pdf")
    assert pdf[0].get_size() == pytest.approx((100, 50), abs=0.05)  # 200×100 pixels at 144 dpi (PNG rounds it)
    extracted = pdf[0].get_textpage().get_text_range()
    assert extracted.split() == text.split()
    doc = Document.model_validate_json(CliRunner().invoke(cli_engine, ["read", str(path), "-q"]).stdout)
    assert_words_lie_in_their_boxes(doc.pages[0], pdf[0], 144)


def test_read_format_pdf_of_a_pdf_keeps_its_page_size_and_never_overwrites_it(cli_engine, tmp_path):
    pytest.importorskip("pypdfium2")
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(make_pdf([None], size=(298, 421)))
    result = CliRunner().invoke(cli_engine, ["read", str(scan), "--format", "pdf"])
    assert result.exit_code == 0, result.output
    assert scan.read_bytes() == make_pdf([None], size=(298, 421))
    out = pdfium.PdfDocument(tmp_path / "scan.ocr.pdf")
    assert out[0].get_size() == pytest.approx((298, 421), abs=0.5)
    assert out[0].get_textpage().get_text_range().split() == ["가나", "AB", "가나"]
    assert "wrote" in result.stderr


def test_read_format_pdf_without_fpdf2_fails_before_reading(monkeypatch, tmp_path):
    from kocr_sdk.cli import main

    monkeypatch.setitem(sys.modules, "fpdf", None)
    monkeypatch.setattr(main, "_engine", lambda *a: pytest.fail("read a page it could not write"))
    path = tmp_path / "page.png"
    Image.fromarray(np.full((100, 200, 3), 255, np.uint8)).save(path)
    result = CliRunner().invoke(main.cli, ["read", str(path), "--format", "pdf"])
    assert result.exit_code == 1
    assert "fpdf2" in result.stderr and "kocr-sdk[pdf]" in result.stderr
