"""``runtime: onnx`` reads pages without torch (nor transformers), from the graphs shipped in
``kocr_sdk/weights/onnx/``; and those graphs are the ones a fresh export of the shipped
weights gives.

The processes that must not see torch run with an import blocker installed before kocr is
imported (a meta-path finder that refuses the names, as if they were not installed), so a
module that imports torch where it need not fails these tests.

Tolerances of the graph comparison are tests/test_onnx.py's: detector maps and recogniser and
NER logits within 1e-4 absolute, script probabilities within 1e-5.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from kocr_sdk.resources import SAMPLE_PAGE, WEIGHTS_DIR  # noqa: E402
from kocr_sdk.runtime.onnx import SHIPPED_DIR, OnnxModule, content_key, read_manifest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

#: Installed first in the child process: torch and transformers cannot be imported.
BLOCKER = """
import sys
class _Blocked:
    names = {blocked!r}
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)")
        return None
sys.meta_path.insert(0, _Blocked())
"""


def run_without(blocked: tuple[str, ...], code: str, cache: Path) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter where ``blocked`` cannot be imported; this checkout's kocr."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "KOCR_ONNX_CACHE": str(cache), "KOCR_LOAD_PLUGINS": ""}
    return subprocess.run([sys.executable, "-c", BLOCKER.format(blocked=set(blocked)) + code], capture_output=True,
                          text=True, env=env, cwd=str(REPO), timeout=600)


READ_SAMPLE = f"""
import json
import kocr_sdk
from kocr_sdk import Engine
doc = Engine(runtime="onnx", threads=1).read({str(SAMPLE_PAGE)!r})
loaded = sorted(m for m in sys.modules if m.split(".")[0] in _Blocked.names)
print(json.dumps({{"loaded": loaded, "words": [[w.text, w.quad] for w in doc.words()],
                   "entities": [e.label for p in doc.pages for e in p.entities]}}))
"""


@pytest.mark.shipped_models
@pytest.mark.slow
def test_onnx_engine_reads_the_sample_without_torch_or_transformers(tmp_path, monkeypatch):
    out = run_without(("torch", "transformers"), READ_SAMPLE, tmp_path / "cache")
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["loaded"] == []
    texts = [t for t, _ in got["words"]]
    assert len(texts) >= 10 and "사업자등록증" in texts
    assert got["entities"], "NER ran and tagged the sample's entities"

    # Where torch is installed the onnx runtime reads the same page the same way: no step of
    # it depends on whether torch can be imported.
    monkeypatch.setenv("KOCR_ONNX_CACHE", str(tmp_path / "cache"))
    from kocr_sdk import Engine

    doc = Engine(runtime="onnx", threads=1).read(SAMPLE_PAGE)
    assert [w.text for w in doc.words()] == texts
    for w, (_, quad) in zip(doc.words(), got["words"]):
        assert np.allclose(np.asarray(w.quad), np.asarray(quad), atol=1e-3)


def test_import_and_engine_config_need_no_torch(tmp_path):
    code = "import kocr_sdk\nfrom kocr_sdk import Engine, EngineConfig\nprint(sorted(m for m in sys.modules if m.split('.')[0] in _Blocked.names))"
    out = run_without(("torch", "transformers", "sklearn"), code, tmp_path / "cache")
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "[]"


def test_weights_without_a_shipped_graph_ask_for_torch(tmp_path):
    """A retrained (or the user's own) weights file has no shipped graph; exporting one needs
    torch, and without it the error says so rather than failing on an import deep inside."""
    torch = pytest.importorskip("torch")
    from kocr_sdk.detection.anchor_free.model import create_model
    from kocr_sdk.weights_file import write_weights

    torch.manual_seed(0)
    path = tmp_path / "detector.safetensors"
    write_weights(path, create_model("afd-slim").state_dict(), {"arch": "afd-slim", "inference": {"max_side": 256}})
    code = (f"from kocr_sdk.detection.anchor_free.stage import AnchorFreeDetector\n"
            f"from kocr_sdk.errors import KocrConfigError\n"
            f"try:\n    AnchorFreeDetector(weights={str(path)!r}, runtime='onnx', quantize=False)\n"
            f"except KocrConfigError as exc:\n    print('KocrConfigError:', exc)\n")
    out = run_without(("torch",), code, tmp_path / "cache")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "KocrConfigError" in out.stdout and "install torch" in out.stdout


# --- the shipped graphs ---------------------------------------------------------------------------
def _default_sources() -> list[str]:
    """The shipped weights the onnx runtime runs by default (each needs a shipped graph)."""
    from kocr_sdk.recognition.vitstr import config as vit_config
    from kocr_sdk.weights_file import read_meta

    names = ["detector-anchor-free.safetensors", "script-id.safetensors", "ner-char-bert/model.safetensors"]
    for path in sorted(WEIGHTS_DIR.glob("*.safetensors")):
        try:
            arch = read_meta(path, "recogniser").get("arch")
        except Exception:
            continue
        if arch in vit_config.ARCHS:
            names.append(path.name)
    return [n for n in names if (WEIGHTS_DIR / n).is_file()]


def test_manifest_keys_match_the_shipped_weights():
    """A weights file retrained without `kocr export onnx --package` fails here, not on a user's
    machine (where the stale graph would be ignored and torch asked for)."""
    entries = read_manifest()["graphs"]
    for entry in entries:
        sources = [WEIGHTS_DIR / s for s in entry["sources"]]
        assert content_key(sources) == entry["sha256"], (
            f"{entry['file']}: {', '.join(entry['sources'])} changed since its graph was exported; "
            "run `kocr export onnx --package`")
        assert (SHIPPED_DIR / entry["file"]).is_file()
    covered = {s for e in entries for s in e["sources"]}
    assert set(_default_sources()) <= covered
    assert {(e["kind"], e["int8"]) for e in entries} == {
        ("detector", False), ("script-id", False), ("recognizer", True), ("ner", False)}


def test_package_data_includes_the_graphs():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["kocr_sdk"]
    assert "weights/onnx/*" in data or "weights/*/*" in data


def _feeds(kind: str, rng: np.random.Generator) -> list[tuple]:
    """Inputs for a graph of ``kind``: padded batches where the graph takes widths or masks."""
    if kind == "detector":
        return [((rng.random((1, 3, h, w), np.float32) * 4 - 2),) for h, w in ((96, 128), (160, 64))]
    if kind in ("script-id", "recognizer"):
        out = []
        for widths in ([120, 48, 8], [96, 96]):
            x = rng.random((len(widths), 1, 32, max(widths)), np.float32)
            for i, w in enumerate(widths):
                x[i, :, :, w:] = 0
            out.append((x, np.asarray(widths, np.int64)))
        return out
    ids = rng.integers(5, 100, (3, 20)).astype(np.int64)
    mask = np.ones_like(ids)
    mask[1, 12:] = 0
    return [(ids, mask)]


@pytest.mark.shipped_models
@pytest.mark.slow
def test_shipped_graphs_are_a_fresh_export(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from kocr_sdk.cli.export import package_graphs
    from kocr_sdk.runtime.onnx import softmax

    fresh = {e["file"]: e for e in package_graphs(tmp_path / "fresh")}
    shipped = read_manifest()["graphs"]
    assert {e["file"] for e in shipped} == set(fresh)
    rng = np.random.default_rng(0)
    for entry in shipped:
        assert fresh[entry["file"]]["sha256"] == entry["sha256"]
        a = OnnxModule(SHIPPED_DIR / entry["file"], threads=1)
        b = OnnxModule(tmp_path / "fresh" / entry["file"], threads=1)
        for args in _feeds(entry["kind"], rng):
            x, y = a(*args), b(*args)
            pairs = [(x[k], y[k]) for k in x] if isinstance(x, dict) else [(x, y)]
            for u, v in pairs:
                assert u.shape == v.shape, entry["file"]
                if entry["kind"] == "script-id":
                    u, v, tol = softmax(u), softmax(v), 1e-5
                else:
                    tol = 1e-4
                assert float(np.abs(u - v).max()) <= tol, entry["file"]


def test_sessions_share_one_arena_and_still_run_when_it_cannot_be_registered(monkeypatch):
    """One CPU arena for every session (the memory peak of a large page); where onnxruntime refuses
    to register it, sessions fall back to their own arenas and give the same outputs."""
    import onnxruntime as ort

    from kocr_sdk.runtime import onnx as runtime

    crops = np.random.default_rng(0).random((2, 1, 32, 64), dtype=np.float32)
    widths = np.array([64, 40], dtype=np.int64)
    path = SHIPPED_DIR / "script-id.onnx"
    shared = OnnxModule(path, threads=1)(crops, widths)
    assert runtime._arena in ([True], [False])

    def refuse(*args, **kwargs):
        raise RuntimeError("an allocator is already registered")

    monkeypatch.setattr(runtime, "_arena", [])
    monkeypatch.setattr(ort, "create_and_register_allocator", refuse)
    alone = OnnxModule(path, threads=1)(crops, widths)
    assert runtime._arena == [False]
    np.testing.assert_allclose(alone, shared, atol=1e-6)
