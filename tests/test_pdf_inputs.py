"""PDFs (rasterised at a dpi, text layers reported or taken), multi-page TIFFs, globs."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PIL import Image

from kocr_sdk import Engine, KocrInputError
from kocr_sdk.io import count_pages, expand_inputs, iter_pages

from .pdfs import encrypt, make_pdf

pytest.importorskip("pypdfium2")


@pytest.fixture
def pdf(tmp_path):
    path = tmp_path / "doc.pdf"
    path.write_bytes(make_pdf(["Hello World 42", None, "x"]))
    return path


def test_pdf_pages_are_rasterised_at_the_dpi(pdf):
    assert count_pages(pdf) == 3
    pages = list(iter_pages(pdf, dpi=72))
    assert [p.source for p in pages] == [f"{pdf}#page={i}" for i in (1, 2, 3)]
    assert pages[0].image.shape == (421, 298, 3)  # A6 in points = pixels at 72 dpi
    [page] = iter_pages(pdf, dpi=144, start=1, stop=2)
    assert page.image.shape == (842, 596, 3) and page.source.endswith("#page=2")
    assert page.image.min() < 200  # the grey box is drawn


def test_text_layer_is_reported_and_can_be_taken_as_is(pdf):
    engine = Engine(load_entrypoints=False, detector="none", pdf_dpi=72)
    doc = engine.read(pdf)
    assert [p.pdf_text_layer for p in doc.pages] == [True, False, True]
    assert doc.pages[0].words == []  # reported only: the pixels are read (here by no detector)
    doc = Engine(load_entrypoints=False, pdf_dpi=72, pdf_text_layer="use").read(pdf)
    first = doc.pages[0]
    assert [w.text for w in first.words] == ["Hello", "World", "42"]
    assert [w.script for w in first.words] == ["latin", "latin", "digits"]
    assert first.words[0].recognizer == "pdf-text-layer" and len(first.words[0].chars) == 5
    x0, y0, x1, y1 = first.words[0].box  # baseline 60 pt below the top, 18 pt type
    assert 25 < x0 < 35 and 40 < y0 < 50 and 55 < y1 < 65 and x1 > x0 + 30
    assert {r.stage: r.status for r in first.stages}["detector"] == "skipped"
    assert doc.pages[1].pdf_text_layer is False and doc.pages[2].words[0].text == "x"


def test_non_pdf_pages_say_nothing_about_a_text_layer():
    assert Engine(load_entrypoints=False).read(np.full((50, 50, 3), 255, np.uint8)).pages[0].pdf_text_layer is None


@pytest.mark.parametrize("data, match", [
    (b"%PDF-1.4 this is no pdf", "not a PDF kocr can read"),
    (make_pdf([]), "the PDF has no pages"),
    (encrypt(make_pdf(["a"])), "the PDF is encrypted"),
])
def test_corrupt_empty_and_encrypted_pdfs_are_input_errors(tmp_path, data, match):
    path = tmp_path / "bad.pdf"
    path.write_bytes(data)
    with pytest.raises(KocrInputError, match=match):
        list(iter_pages(path))
    with pytest.raises(KocrInputError, match=match):
        count_pages(path)
    with pytest.raises(KocrInputError, match=match):
        list(iter_pages(data))


def test_one_pdfs_error_does_not_leak_into_the_next_files_message(tmp_path):
    """PDFium keeps its last error across documents; each file must still get its own reason."""
    files = {"locked.pdf": encrypt(make_pdf(["a"])), "empty.pdf": make_pdf([]), "junk.pdf": b"%PDF-1.4 junk",
             "ok.pdf": make_pdf(["a"])}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    expected = {"locked.pdf": "encrypted", "empty.pdf": "has no pages", "junk.pdf": "not a PDF kocr can read"}
    for order in (["locked.pdf", "empty.pdf", "junk.pdf", "ok.pdf", "empty.pdf"],
                  ["junk.pdf", "empty.pdf", "locked.pdf", "junk.pdf", "locked.pdf", "empty.pdf"]):
        for name in order:
            if name == "ok.pdf":
                assert len(list(iter_pages(tmp_path / name, dpi=36))) == 1
                continue
            with pytest.raises(KocrInputError) as info:
                list(iter_pages(tmp_path / name))
            message = str(info.value)
            assert expected[name] in message, (name, message)
            assert "Success" not in message
            others = [m for n, m in expected.items() if n != name]
            assert not any(m in message for m in others), (name, message)


def test_pdf_bytes_are_read_too():
    pages = list(iter_pages(make_pdf(["a"]), dpi=36))
    assert pages[0].source == "<bytes>#page=1" and pages[0].text_layer.present


def test_missing_pdf_extra_names_it(pdf, monkeypatch):
    monkeypatch.setitem(sys.modules, "pypdfium2", None)
    with pytest.raises(KocrInputError, match=r"kocr-sdk\[pdf\]"):
        list(iter_pages(pdf))


def test_multipage_tiff_pages_and_ranges(tmp_path):
    frames = [Image.new("RGB", (40 + 10 * i, 30), (i * 60,) * 3) for i in range(3)]
    path = tmp_path / "scan.tiff"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    assert count_pages(path) == 3
    assert [p.width for p in iter_pages(path)] == [40, 50, 60]
    assert [p.source for p in iter_pages(path, start=1, stop=2)] == [f"{path}#page=2"]


def test_directories_and_globs_expand(tmp_path, pdf):
    Image.new("RGB", (20, 20)).save(tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("no")
    sub = tmp_path / "sub"
    sub.mkdir()
    Image.new("RGB", (20, 20)).save(sub / "b.png")
    assert [p.name for p in expand_inputs([tmp_path])] == ["a.png", "doc.pdf"]
    assert [p.name for p in expand_inputs([tmp_path], recursive=True)] == ["a.png", "doc.pdf", "b.png"]
    assert [p.name for p in expand_inputs([str(tmp_path / "**" / "*.png")])] == ["a.png", "b.png"]
    assert len(list(iter_pages(str(tmp_path / "*.pdf")))) == 3
    with pytest.raises(KocrInputError, match="no file matches"):
        expand_inputs([str(tmp_path / "*.jpg")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(KocrInputError, match="no image files"):
        expand_inputs([tmp_path / "empty"])


def test_a_500_page_pdf_is_read_page_by_page(tmp_path):
    """Counting does not render, and a range renders only its pages: a batch task of a long PDF
    holds one page's pixels at a time."""
    path = tmp_path / "long.pdf"
    path.write_bytes(make_pdf([None] * 499 + ["last"], size=(60, 80)))
    assert count_pages(path) == 500
    pages = iter_pages(path, dpi=36, start=498)
    first = next(pages)
    assert first.source.endswith("#page=499") and first.text_layer.present is False
    assert [p.source[-8:] for p in pages] == ["page=500"]
