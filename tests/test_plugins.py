import json
import sys

import pytest
from click.testing import CliRunner

from kocr_sdk import (
    Engine,
    KocrModelError,
    KocrPluginConflict,
    KocrPluginError,
    Reading,
    Recognizer,
    TextDetector,
    hookimpl,
)
from kocr_sdk.cli.main import cli
from kocr_sdk.plugins import load_registry


def test_builtin_plugins_register_through_the_same_hooks():
    registry = load_registry(load_entrypoints=False)
    assert {p.distribution for p in registry.plugins} == {"kocr-sdk"}
    assert registry.template_dirs and registry.template_dirs[0][1].distribution == "kocr-sdk"


def test_example_plugin_is_discovered_through_its_entry_point(monkeypatch):
    monkeypatch.setenv("KOCR_LOAD_PLUGINS", "tesseract")
    registry = load_registry()
    reg = registry.stages["recognizer"]["tesseract"]
    assert reg.plugin.distribution == "kocr-tesseract" and reg.plugin.version == "0.2.0"
    assert set(reg.scripts) == {"han", "kana"}
    assert registry.recognizers_for("han")[0].name == "tesseract"


def test_kocr_load_plugins_pins_what_loads(monkeypatch):
    monkeypatch.setenv("KOCR_LOAD_PLUGINS", "")
    assert "tesseract" not in load_registry().stages["recognizer"]
    monkeypatch.setenv("KOCR_LOAD_PLUGINS", "kocr-tesseract")  # distribution names work too
    assert "tesseract" in load_registry().stages["recognizer"]


def test_a_name_claimed_twice_names_both_distributions(monkeypatch):
    class Impostor(Recognizer):
        name = "tesseract"
        scripts = ("han",)

        def recognize(self, crops):
            return []

    class ImpostorPlugin:
        @staticmethod
        @hookimpl
        def register_recognizers(register):
            register(Impostor)

    monkeypatch.setenv("KOCR_LOAD_PLUGINS", "tesseract")
    with pytest.raises(KocrPluginConflict) as err:
        Engine(plugins=[ImpostorPlugin])
    assert "kocr-tesseract 0.2.0" in str(err.value) and "registered in code: ImpostorPlugin" in str(err.value)


def test_registering_something_that_is_not_a_stage_is_refused():
    class NotAStage:
        name = "x"

    class Bad:
        @staticmethod
        @hookimpl
        def register_detectors(register):
            register(NotAStage)

    with pytest.raises(KocrPluginError, match="not a subclass of kocr_sdk.interfaces.TextDetector"):
        Engine(plugins=[Bad], load_entrypoints=False)


def test_recognizer_without_scripts_is_refused():
    class NoScripts(Recognizer):
        name = "no-scripts"

        def recognize(self, crops):
            return []

    class Bad:
        @staticmethod
        @hookimpl
        def register_recognizers(register):
            register(NoScripts)

    with pytest.raises(KocrPluginError, match="declares no `scripts`"):
        Engine(plugins=[Bad], load_entrypoints=False)


def _fake_distribution(tmp_path, monkeypatch, module_source: str):
    """A distribution on sys.path with a `kocr` entry point, found by importlib.metadata like pip's."""
    (tmp_path / "fake_kocr_plugin.py").write_text(module_source)
    info = tmp_path / "fake_kocr_plugin-9.9.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-kocr-plugin\nVersion: 9.9\n")
    (info / "entry_points.txt").write_text("[kocr]\nfake = fake_kocr_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("KOCR_LOAD_PLUGINS", "fake")
    sys.modules.pop("fake_kocr_plugin", None)


def test_plugin_that_fails_to_import_gives_a_clear_error(tmp_path, monkeypatch):
    _fake_distribution(tmp_path, monkeypatch, "raise ImportError('needs libfoo')\n")
    with pytest.raises(KocrPluginError, match="plugin 'fake' from fake-kocr-plugin failed to import: ImportError: needs libfoo"):
        load_registry()


def test_entry_point_plugin_detector_is_used_by_the_engine(tmp_path, monkeypatch):
    _fake_distribution(
        tmp_path,
        monkeypatch,
        "from kocr_sdk import TextDetector, Detection, hookimpl\n"
        "class D(TextDetector):\n"
        "    name = 'fake-det'\n"
        "    def detect(self, image):\n"
        "        return Detection(orientation=180)\n"
        "@hookimpl\n"
        "def register_detectors(register):\n"
        "    register(D)\n",
    )
    import numpy as np

    page = Engine().read(np.full((20, 20, 3), 255, np.uint8)).pages[0]
    assert page.orientation == 180
    assert {r.stage: r.implementation for r in page.stages}["detector"] == "fake-det"
    out = CliRunner().invoke(cli, ["plugins", "--json"])
    rows = {r["plugin"]: r for r in json.loads(out.output)}
    assert rows["fake"]["distribution"] == "fake-kocr-plugin" and rows["fake"]["version"] == "9.9"
    assert rows["fake"]["registers"] == ["detector: fake-det"]


@pytest.mark.parametrize("backend", ["api", "cli"])
def test_tesseract_plugin_reads_a_han_word(monkeypatch, backend):
    """The example plugin is real: it reads rendered Chinese characters through Tesseract, in
    process (tesserocr) and through the program alike."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    monkeypatch.setenv("KOCR_LOAD_PLUGINS", "tesseract")
    font = ImageFont.truetype("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 40, index=2)  # SC
    img = Image.new("RGB", (140, 56), "white")
    ImageDraw.Draw(img).text((8, 4), "中国", font=font, fill="black")
    engine = Engine(options={"tesseract": {"backend": backend}})
    out = engine.read_crops([np.asarray(img)], scripts=["han"])
    assert out[0].recognizer == "tesseract"
    assert out[0].reading.text == "中国" and out[0].reading.confidence > 0.5


def test_tesseract_plugin_reads_in_process_when_it_can_and_names_a_bad_backend():
    from kocr_tesseract import TesseractRecognizer

    assert TesseractRecognizer().backend == "api"  # tesserocr is in the [api] extra the Makefile installs
    with pytest.raises(KocrModelError, match="backend 'daemon'"):
        TesseractRecognizer(backend="daemon")


def test_unused_detector_class_is_never_constructed(white_page):
    class Exploding(TextDetector):
        name = "exploding"
        priority = -1

        def __init__(self, **kw):
            raise AssertionError("constructed")

        def detect(self, image):  # pragma: no cover
            raise AssertionError

    class Fine(TextDetector):
        name = "fine"

        def detect(self, image):
            from kocr_sdk import Detection

            return Detection()

    class P:
        @staticmethod
        @hookimpl
        def register_detectors(register):
            register(Exploding)
            register(Fine)

    page = Engine(plugins=[P], load_entrypoints=False).read(white_page).pages[0]
    assert {r.stage: r.implementation for r in page.stages}["detector"] == "fine"


def test_reading_class_is_exported():
    assert Reading(text="a", confidence=1.0).text == "a"
