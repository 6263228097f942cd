import json
import subprocess
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


def test_kocr_plugins_shows_every_hook_and_warns_about_template_folders(tmp_path, monkeypatch):
    """A postprocess_page hook is listed; a template folder that is missing or empty is warned about."""
    (tmp_path / "empty").mkdir()
    _fake_distribution(
        tmp_path,
        monkeypatch,
        "from pathlib import Path\n"
        "from kocr_sdk import hookimpl\n"
        "@hookimpl\n"
        "def postprocess_page(page, image):\n"
        "    return None\n"
        "@hookimpl\n"
        "def register_template_sources(register):\n"
        f"    register(Path({str(tmp_path / 'missing')!r}))\n"
        f"    register(Path({str(tmp_path / 'empty')!r}))\n",
    )
    out = CliRunner().invoke(cli, ["plugins", "--json"])
    assert out.exit_code == 0, out.output
    rows = {r["plugin"]: r for r in json.loads(out.stdout)}
    assert rows["fake"]["hooks"] == ["register_template_sources", "postprocess_page"]
    warnings = rows["fake"]["warnings"]
    assert len(warnings) == 2 and "missing does not exist" in warnings[0] and "empty holds no YAML" in warnings[1]
    assert all("fake-kocr-plugin 9.9" in w for w in warnings)
    assert rows["kocr_sdk.default_plugins.templates"]["warnings"] == []  # kocr's own folder is there
    assert "warning: template folder" in out.stderr
    text = CliRunner().invoke(cli, ["plugins"])
    assert "hooks: register_template_sources, postprocess_page" in text.stdout
    assert text.stderr.count("warning: template folder") == 2
    listed = CliRunner().invoke(cli, ["templates", "list"])
    assert listed.exit_code == 0 and listed.stderr.count("warning: template folder") == 2


def _documented_example_plugin(root) -> None:
    """Write docs/plugins.md's example plugin (every file it shows) under ``root``."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "plugins.md").read_text(encoding="utf-8")
    files = dict(re.findall(r"^`(pyproject\.toml|kocr_thai/[^`]+)`[^\n]*(?:\n[^\n]+)*\n\n```\w*\n(.*?)```", doc, re.S | re.M))
    assert set(files) == {"pyproject.toml", "kocr_thai/__init__.py", "kocr_thai/templates/th_receipt.yaml"}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def _build_and_install(src, target) -> None:
    """A wheel built from ``src`` and installed, not editable, into ``target`` (dependencies are not)."""
    wheels = src.parent / f"{target.name}-wheel"
    pip = [sys.executable, "-m", "pip"]
    built = subprocess.run([*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(src)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("kocr_thai-*.whl")
    installed = subprocess.run([*pip, "install", "-q", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
                               capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr


def _kocr(args, site, cwd):
    """``kocr ARGS`` in another process that sees the installed plugin only through ``site`` (and
    this checkout's kocr_sdk, whatever else is installed)."""
    import os
    from pathlib import Path

    checkout = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(checkout)]), "KOCR_LOAD_PLUGINS": "thai"}
    code = "import sys; from kocr_sdk.cli.main import main; sys.argv[0] = 'kocr'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.mark.slow
def test_the_documented_plugin_installed_from_its_wheel_ships_its_templates(tmp_path):
    src = tmp_path / "kocr-thai"
    _documented_example_plugin(src)
    elsewhere = tmp_path / "elsewhere"  # not the source tree: only the installed copy can be found
    elsewhere.mkdir()

    site = tmp_path / "site"
    _build_and_install(src, site)
    listed = _kocr(["templates", "list"], site, elsewhere)
    assert listed.returncode == 0, listed.stderr
    ours = [line.split("\t") for line in listed.stdout.splitlines() if line.startswith("th_receipt\t")]
    assert ours and ours[0][3].startswith(str(site)), listed.stdout
    assert "warning" not in listed.stderr
    rows = {r["plugin"]: r for r in json.loads(_kocr(["plugins", "--json"], site, elsewhere).stdout)}
    assert rows["thai"]["hooks"] == ["register_recognizers", "register_template_sources"]
    assert rows["thai"]["registers"][0] == "recognizer: thai-crnn (thai)" and rows["thai"]["warnings"] == []

    # The trap the documented package-data table avoids: built without it, the templates are not
    # installed, and kocr says so instead of reading on silently without them.
    src = tmp_path / "without-package-data" / "kocr-thai"  # a fresh tree: no build/ left by the first build
    _documented_example_plugin(src)
    pyproject = src / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().split("[tool.setuptools.package-data]")[0])
    bare = tmp_path / "bare"
    _build_and_install(src, bare)
    plugins = _kocr(["plugins", "--json"], bare, elsewhere)
    (warning,) = {r["plugin"]: r for r in json.loads(plugins.stdout)}["thai"]["warnings"]
    assert "kocr_thai/templates does not exist (registered by kocr-thai 0.1.0)" in warning
    assert "package data was not installed" in plugins.stderr
