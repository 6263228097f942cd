"""The issue-7 experiment script's bookkeeping: arms name their start by content, and resumed arms
report the minutes all their segments took (the compute budget the issue asks each arm to state)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "semi_supervised.py"


@pytest.fixture(scope="module")
def semi():
    spec = importlib.util.spec_from_file_location("semi_supervised", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its pydantic config resolves its annotations in the module
    spec.loader.exec_module(module)
    return module


def test_an_arm_refuses_other_start_weights_under_the_same_name(semi, tmp_path):
    first, second = tmp_path / "a.pt", tmp_path / "b.pt"
    first.write_bytes(b"weights one")
    second.write_bytes(b"weights two")
    arm = tmp_path / "d-shift"
    sha = semi.check_start(arm, first)
    assert (arm / "start.sha256").read_text().strip() == sha
    assert semi.check_start(arm, first) == sha  # same content: reused
    renamed = tmp_path / "renamed.pt"
    renamed.write_bytes(b"weights one")
    assert semi.check_start(arm, renamed) == sha  # content, not path, names the start
    with pytest.raises(SystemExit, match="new --tag"):
        semi.check_start(arm, second)


def test_an_arm_from_before_the_hashes_is_reported_not_stamped(semi, tmp_path, capsys):
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"w")
    arm = tmp_path / "old"
    arm.mkdir()
    (arm / "result.json").write_text("{}")
    semi.check_start(arm, weights)
    assert "cannot check" in capsys.readouterr().err
    assert not (arm / "start.sha256").exists()


def test_minutes_add_up_over_resumed_segments_without_the_lost_steps(semi, tmp_path):
    rows = [(1000, 10.0), (2000, 20.0), (3000, 30.0), (3500, 35.0),  # cut at 3,500; checkpoint at 3,000
            (3025, 0.5), (4000, 12.0)]                                # resumed from 3,000
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(json.dumps({"step": s, "minutes": m}) for s, m in rows) + "\n"
                   + json.dumps({"step": 4000, "val": {}}) + "\n")
    assert semi.logged_minutes(log) == 42.0
    single = tmp_path / "single.jsonl"
    single.write_text("\n".join(json.dumps({"step": s, "minutes": m}) for s, m in rows[:3]))
    assert semi.logged_minutes(single) == 30.0


def test_the_experiments_knobs_live_in_the_benchmark_not_in_the_product_config(semi, tmp_path):
    from kocr_sdk.errors import KocrConfigError
    from kocr_sdk.lab.training.recognizer import RecognizerTrainConfig

    knobs = {"labeled_size": 4, "val_data": {"color": True}, "unlabeled_data": {"color": True},
             "unlabeled_data_start": {"color": False}, "unlabeled_curriculum": 10, "unlabeled_rampup": 4,
             "strong_ops": 1, "strong_magnitude": 0.5}
    for key, value in knobs.items():
        with pytest.raises(KocrConfigError, match=key):
            RecognizerTrainConfig.checked({key: value})
    cfg = semi.ExperimentConfig(out=tmp_path, workers=0, device="cpu", unlabeled="synth:10", **knobs)
    trainer = semi.ExperimentTrainer(cfg)
    stream = trainer.labelled_stream(0)
    assert [stream.sample_index(i) for i in range(6)] == [0, 1, 2, 3, 0, 1]  # the first 4 crops, over and over
    assert trainer.strong().keywords == {"n": 1, "magnitude": 0.5, "operations": cfg.strong_operations}
    trainer.first_step = 10
    assert [trainer.unlabeled_weight_at(s) for s in (10, 11, 13, 20)] == [0.25, 0.5, 1.0, 1.0]
    source = trainer.unlabeled_source()
    assert source.ramp == 10 and source.start_generator is not None
