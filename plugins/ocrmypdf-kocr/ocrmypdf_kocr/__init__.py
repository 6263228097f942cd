"""OCRmyPDF plugin: kocr reads each page, OCRmyPDF turns the scan into a searchable PDF.

    ocrmypdf --plugin ocrmypdf_kocr scan.pdf searchable.pdf

OCRmyPDF rasterises each page and hands the image to :class:`KocrOcrEngine`. The text layer
is kocr's own (``generate_pdf``, OCRmyPDF's "sandwich" renderer, chosen for ``--pdf-renderer
auto``): kocr's PDF writer lays each word along its quad, so skewed and sideways text is placed
over its ink, and Hangul is written in an installed Korean font with a Unicode map, which PDFium
and pdfminer.six both extract. OCRmyPDF's own renderer, given kocr's hOCR (``generate_hocr``,
used with ``--pdf-renderer fpdf2`` or when no installed font has Hangul), knows only upright
boxes: it drops sideways lines altogether, and the Korean it writes is invisible to pdfminer.six.

One :class:`kocr_sdk.Engine` per process serves every page: OCRmyPDF reads pages in threads by
default and an Engine may be shared by threads; with ``--no-use-threads`` each worker process
builds its own (an Engine is never carried across a fork).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from argparse import ArgumentParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocrmypdf import hookimpl
from ocrmypdf.exceptions import BadArgsError, ExitCode, ExitCodeException, MissingDependencyError
from ocrmypdf.helpers import available_cpu_count
from ocrmypdf.pluginspec import OcrEngine, OrientationConfidence

if TYPE_CHECKING:
    from kocr_sdk import Document, Engine, EngineConfig

__version__ = "0.1.0"

log = logging.getLogger(__name__)

#: What ``-l`` may ask for: kocr's shipped recognisers read Hangul and Latin script (and digits).
LANGUAGES = frozenset({"kor", "eng"})
DEVICES = ("auto", "cpu", "cuda")
#: OCRmyPDF's orientation confidence runs from 0 (a guess) to about 15 (sure); kocr's from 0 to 1.
CONFIDENCE_SCALE = 15.0
TESSERACT_PLUGIN = "ocrmypdf.builtin_plugins.tesseract_ocr"
#: Text a font must have for kocr's text layer: Hangul, Latin letters and digits.
FONT_PROBE = "한국어 Latin 0123"


class KocrReadError(ExitCodeException):
    """kocr could not read a page: OCRmyPDF prints the message and exits with this code."""

    exit_code = ExitCode.child_process_error


# ------------------------------------------------------------------------------------- options
def _option(options: Any, name: str) -> Any:
    """An option this plugin added, or None (a Python API call need not give it)."""
    try:
        return getattr(options, name)
    except AttributeError:
        return None


def _set_option(options: Any, name: str, value: Any) -> None:
    """Set an option OCRmyPDF does not declare: ``OcrOptions`` keeps such options aside."""
    try:
        setattr(options, name, value)
    except (AttributeError, ValueError):
        options.extra_attrs[name] = value


def _is_selected(options: Any) -> bool:
    """kocr reads the pages unless ``--ocr-engine`` names another engine (``tesseract``, ``none``)."""
    return options is None or getattr(options, "ocr_engine", "auto") == "auto"


@hookimpl
def initialize(plugin_manager: Any) -> None:
    """Without Tesseract installed, set OCRmyPDF's Tesseract plugin aside.

    Why: that plugin checks for the ``tesseract`` program in every run, whichever engine reads
    the pages, so a machine with kocr alone would be refused.
    """
    if shutil.which("tesseract") is None:
        plugin_manager.set_blocked(TESSERACT_PLUGIN)


@hookimpl
def register_options() -> dict[str, Any]:
    """Keep ``options.tesseract``, which OCRmyPDF's own checks read, when its plugin is set aside."""
    if shutil.which("tesseract") is not None:
        return {}
    from ocrmypdf.builtin_plugins.tesseract_ocr import TesseractOptions

    return {"tesseract": TesseractOptions}


@hookimpl
def add_options(parser: ArgumentParser) -> None:
    group = parser.add_argument_group("kocr", "The kocr OCR engine (ocrmypdf-kocr)")
    group.add_argument("--kocr-config", metavar="FILE",
                       help="kocr engine config YAML (kocr's docs/configuration.md); KOCR_* variables apply too")
    group.add_argument("--kocr-device", choices=DEVICES,
                       help="where kocr's models run; overrides the config's compute.device")
    group.add_argument("--kocr-threads", metavar="N", type=int,
                       help="torch threads for each page being read (default: the config's compute.threads, "
                            "else the CPUs shared among OCRmyPDF's page workers)")


def engine_config(options: Any) -> EngineConfig:
    """The kocr config the options ask for: the file, ``KOCR_*`` variables, then the flags."""
    from kocr_sdk import EngineConfig, KocrError

    overrides: dict[str, Any] = {}
    if _option(options, "kocr_device"):
        overrides["device"] = options.kocr_device
    if _option(options, "kocr_threads"):
        overrides["threads"] = options.kocr_threads
    try:
        return EngineConfig.load(_option(options, "kocr_config"), **overrides)
    except KocrError as exc:
        raise BadArgsError(f"kocr: {exc}") from None


def _font_problem() -> str | None:
    """Why kocr cannot write a text layer with Hangul on this machine, or None when it can."""
    from kocr_sdk import KocrError
    from kocr_sdk.export.pdf import text_layer_fonts

    try:
        text_layer_fonts(FONT_PROBE)
    except KocrError as exc:
        return str(exc)
    return None


@hookimpl
def check_options(options: Any) -> None:
    """Refuse a bad ``--kocr-*`` flag or config before any page is rasterised, and pick the renderer."""
    if getattr(options, "ocr_engine", "auto") == "tesseract" and shutil.which("tesseract") is None:
        raise MissingDependencyError("--ocr-engine tesseract: the tesseract program is not installed")
    if not _is_selected(options):
        return
    threads = _option(options, "kocr_threads")
    if threads is not None and threads < 1:
        raise BadArgsError(f"--kocr-threads must be 1 or more, not {threads}")
    engine_config(options)
    if options.pdf_renderer in ("auto", "sandwich"):
        problem = _font_problem()
        if problem is None:
            options.pdf_renderer = "sandwich"
        elif options.pdf_renderer == "sandwich":
            raise BadArgsError(f"kocr: {problem}")
        else:
            log.warning("kocr: %s; OCRmyPDF's renderer writes the text layer instead, and it leaves out "
                        "sideways text", problem)
    if _option(options, "deskew"):
        log.warning("kocr does not measure skew: --deskew leaves the pages as they are (kocr lays each "
                    "word's text along its slant instead)")


@hookimpl
def validate(pdfinfo: Any, options: Any) -> None:
    """Share the CPUs among OCRmyPDF's page workers unless the flags or the config say otherwise.

    Why: torch gives every reader all the cores, so N workers would run N×cores threads.
    """
    if not _is_selected(options) or _option(options, "kocr_threads") or engine_config(options).compute.threads:
        return
    jobs = options.jobs or available_cpu_count()
    workers = max(1, min(jobs, len(pdfinfo)))
    _set_option(options, "kocr_threads", max(1, available_cpu_count() // workers))


# --------------------------------------------------------------------------------- the engine
_lock = threading.Lock()
_engines: dict[tuple[Any, ...], Engine] = {}


def _forget_engines() -> None:
    """A forked worker builds its own Engine: torch's state and a held lock do not survive a fork."""
    global _lock
    _lock = threading.Lock()
    _engines.clear()


os.register_at_fork(after_in_child=_forget_engines)


def shared_engine(options: Any) -> Engine:
    """This process's Engine for these options, built once (the models load once), shared by threads."""
    key = (_option(options, "kocr_config"), _option(options, "kocr_device"), _option(options, "kocr_threads"))
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            from kocr_sdk import Engine, KocrError

            try:
                engine = Engine(engine_config(options))
            except KocrError as exc:
                raise KocrReadError(f"kocr: {exc}") from None
            _engines[key] = engine
        return engine


def read_page(input_file: Path, options: Any) -> Document:
    """kocr's reading of one page image that OCRmyPDF rasterised."""
    from kocr_sdk import KocrError

    engine = shared_engine(options)
    name = Path(input_file).name
    try:
        doc = engine.read(Path(input_file), on_error="raise")
    except KocrError as exc:
        raise KocrReadError(f"kocr could not read {name}: {exc}") from None
    if len(doc.pages) != 1:
        raise KocrReadError(f"kocr read {len(doc.pages)} pages from {name}, expected one")
    return doc


class KocrOcrEngine(OcrEngine):
    """kocr behind OCRmyPDF's OCR engine interface."""

    @staticmethod
    def version() -> str:
        from kocr_sdk import __version__ as kocr_version

        return kocr_version

    @staticmethod
    def creator_tag(options: Any) -> str:
        return f"kocr {KocrOcrEngine.version()} (ocrmypdf-kocr {__version__})"

    def __str__(self) -> str:
        return f"kocr {self.version()}"

    @staticmethod
    def languages(options: Any) -> set[str]:
        return set(LANGUAGES)

    @staticmethod
    def get_orientation(input_file: Path, options: Any) -> OrientationConfidence:
        """Which way the page's text faces, from kocr's reading of it (``--rotate-pages``).

        kocr's ``Page.orientation`` is the text's counter-clockwise angle (90: it reads bottom to
        top); OCRmyPDF takes the clockwise one, as Tesseract's orientation detection reports it.
        """
        page = read_page(input_file, options).pages[0]
        angle = (360 - page.orientation) % 360
        return OrientationConfidence(angle=angle, confidence=(page.orientation_confidence or 0.0) * CONFIDENCE_SCALE)

    @staticmethod
    def get_deskew(input_file: Path, options: Any) -> float:
        """Not measured: kocr reads skewed words where they are (see ``check_options``'s warning)."""
        return 0.0

    @staticmethod
    def generate_hocr(input_file: Path, output_hocr: Path, output_text: Path, options: Any) -> None:
        doc = read_page(input_file, options)
        Path(output_hocr).write_text(doc.to_hocr(), encoding="utf-8")
        Path(output_text).write_text(doc.text, encoding="utf-8")

    @staticmethod
    def generate_pdf(input_file: Path, output_pdf: Path, output_text: Path, options: Any) -> None:
        from kocr_sdk import KocrError

        from .textpdf import text_only_pdf

        doc = read_page(input_file, options)
        try:
            data = text_only_pdf(doc, Path(input_file))
        except KocrError as exc:
            raise KocrReadError(f"kocr could not write the text layer of {Path(input_file).name}: {exc}") from None
        Path(output_pdf).write_bytes(data)
        Path(output_text).write_text(doc.text, encoding="utf-8")


@hookimpl
def get_ocr_engine(options: Any = None) -> OcrEngine | None:
    return KocrOcrEngine() if _is_selected(options) else None
