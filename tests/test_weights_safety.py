"""Loading weights never runs code: every place kocr reads a weights file or a checkpoint.

Weight files travel between people, and a ``torch.save`` pickle can carry an object whose
``__reduce__`` runs a shell command when it is unpickled. Each test below hands such a file to
one entry point — a stage's ``weights`` option through the engine config, ``kocr export onnx``,
``kocr train export``, ``--init-from``, every trainer's ``--resume`` — and checks that the command
never ran (no marker file) and that the user gets a KocrModelError or a one-line CLI error.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from kocr_sdk.cli.main import cli
from kocr_sdk.errors import KocrModelError


class Evil:
    """Unpickling this runs ``touch <marker>``: what a hostile weights file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(str(self.marker))}",))


@pytest.fixture
def marker(tmp_path) -> Path:
    return tmp_path / "pwned"


@pytest.fixture
def evil(tmp_path, marker) -> Path:
    """A plausible kocr payload (``{"model": ..., "meta": ...}``) with the code in its meta."""
    path = tmp_path / "evil.pt"
    payload = {"model": {"w": torch.zeros(2)},
               "meta": {"arch": "afd-tiny", "charset": "hangul", "classes": ["hangul", "latin"], "note": Evil(marker)},
               "step": 1, "samples_seen": 8, "arch": "vitstr-tiny", "charset": "hangul", "config": {}}
    torch.save(payload, path)
    return path


@pytest.fixture(autouse=True)
def keep_torch_threads():
    """Trainers set torch's thread count for the process; put it back for the tests after."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _refused(result, marker: Path) -> None:
    """A clean CLI refusal: exit 1 by ``sys.exit`` (not an escaped exception), a ``kocr: error``
    line naming the file as not kocr weights/checkpoint, and the hostile command never ran."""
    assert not marker.exists(), "the pickled command ran"
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "kocr: error:" in result.output and "evil.pt is not" in result.output, result.output
    assert "Traceback" not in result.output


def _refused_call(marker: Path, call, pattern: str) -> None:
    """``call()`` raises a KocrModelError matching ``pattern``, and the hostile command never ran
    (checked first: on code that unpickles, that is the failure to see)."""
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - judged below, after the marker
        error: Exception | None = exc
    else:
        error = None
    assert not marker.exists(), "the pickled command ran"
    assert isinstance(error, KocrModelError) and re.search(pattern, str(error)), repr(error)


# ------------------------------------------------------------------ stages, through the engine
@pytest.mark.shipped_models
@pytest.mark.parametrize("stage, config", [
    ("anchor-free", {"detector": "anchor-free"}),
    ("craft", {"detector": "craft"}),
    ("script-cnn", {"script_identifier": "script-cnn"}),
    ("vitstr-tiny-hangul", {}),
])
def test_a_stages_weights_option_never_unpickles_code(evil, marker, stage, config):
    from kocr_sdk import Engine, EngineConfig

    cfg = EngineConfig(device="cpu", options={stage: {"weights": str(evil)}}, **config)
    _refused_call(marker, lambda: Engine(cfg, load_entrypoints=False), "evil.pt is not kocr .* weights")


@pytest.mark.shipped_models
def test_kocr_read_with_hostile_weights_in_kocr_options_is_a_clean_error(evil, marker, monkeypatch):
    monkeypatch.setenv("KOCR_OPTIONS", '{"anchor-free": {"weights": "%s"}}' % evil)
    sample = Path(__file__).resolve().parents[1] / "kocr_sdk" / "data" / "sample_ko.png"
    _refused(CliRunner().invoke(cli, ["read", str(sample), "--format", "json"]), marker)


# ------------------------------------------------------------------------------------ exports
@pytest.mark.parametrize("option", ["--detector", "--script-id", "--recognizer"])
def test_kocr_export_onnx_never_unpickles_code(evil, marker, tmp_path, option):
    result = CliRunner().invoke(cli, ["export", "onnx", option, str(evil), "--out", str(tmp_path / "onnx")])
    _refused(result, marker)


def test_kocr_export_onnx_quantize_reads_the_detector_settings_safely(evil, marker, tmp_path):
    result = CliRunner().invoke(cli, ["export", "onnx", "--detector", str(evil), "--quantize",
                                      "--out", str(tmp_path / "onnx")])
    _refused(result, marker)


def test_kocr_train_export_never_unpickles_code(evil, marker, tmp_path):
    _refused(CliRunner().invoke(cli, ["train", "export", str(evil), str(tmp_path / "out.safetensors")]), marker)


@pytest.mark.parametrize("module, call", [
    ("detector", lambda m, src, out: m.export_weights(src, out)),
    ("script_id", lambda m, src, out: m.export_weights(src, out)),
    ("seqclr", lambda m, src, out: m.export_encoder(src, out)),
    ("ner", lambda m, src, out: m.export_model(src, out)),
])
def test_every_export_function_never_unpickles_code(evil, marker, tmp_path, module, call):
    import importlib

    trainer = importlib.import_module(f"kocr_sdk.lab.training.{module}")
    _refused_call(marker, lambda: call(trainer, evil, tmp_path / "out"), "evil.pt is not a kocr .* checkpoint")


# ------------------------------------------------------------------------- starting a training run
def test_train_recognizer_init_from_never_unpickles_code(evil, marker, tmp_path, monkeypatch):
    import kocr_sdk.lab.training.recognizer as recognizer

    monkeypatch.setattr(recognizer, "train", lambda cfg, resume=None, progress=True: {
        "step": 0, "samples_seen": 0, "val": {}})  # no training, whatever happens before it
    result = CliRunner().invoke(cli, ["train", "recognizer", "--init-from", str(evil), "--out", str(tmp_path / "run"),
                                      "-q", "--max-steps", "1"])
    _refused(result, marker)


def test_init_from_helpers_never_unpickle_code(evil, marker):
    from kocr_sdk.detection.anchor_free.model import create_model as create_detector
    from kocr_sdk.recognition.architectures import create_model as create_recognizer
    from kocr_sdk.recognition.charset import hangul_charset
    from kocr_sdk.lab.training import detector, recognizer

    _refused_call(marker, lambda: detector.init_from_weights(create_detector("afd-tiny"), evil), "evil.pt is not")
    charset = hangul_charset()
    _refused_call(marker, lambda: recognizer.init_from_weights(create_recognizer("vitstr-tiny", len(charset)), charset,
                                                                evil), "evil.pt is not")


@pytest.mark.parametrize("command", [
    ["train", "detector"],
    ["train", "recognizer"],
    ["train", "script-id", "--workers", "0"],
    ["train", "ner"],
    ["train", "recognizer-pretrain"],
])
def test_every_trainers_resume_never_unpickles_code(evil, marker, tmp_path, command):
    result = CliRunner().invoke(cli, command + ["--resume", str(evil), "--out", str(tmp_path / "run"), "-q",
                                                "--max-steps", "1"])
    _refused(result, marker)


def test_load_checkpoint_never_unpickles_code(evil, marker):
    from kocr_sdk.recognition.architectures import create_model
    from kocr_sdk.lab.training.checkpoint import load_checkpoint

    _refused_call(marker, lambda: load_checkpoint(evil, create_model("vitstr-tiny", 10)),
                  "evil.pt is not a kocr checkpoint")


# ------------------------------------------------------------------------------ the file format
def test_weights_round_trip_through_safetensors(tmp_path):
    from kocr_sdk.weights_file import read_checkpoint, read_meta, read_weights, write_weights

    state = {"conv.weight": torch.randn(4, 3, 3, 3).half(), "bn.num_batches_tracked": torch.tensor(7),
             "tied": torch.ones(3)}
    state["view"] = state["tied"][:2]  # shares storage: written as its own tensor
    meta = {"arch": "afd-tiny", "classes": ["hangul", "latin"], "val": {"hmean": 0.5, "n": 3}, "note": "한글"}
    path = write_weights(tmp_path / "w.safetensors", state, meta)
    assert path.read_bytes()[8:9] == b"{"  # a safetensors header, not a pickle
    loaded, loaded_meta = read_weights(path, "detector")
    assert loaded_meta == meta and read_meta(path, "detector") == meta
    assert set(loaded) == set(state)
    assert all(torch.equal(loaded[k], v) and loaded[k].dtype == v.dtype for k, v in state.items())
    assert read_checkpoint(path)["meta"] == meta  # a weights file is a warm-start checkpoint too


def test_an_older_pt_export_still_loads_weights_only(tmp_path):
    """Files exported by earlier versions are pickles of plain values: they keep working."""
    from kocr_sdk.detection.anchor_free.model import create_model
    from kocr_sdk.detection.anchor_free.inference import load_weights
    from kocr_sdk.weights_file import read_weights

    model = create_model("afd-tiny")
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save({"model": state, "meta": {"arch": "afd-tiny", "inference": {"max_side": 256}}}, tmp_path / "old.pt")
    assert read_weights(tmp_path / "old.pt")[1]["arch"] == "afd-tiny"
    _, meta = load_weights(tmp_path / "old.pt")
    assert meta["inference"] == {"max_side": 256}


@pytest.mark.parametrize("content", [
    os.urandom(4096),                       # random bytes
    b"",                                    # empty
    b"not a weights file at all",
])
def test_garbage_is_a_model_error(tmp_path, content):
    from kocr_sdk.weights_file import read_checkpoint, read_weights

    path = tmp_path / "garbage.safetensors"
    path.write_bytes(content)
    with pytest.raises(KocrModelError, match="garbage.safetensors is not kocr recogniser weights"):
        read_weights(path, "recogniser")
    with pytest.raises(KocrModelError, match="garbage.safetensors is not a kocr training checkpoint"):
        read_checkpoint(path)


def test_a_truncated_safetensors_file_is_a_model_error(tmp_path):
    from kocr_sdk.weights_file import read_meta, read_weights, write_weights

    whole = write_weights(tmp_path / "whole.safetensors", {"w": torch.randn(64)}, {"arch": "x"}).read_bytes()
    for cut in (len(whole) - 10, 40, 12):
        path = tmp_path / f"cut{cut}.safetensors"
        path.write_bytes(whole[:cut])
        with pytest.raises(KocrModelError, match=f"cut{cut}.safetensors is not kocr detector weights"):
            read_weights(path, "detector")
    with pytest.raises(KocrModelError, match="is not kocr detector weights"):
        read_meta(tmp_path / "cut12.safetensors", "detector")


def test_files_that_are_not_kocr_weights_are_model_errors(tmp_path):
    from safetensors.torch import save_file

    from kocr_sdk.weights_file import read_weights

    save_file({"w": torch.zeros(2)}, str(tmp_path / "foreign.safetensors"))  # no kocr meta
    with pytest.raises(KocrModelError, match="without kocr's 'kocr' metadata"):
        read_weights(tmp_path / "foreign.safetensors", "detector")
    torch.save({"model": {"w": torch.zeros(2)}}, tmp_path / "no-meta.pt")
    with pytest.raises(KocrModelError, match="no 'meta'"):
        read_weights(tmp_path / "no-meta.pt", "detector")
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    with pytest.raises(KocrModelError, match="not kocr detector weights"):
        read_weights(tmp_path / "list.pt", "detector")
    with pytest.raises(KocrModelError, match="a directory"):
        read_weights(tmp_path, "detector")
    with pytest.raises(KocrModelError, match="detector weights not found"):
        read_weights(tmp_path / "missing.safetensors", "detector")


def test_checkpoints_hold_only_what_weights_only_loads(tmp_path):
    """numpy scalars and paths in a trainer's extras are saved as plain values; a checkpoint
    saved by ``save_checkpoint`` loads with ``weights_only=True``."""
    import numpy as np

    from kocr_sdk.lab.training.checkpoint import load_checkpoint, save_checkpoint

    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    save_checkpoint(tmp_path / "last.pt", model, optimizer, step=np.int64(3), history=[{"acc": np.float32(0.5)}],
                    out=tmp_path, config={"pair": (1, 2)})
    raw = torch.load(tmp_path / "last.pt", weights_only=True)
    assert raw["step"] == 3 and type(raw["step"]) is int and raw["out"] == str(tmp_path)
    assert load_checkpoint(tmp_path / "last.pt", torch.nn.Linear(3, 2), torch.optim.AdamW(model.parameters()))["step"] == 3
    with pytest.raises(TypeError, match="weights_only"):
        save_checkpoint(tmp_path / "bad.pt", model, optimizer, thing=object())
    with pytest.raises(KocrModelError, match="does not fit"):
        load_checkpoint(tmp_path / "last.pt", torch.nn.Linear(4, 2))


def test_resume_checkpoints_and_shipped_weights_load_without_unpickling_code(tmp_path):
    """A trainer's resume state and the shipped weights (which are what training resumes from:
    no optimiser-laden file is committed) both read back without unpickling code."""
    from kocr_sdk.lab.training.checkpoint import save_checkpoint
    from kocr_sdk.weights_file import read_checkpoint, read_weights

    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    save_checkpoint(tmp_path / "last.pt", model, optimizer, step=1, samples_seen=8, config={"lr": 1e-3})
    payload = read_checkpoint(tmp_path / "last.pt")
    assert {"model", "optimizer", "step"} <= set(payload) and payload["step"] == 1

    root = Path(__file__).resolve().parents[1]
    shipped = sorted((root / "kocr_sdk" / "weights").glob("*.safetensors"))
    assert shipped and not list((root / "kocr_sdk" / "weights").glob("*.pt"))
    for path in shipped:
        state, meta = read_weights(path, "shipped")
        assert state and "arch" in meta and "step" in meta, path
        assert set(read_checkpoint(path)) == {"model", "meta"}, path  # a warm start: no optimiser state
