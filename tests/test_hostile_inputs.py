"""Bad and hostile input through the reading path: clear errors, no silent loss, no silent success."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from kocr_sdk import Engine, KocrConfigError, KocrInputError
from kocr_sdk.cli.common import output_names
from kocr_sdk.cli.main import cli
from kocr_sdk.ner.redact import parse_labels
from kocr_sdk.templates import load_template

SAMPLE = Path(__file__).resolve().parent.parent / "kocr_sdk" / "data" / "sample_ko.png"


def run(*args):
    return CliRunner().invoke(cli, list(args))


def _image(path: Path, width: int, fmt: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((40, width, 3), 255, np.uint8)).save(path, format=fmt)
    return path


# ------------------------------------------------------------------------- outputs never collide
def test_inputs_sharing_a_stem_get_distinct_outputs(tmp_path):
    a_png = _image(tmp_path / "a" / "x.png", 60)
    b_png = _image(tmp_path / "b" / "x.png", 70)
    a_jpg = _image(tmp_path / "a" / "x.jpg", 80, "JPEG")
    solo = _image(tmp_path / "a" / "solo.png", 90)
    out = tmp_path / "out"
    result = run("read", str(a_png), str(b_png), str(a_jpg), str(solo), "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    assert written == ["a/x.jpg.json", "a/x.png.json", "b/x.png.json", "solo.json"]
    widths = {name: json.loads((out / name).read_text())["pages"][0]["width"] for name in written}
    assert widths == {"a/x.jpg.json": 80, "a/x.png.json": 60, "b/x.png.json": 70, "solo.json": 90}


def test_output_names_keep_plain_stems_when_unique(tmp_path):
    paths = [tmp_path / "p" / "one.png", tmp_path / "q" / "two.png"]
    assert output_names(paths) == {paths[0]: "one", paths[1]: "two"}


# ------------------------------------------------------------------------------------- redaction
@pytest.mark.parametrize("spec", ["PERSN,PHONES", "PERSON,NAME"])
def test_redact_with_an_unknown_label_is_an_error_listing_the_valid_ones(spec, tmp_path):
    with pytest.raises(KocrConfigError, match="valid labels: .*PERSON.*PHONE"):
        parse_labels(spec)
    result = run("read", str(SAMPLE), "--redact", spec, "--out", str(tmp_path))
    assert result.exit_code == 1 and "unknown entity label" in result.stderr
    assert "Traceback" not in result.output
    assert not list(tmp_path.iterdir())  # nothing written that could pass for a redacted copy


def test_redact_suggests_the_closest_label():
    with pytest.raises(KocrConfigError, match=r"PERSN \(did you mean PERSON\?\)"):
        parse_labels("PERSN")


# ---------------------------------------------------------------- configuration and template files
def test_a_template_that_is_not_utf8_is_one_clear_error(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_bytes("id: t\nname: 견적서\n".encode("euc-kr"))
    with pytest.raises(Exception) as info:
        load_template(path)
    assert "not UTF-8" in str(info.value) and type(info.value).__name__ == "KocrTemplateError"


def test_a_config_that_is_not_utf8_is_one_clear_error(tmp_path):
    path = tmp_path / "kocr.yaml"
    path.write_bytes("# 설정\ndevice: cpu\n".encode("euc-kr"))
    with pytest.raises(KocrConfigError, match="not UTF-8"):
        Engine(path)
    result = run("read", str(SAMPLE), "--config", str(path))
    assert result.exit_code == 1 and "not UTF-8" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("var, value", [("KOCR_RECOGNIZERS", "notjson"), ("KOCR_OPTIONS", "{bad")])
def test_environment_json_that_does_not_parse_is_one_clear_error(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(KocrConfigError, match=f"{var} is not valid JSON"):
        Engine()
    result = run("read", str(SAMPLE))
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_default_script_must_be_one_a_recogniser_reads(fake_plugin):
    with pytest.raises(KocrConfigError, match="scripts.default 'klingon'"):
        Engine(plugins=[fake_plugin], load_entrypoints=False, default_script="klingon")
    Engine(plugins=[fake_plugin], load_entrypoints=False, default_script="latin")


def test_options_for_an_unknown_implementation_fail_when_the_engine_is_built(fake_plugin):
    with pytest.raises(KocrConfigError, match="'fixd' is not a registered implementation.*did you mean 'fixed'"):
        Engine(plugins=[fake_plugin], load_entrypoints=False, options={"fixd": {}})


def test_bad_options_fail_when_the_engine_is_built_not_on_the_first_page(tmp_path):
    """The shipped detector's ``weights`` option pointing nowhere fails in ``Engine()``."""
    from kocr_sdk.detection.anchor_free.stage import AnchorFreeDetector
    from kocr_sdk.hookspecs import hookimpl

    class Plugin:
        @hookimpl
        def register_detectors(self, register):
            register(AnchorFreeDetector)

    with pytest.raises(Exception, match="weights not found"):
        Engine(plugins=[Plugin()], load_entrypoints=False, options={"anchor-free": {"weights": str(tmp_path / "no.pt")}})


# --------------------------------------------------------------- a bad file in a folder costs only itself
def test_reading_a_directory_keeps_the_good_pages_and_reports_the_bad_file(tmp_path):
    _image(tmp_path / "a.png", 50)
    (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    _image(tmp_path / "c.png", 70)
    engine = Engine(load_entrypoints=False)
    doc = engine.read(tmp_path)
    assert [p.width for p in doc.pages] == [50, 70]
    assert [p.index for p in doc.pages] == [0, 1]
    assert len(doc.failed_inputs) == 1 and doc.failed_inputs[0].source.endswith("b.png")
    assert "b.png" in doc.failed_inputs[0].message
    with pytest.raises(KocrInputError, match="b.png"):
        engine.read(tmp_path, on_error="raise")


def test_one_bad_file_still_raises(tmp_path):
    bad = tmp_path / "b.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(KocrInputError):
        Engine(load_entrypoints=False).read(bad)
    doc = Engine(load_entrypoints=False).read([bad, _image(tmp_path / "ok.png", 30)])
    assert [p.width for p in doc.pages] == [30] and len(doc.failed_inputs) == 1


def test_pinning_a_plugin_that_is_not_installed_is_an_error(monkeypatch):
    from kocr_sdk.errors import KocrPluginError

    monkeypatch.setenv("KOCR_LOAD_PLUGINS", "nonexistent-plugin")
    with pytest.raises(KocrPluginError, match="not installed: nonexistent-plugin"):
        Engine()
    result = run("plugins")
    assert result.exit_code == 1 and "nonexistent-plugin" in result.stderr and "Traceback" not in result.output
