import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from kocr_sdk import Document
from kocr_sdk.cli.main import cli

SAMPLE = Path(__file__).resolve().parent.parent / "kocr_sdk" / "data" / "sample_ko.png"


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_every_command_has_help():
    for args in (["--help"], ["read", "--help"], ["plugins", "--help"], ["schema", "--help"],
                 ["templates", "--help"], ["templates", "list", "--help"], ["templates", "validate", "--help"]):
        result = run(*args)
        assert result.exit_code == 0 and "Usage:" in result.output, args


def test_read_sample_prints_a_document_and_names_missing_stages():
    result = run("read", str(SAMPLE))
    assert result.exit_code == 0, result.output
    doc = Document.model_validate_json(result.stdout)
    assert doc.pages[0].width == 1000
    assert "stage 'detector' did not run" in result.stderr


def test_read_writes_files_to_out(tmp_path):
    result = run("read", str(SAMPLE), "--format", "hocr", "--out", str(tmp_path), "-q")
    assert result.exit_code == 0
    assert (tmp_path / "sample_ko.hocr").read_text().startswith("<?xml")
    assert result.stderr == ""


def test_read_jsonl_format():
    result = run("read", str(SAMPLE), "--format", "jsonl", "-q")
    record = json.loads(result.stdout)
    assert record["image"] == "sample_ko.png" and record["words"] == []


def test_bad_input_exits_non_zero_with_one_line_per_problem(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    result = run("read", str(bad), str(tmp_path / "missing.png"))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("kocr: error:") and "not an image" in lines[0]
    assert "no such file" in lines[1]
    assert lines[-1] == "kocr: error: 2 of 2 inputs could not be read"
    assert "Traceback" not in result.output


def test_console_script_reports_errors_without_traceback(tmp_path):
    kocr = Path(sys.executable).parent / "kocr"
    proc = subprocess.run([str(kocr), "read", str(tmp_path / "nope.png")], capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith("kocr: error:") and "Traceback" not in proc.stderr


def test_bad_config_is_one_clear_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("detector: nope\n")
    result = run("read", str(SAMPLE), "--config", str(cfg))
    assert result.exit_code == 1
    assert "kocr: error: no detector named 'nope'" in result.stderr


def test_schema_command(tmp_path):
    result = run("schema")
    assert json.loads(result.stdout)["title"] == "Document"
    run("schema", "--out", str(tmp_path / "s.json"))
    assert json.loads((tmp_path / "s.json").read_text())["title"] == "Document"


def test_templates_list_and_validate():
    result = run("templates", "list")
    assert "kr_business_registration" in result.output
    root = Path(__file__).resolve().parent.parent / "kocr_sdk" / "data" / "templates"
    result = run("templates", "validate", str(root))
    assert result.exit_code == 0 and result.output.count("ok ") == len(list(root.glob("*.yaml")))


def test_plugins_lists_builtins_and_empty_stages():
    result = run("plugins")
    assert "kocr_sdk.default_plugins.templates" in result.output
    assert "stages with no implementation installed" in result.output
