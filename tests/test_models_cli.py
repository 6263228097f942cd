"""``kocr models``: every shipped weights file, as it describes itself, and whether its graph ships."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kocr_sdk.cli.main import cli


@pytest.mark.shipped_models
def test_the_shipped_weights_say_what_they_are_and_bring():
    out = CliRunner().invoke(cli, ["models", "--json"])
    assert out.exit_code == 0, out.output
    files = {m["file"]: m for m in json.loads(out.output)}
    assert files["detector-anchor-free.safetensors"]["kind"] == "detector"
    assert files["detector-anchor-free.safetensors"]["onnx"] == ["detector-anchor-free.onnx"]
    # the settings a read uses come from the file: visible here
    assert files["detector-anchor-free.safetensors"]["inference"]["max_upscaled_side"] == 2560
    assert files["script-id.safetensors"]["kind"] == "script identifier"
    assert {files[f"vitstr-tiny-{s}.safetensors"]["kind"] for s in ("hangul", "latin")} == {"recogniser"}
    text = CliRunner().invoke(cli, ["models"]).output
    assert "inference.decode.word_threshold" in text and "none shipped" in text  # craft has no shipped graph


def test_a_file_that_is_not_weights_is_named_not_a_traceback(tmp_path):
    (tmp_path / "x.safetensors").write_bytes(b"junk")
    out = CliRunner().invoke(cli, ["models", "--dir", str(tmp_path)])
    assert out.exit_code == 0 and "x.safetensors" in out.output and "not kocr model weights" in out.output
    (tmp_path / "none").mkdir()
    empty = CliRunner().invoke(cli, ["models", "--dir", str(tmp_path / "none")])
    assert empty.exit_code != 0 and "no weights files" in empty.output
