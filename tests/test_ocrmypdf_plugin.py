"""The OCRmyPDF plugin (plugins/ocrmypdf-kocr): ``ocrmypdf --plugin ocrmypdf_kocr`` makes a scanned
PDF searchable with kocr's reading. The end-to-end test runs the real ``ocrmypdf`` program with
kocr's shipped models; the others check the plugin's parts with fakes, without reading a page."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from kocr_sdk.document import Document
from kocr_sdk.errors import KocrConfigError

from .builders import page_of, row, turned

pytest.importorskip("ocrmypdf", reason="ocrmypdf is not installed (`make setup` installs it with plugins/ocrmypdf-kocr)")
plugin = pytest.importorskip("ocrmypdf_kocr", reason="the plugin is not installed: pip install -e plugins/ocrmypdf-kocr")
pdfium = pytest.importorskip("pypdfium2")
pikepdf = pytest.importorskip("pikepdf")

from ocrmypdf.exceptions import BadArgsError  # noqa: E402

from ocrmypdf_kocr.textpdf import text_only_pdf  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "kocr_sdk" / "data" / "sample_ko.png"
SECOND_PAGE = ["검색 가능한 문서", "대한민국 서울특별시", "OCRmyPDF plugin 2024", "전화 02-123-4567"]


@pytest.fixture(autouse=True)
def _needs_a_hangul_font():
    from kocr_sdk.export.pdf import text_layer_fonts

    try:
        text_layer_fonts(plugin.FONT_PROBE)
    except KocrConfigError as exc:
        pytest.skip(str(exc))


@pytest.fixture
def no_engines(monkeypatch):
    """The plugin's per-process Engine cache, empty for this test and restored after it."""
    monkeypatch.setattr(plugin, "_engines", {})


def options(**given) -> SimpleNamespace:
    """What OCRmyPDF passes the plugin: its options, with the plugin's own flags."""
    base = dict(ocr_engine="auto", pdf_renderer="auto", deskew=False, jobs=None,
                kocr_config=None, kocr_device=None, kocr_threads=None)
    return SimpleNamespace(**{**base, **given})


def chars_of(pdf_page) -> list[tuple[str, tuple[float, float]]]:
    """Each non-space character of the page's text layer and its centre in points, origin top left."""
    tp = pdf_page.get_textpage()
    height = pdf_page.get_height()
    out = []
    for i in range(tp.count_chars()):
        ch = tp.get_text_range(i, 1)
        if not ch.isspace():
            left, bottom, right, top = tp.get_charbox(i)
            out.append((ch, ((left + right) / 2, height - (top + bottom) / 2)))
    return out


def inside(quad, point, tolerance: float) -> bool:
    import cv2

    return cv2.pointPolygonTest(np.asarray(quad, np.float32), point, True) >= -tolerance


def page_image(tmp_path: Path, page, dpi: int) -> Path:
    path = tmp_path / "page.png"
    Image.new("L", (page.width, page.height), 255).save(path, dpi=(dpi, dpi))
    return path


# ------------------------------------------------------------------------- the text-only PDF
def test_text_only_pdf_is_the_page_at_its_resolution_with_invisible_text_and_nothing_drawn(tmp_path):
    page = page_of(row(["한국어", "Latin"], 20, 20) + row(["2024년", "kocr"], 20, 80), width=400, height=200)
    doc = Document(kocr_version="0.1.0", pages=[page])
    data = text_only_pdf(doc, page_image(tmp_path, page, 200))

    pdf = pdfium.PdfDocument(data)
    assert len(pdf) == 1
    assert pdf[0].get_size() == pytest.approx((400 * 72 / 200, 200 * 72 / 200))
    # words of a line are written with a space between them, whatever gap a reader expects
    assert pdf[0].get_textpage().get_text_range().split() == ["한국어", "Latin", "2024년", "kocr"]
    with pikepdf.open(io.BytesIO(data)) as doc_pdf:
        xobjects = doc_pdf.pages[0].resources.get("/XObject", {})
        # the stand-in page image is gone: OCRmyPDF grafts this page over the scan
        assert not [x for x in xobjects.values() if x.get("/Subtype") == "/Image"]
        assert b"3 Tr" in doc_pdf.pages[0].Contents.read_bytes()  # text render mode 3: invisible
    px = 200 / 72
    words = [w for w in page.words for ch in w.text if not ch.isspace()]
    for (ch, (x, y)), word in zip(chars_of(pdf[0]), words, strict=True):
        assert ch in word.text and inside(word.quad, (x * px, y * px), 2.0), (ch, word.text)


def test_sideways_words_are_laid_along_their_quads(tmp_path):
    """OCRmyPDF's own renderer drops lines whose box is taller than its text: kocr's keeps them."""
    upright = page_of(row(["세로로", "놓인", "page"], 20, 20), width=300, height=120)
    page = turned(upright, 90)
    data = text_only_pdf(Document(kocr_version="0.1.0", pages=[page]), page_image(tmp_path, page, 150))
    pdf_page = pdfium.PdfDocument(data)[0]
    got = chars_of(pdf_page)
    assert "".join(ch for ch, _ in got) == "세로로놓인page"
    words = [w for w in page.words for ch in w.text]
    for (ch, (x, y)), word in zip(got, words):
        assert inside(word.quad, (x * 150 / 72, y * 150 / 72), 2.0), (ch, word.text)


# ------------------------------------------------------------------------- the engine interface
def test_orientation_is_reported_clockwise_as_ocrmypdf_expects(monkeypatch):
    """kocr's 90 (text read bottom to top) is a page facing left, which OCRmyPDF calls 270."""
    for kocr_angle, ocrmypdf_angle in ((0, 0), (90, 270), (180, 180), (270, 90)):
        page = page_of([], width=100, height=100, orientation=kocr_angle).model_copy(update={"orientation_confidence": 0.9})
        monkeypatch.setattr(plugin, "read_page", lambda *a, p=page: Document(kocr_version="0.1.0", pages=[p]))
        found = plugin.KocrOcrEngine.get_orientation(Path("page.png"), options())
        assert found.angle == ocrmypdf_angle
        assert found.confidence == pytest.approx(0.9 * plugin.CONFIDENCE_SCALE)
    assert plugin.KocrOcrEngine.get_deskew(Path("page.png"), options()) == 0.0


def test_hocr_and_sidecar_text_are_kocrs(monkeypatch, tmp_path):
    page = page_of(row(["사업자", "kocr"], 10, 10), width=200, height=60)
    monkeypatch.setattr(plugin, "read_page", lambda *a: Document(kocr_version="0.1.0", pages=[page]))
    plugin.KocrOcrEngine.generate_hocr(tmp_path / "p.png", tmp_path / "p.hocr", tmp_path / "p.txt", options())
    hocr = (tmp_path / "p.hocr").read_text(encoding="utf-8")
    assert "ocrx_word" in hocr and "사업자" in hocr
    assert (tmp_path / "p.txt").read_text(encoding="utf-8") == "사업자 kocr"


def test_one_engine_serves_every_thread_and_each_set_of_options_its_own(monkeypatch, no_engines):
    import kocr_sdk

    built: list[object] = []

    class CountingEngine:
        def __init__(self, config):
            built.append(self)

    monkeypatch.setattr(kocr_sdk, "Engine", CountingEngine)
    start = threading.Barrier(8)

    def get(_):
        start.wait()
        return plugin.shared_engine(options())

    with ThreadPoolExecutor(8) as pool:
        engines = list(pool.map(get, range(8)))
    assert len(built) == 1 and all(e is built[0] for e in engines)
    assert plugin.shared_engine(options(kocr_device="cpu")) is not built[0]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_builds_its_own_engine(no_engines):
    plugin._engines[(None, None, None)] = object()
    pid = os.fork()
    if pid == 0:  # OCRmyPDF's worker process (--no-use-threads): no Engine, no held lock inherited
        os._exit(0 if not plugin._engines and plugin._lock.acquire(timeout=1) else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert plugin._engines  # the parent keeps its own


# ------------------------------------------------------------------------- options
def test_bad_kocr_options_are_refused_before_any_page_is_read(tmp_path):
    with pytest.raises(BadArgsError, match=r"^kocr: config file not found: .*missing\.yaml$"):
        plugin.check_options(options(kocr_config=str(tmp_path / "missing.yaml")))
    with pytest.raises(BadArgsError, match="--kocr-threads must be 1 or more, not 0"):
        plugin.check_options(options(kocr_threads=0))
    bad = tmp_path / "bad.yaml"
    bad.write_text("compute: {device: tpu}\n", encoding="utf-8")
    with pytest.raises(BadArgsError, match="^kocr: "):
        plugin.check_options(options(kocr_config=str(bad)))


def test_kocr_writes_the_text_layer_unless_no_font_has_hangul(monkeypatch):
    chosen = options()
    plugin.check_options(chosen)
    assert chosen.pdf_renderer == "sandwich"  # generate_pdf: kocr's own text layer
    fpdf2 = options(pdf_renderer="fpdf2")
    plugin.check_options(fpdf2)
    assert fpdf2.pdf_renderer == "fpdf2"  # asked for: OCRmyPDF renders kocr's hOCR

    monkeypatch.setattr(plugin, "_font_problem", lambda: "no installed font has glyphs for '한'")
    fallback = options()
    plugin.check_options(fallback)
    assert fallback.pdf_renderer == "auto"
    with pytest.raises(BadArgsError, match="no installed font has glyphs"):
        plugin.check_options(options(pdf_renderer="sandwich"))


def test_the_cpus_are_shared_among_ocrmypdfs_page_workers(monkeypatch):
    """Each worker's Engine gets its share of the CPUs (torch would give each all of them); the
    choice travels with OCRmyPDF's own options object, to threads and to worker processes alike."""
    import pickle

    from ocrmypdf import OcrOptions

    monkeypatch.setattr(plugin, "available_cpu_count", lambda: 8)
    four_pages = [object()] * 4
    real = OcrOptions(input_file="in.pdf", output_file="out.pdf", jobs=2)
    plugin.validate(four_pages, real)
    assert pickle.loads(pickle.dumps(real)).kocr_threads == 4  # 2 workers on 8 CPUs
    one_page = options()
    plugin.validate([object()], one_page)
    assert one_page.kocr_threads == 8
    given = options(kocr_threads=3)
    plugin.validate(four_pages, given)
    assert given.kocr_threads == 3


def test_other_engines_are_left_alone():
    assert plugin.get_ocr_engine(options(ocr_engine="none")) is None
    assert isinstance(plugin.get_ocr_engine(options()), plugin.KocrOcrEngine)
    assert plugin.KocrOcrEngine.languages(options()) == {"kor", "eng"}


def test_the_cli_answers_a_bad_config_in_one_line(tmp_path):
    Image.new("L", (200, 100), 255).save(tmp_path / "blank.pdf", resolution=100)
    out = run_ocrmypdf(tmp_path, "--kocr-config", str(tmp_path / "missing.yaml"), "blank.pdf", "out.pdf")
    assert out.returncode == 1, out.stderr
    assert "kocr: config file not found:" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "out.pdf").exists()


# ------------------------------------------------------------------------- end to end
def run_ocrmypdf(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``ocrmypdf --plugin ocrmypdf_kocr ARGS`` with nothing but this Python on PATH: no Tesseract,
    no Ghostscript, no other program."""
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    return subprocess.run([sys.executable, "-m", "ocrmypdf", "--plugin", "ocrmypdf_kocr", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=900)


def second_page(path: Path) -> None:
    """An A4 page at 150 dpi with Korean and Latin lines, drawn in an installed Hangul font."""
    from kocr_sdk.fonts import discover_fonts

    text = "".join(SECOND_PAGE)
    faces = [f for f in discover_fonts() if f.covers(text) and not f.italic and not f.handwriting]
    if not faces:
        pytest.skip("no installed font draws the test page's Hangul (Debian: fonts-nanum)")
    face = min(faces, key=lambda f: (abs(f.weight - 400), "Mono" in f.family, not ("Gothic" in f.family or "Sans" in f.family),
                                     f.family, f.path))
    font = ImageFont.truetype(face.path, 56, index=face.index)
    image = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(SECOND_PAGE):
        draw.text((120, 160 + i * 130), line, fill=0, font=font)
    image.save(path, dpi=(150, 150))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.slow
@pytest.mark.shipped_models
def test_ocrmypdf_makes_a_scanned_korean_pdf_searchable_with_kocrs_reading(tmp_path):
    img2pdf = pytest.importorskip("img2pdf")
    with Image.open(SAMPLE) as sample:
        sample.save(tmp_path / "p1.png", dpi=(150, 150))
    second_page(tmp_path / "p2.png")
    (tmp_path / "scan.pdf").write_bytes(img2pdf.convert([str(tmp_path / "p1.png"), str(tmp_path / "p2.png")]))
    scan = pdfium.PdfDocument(tmp_path / "scan.pdf")
    assert all(not scan[i].get_textpage().get_text_range().strip() for i in range(2))  # images only

    out = run_ocrmypdf(tmp_path, "--output-type", "pdf", "--sidecar", "scan.txt", "scan.pdf", "searchable.pdf")
    assert out.returncode == 0, out.stderr

    pdf = pdfium.PdfDocument(tmp_path / "searchable.pdf")
    assert len(pdf) == 2
    for i in range(2):
        assert pdf[i].get_size() == pytest.approx(scan[i].get_size(), abs=0.01)
    texts = [pdf[i].get_textpage().get_text_range() for i in range(2)]
    # the text layer is kocr's reading (the sidecar is the Document's text, page by page) ...
    read = (tmp_path / "scan.txt").read_text(encoding="utf-8").split("\f")
    assert [squeeze(t) for t in texts] == [squeeze(t) for t in read[:2]]
    # ... which holds the pages' Korean, words apart
    assert "사업자등록증" in texts[0] and "214-86-18758" in texts[0]
    assert "대한민국 서울특별시" in texts[1] and "02-123-4567" in texts[1]
