"""The default install reads pages and nothing more: torch, transformers, spaCy, scikit-learn and
the data generator's packages are extras, and what needs one says which to install."""

from __future__ import annotations

import builtins
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kocr_sdk import Engine, EngineConfig
from kocr_sdk.errors import KocrConfigError

ROOT = Path(__file__).resolve().parent.parent
EXTRAS_ONLY = {"torch", "transformers", "spacy", "scikit-learn", "faker", "wordfreq"}


@pytest.mark.slow
def test_pip_resolves_the_default_install_without_torch_or_the_lab(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("kocr_sdk-*.whl"))
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--dry-run", "--ignore-installed",
                           "--report", str(report), str(wheel)], capture_output=True, text=True)
    if done.returncode != 0 and ("No matching distribution" in done.stderr or "connection" in done.stderr.lower()):
        pytest.skip(f"the package index cannot be reached: {done.stderr.strip()[-200:]}")
    assert done.returncode == 0, done.stderr
    names = {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}
    assert {"kocr-sdk", "onnxruntime", "numpy", "opencv-python-headless"} <= names
    assert not names & EXTRAS_ONLY, names & EXTRAS_ONLY


def _without(monkeypatch, *modules: str) -> None:
    real = builtins.__import__

    def blocked(name, *args, **kwargs):
        if name.split(".")[0] in modules:
            raise ImportError(f"No module named {name!r} (blocked by the test)")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", blocked)


def test_runtime_torch_without_torch_says_which_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    with pytest.raises(KocrConfigError, match=r"kocr-sdk\[torch\]"):
        Engine(EngineConfig(runtime="torch", device="cpu"), load_entrypoints=False)


def test_dbscan_beyond_min_samples_1_without_scikit_learn_says_which_extra(monkeypatch):
    from kocr_sdk.layout.neighbours import dbscan_labels

    _without(monkeypatch, "sklearn")
    with pytest.raises(KocrConfigError, match=r"kocr-sdk\[cluster\]"):
        dbscan_labels(3, np.array([0]), np.array([1]), np.array([0.1]), 0.5, 2)
    assert dbscan_labels(3, np.array([0]), np.array([1]), np.array([0.1]), 0.5, 1).tolist() == [0, 0, 1]
