"""The ONNX path gives the torch path's numbers: the three networks, exported from randomly
initialised models (no shipped weights needed), compared output for output.

Tolerances: detector maps and recogniser logits within 1e-4 absolute (measured ~1e-6; fp32
kernels sum in a different order), script probabilities within 1e-5, and the greedy CTC
reading identical.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

from kocr_sdk import Engine, EngineConfig, TextDetector, hookimpl  # noqa: E402
from kocr_sdk.detection.anchor_free import stage as det  # noqa: E402
from kocr_sdk.detection.anchor_free.model import create_model as create_detector  # noqa: E402
from kocr_sdk.detection.anchor_free.model import fuse_batchnorm, normalise  # noqa: E402
from kocr_sdk.interfaces import Detection  # noqa: E402
from kocr_sdk.recognition.charset import CHARSETS  # noqa: E402
from kocr_sdk.recognition.vitstr.decode import greedy_decode  # noqa: E402
from kocr_sdk.recognition.vitstr.model import create_model as create_recognizer  # noqa: E402
from kocr_sdk.recognition.stage import CtcRecognizer  # noqa: E402
from kocr_sdk.runtime.export import (  # noqa: E402
    export_detector,
    export_recognizer,
    export_script_identifier,
    onnx_module,
)
from kocr_sdk.runtime.onnx import OnnxModule  # noqa: E402
from kocr_sdk.script_id.model import create_model as create_script, fuse_for_inference  # noqa: E402
from kocr_sdk.weights_file import write_weights  # noqa: E402


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KOCR_ONNX_CACHE", str(tmp_path / "cache"))


def _randomise_batchnorm(model):
    """Non-trivial running statistics, so folding them into the convolutions is tested too."""
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    return model


def test_detector_parity(tmp_path):
    torch.manual_seed(0)
    model = fuse_batchnorm(_randomise_batchnorm(create_detector("afd-slim")).eval())
    onnx = OnnxModule(export_detector(model, tmp_path / "det.onnx"))
    for h, w in ((96, 128), (160, 64)):  # any size, not only the one traced
        x = normalise(torch.randint(0, 256, (1, 3, h, w), dtype=torch.uint8))
        with torch.no_grad():
            ref = model(x)
        got = {k: torch.from_numpy(v) for k, v in onnx(x).items()}  # sessions return numpy arrays
        assert set(got) == set(ref)
        for k in ref:
            assert got[k].shape == ref[k].shape
            assert torch.allclose(got[k], ref[k], atol=1e-4), (k, float((got[k] - ref[k]).abs().max()))


def test_script_identifier_parity(tmp_path):
    torch.manual_seed(0)
    model = fuse_for_inference(_randomise_batchnorm(create_script("script-cnn", 6)))
    onnx = OnnxModule(export_script_identifier(model, tmp_path / "sid.onnx"))
    for widths in ([120, 48, 8], [96, 96]):  # padded and unpadded batches
        x = torch.rand(len(widths), 1, 32, max(widths))
        for i, w in enumerate(widths):
            x[i, :, :, w:] = 0
        w = torch.tensor(widths)
        with torch.no_grad():
            ref = model(x.clone(), w).softmax(-1)
        got = torch.from_numpy(onnx(x, w)).softmax(-1)
        assert torch.allclose(got, ref, atol=1e-5)


def test_recognizer_parity_and_same_reading(tmp_path):
    torch.manual_seed(0)
    charset = CHARSETS["latin"]()
    model = create_recognizer("vitstr-tiny", len(charset)).eval()
    onnx = OnnxModule(export_recognizer(model, tmp_path / "rec.onnx"))
    for widths in ([128, 64, 4], [256]):
        x = torch.rand(len(widths), 1, 32, max(widths))
        w = torch.tensor(widths)
        with torch.no_grad():
            ref = model(x, w)
        got = torch.from_numpy(onnx(x, w))
        frames = model.frames(w)
        for i, n in enumerate(frames.tolist()):  # padded frames are masked and never decoded
            assert torch.allclose(got[i, :n], ref[i, :n], atol=1e-4)
        a, b = greedy_decode(got, frames, charset), greedy_decode(ref, frames, charset)
        assert [t for t, _, _ in a] == [t for t, _, _ in b]
        assert [c for _, c, _ in a] == pytest.approx([c for _, c, _ in b], abs=1e-5)


def test_recognizer_stage_on_onnx_reads_like_torch(tmp_path):
    torch.manual_seed(1)
    charset = CHARSETS["latin"]()
    model = create_recognizer("vitstr-tiny", len(charset))
    path = tmp_path / "vitstr-tiny-latin.safetensors"
    write_weights(path, model.state_dict(), {"arch": "vitstr-tiny", "charset": "latin"})

    class Rec(CtcRecognizer):
        name, scripts, weights = "rec", ("latin",), path.name

    crops = [np.random.default_rng(i).integers(0, 255, (24, 20 + 30 * i, 3), dtype=np.uint8) for i in range(4)]
    torch_rec = Rec(weights=str(path), quantize=False)
    onnx_rec = Rec(weights=str(path), quantize=False, runtime="onnx")
    assert isinstance(onnx_rec.model, OnnxModule)
    a, b = torch_rec.recognize(crops), onnx_rec.recognize(crops)
    assert [r.text for r in a] == [r.text for r in b]
    assert np.allclose([r.confidence for r in a], [r.confidence for r in b], atol=1e-4)
    # int8 on onnxruntime: loads and reads (its numbers differ from fp32 by design)
    assert len(Rec(weights=str(path), quantize=True, runtime="onnx").recognize(crops)) == 4


def test_onnx_exports_are_cached_by_weights(tmp_path):
    model = fuse_for_inference(create_script("script-cnn-small", 6))
    first = onnx_module("script-id", model, export_script_identifier)
    second = onnx_module("script-id", model, export_script_identifier)
    assert first.path == second.path and len(list((tmp_path / "cache").glob("*.onnx"))) == 1


class OnnxAware(TextDetector):
    name = "onnx-aware"
    runtimes = ("torch", "onnx")
    seen: list[str] = []

    def __init__(self, device="cpu", runtime="torch", **options):
        super().__init__(device=device, **options)
        OnnxAware.seen.append(runtime)

    def detect(self, image):
        return Detection(words=[])


class TorchOnly(OnnxAware):
    name = "torch-only"
    runtimes = ("torch",)


class Plugin:
    @staticmethod
    @hookimpl
    def register_detectors(register):
        register(OnnxAware)
        register(TorchOnly)


def test_engine_runtime_reaches_stages_that_have_an_onnx_path():
    image = np.full((40, 40, 3), 255, np.uint8)
    OnnxAware.seen = []
    for name in ("onnx-aware", "torch-only"):
        Engine(EngineConfig(detector=name, runtime="onnx"), plugins=[Plugin], load_entrypoints=False).read(image)
    assert OnnxAware.seen == ["onnx", "torch"]


def test_runtime_auto_is_onnxruntime_on_a_cpu_and_torch_elsewhere(monkeypatch):
    import importlib.util

    from kocr_sdk.config import resolve_runtime

    assert EngineConfig().compute.runtime == "auto"
    assert resolve_runtime("auto", "cpu") == "onnx"  # the test environment has onnxruntime and onnx
    assert resolve_runtime("auto", "cuda") == "torch" and resolve_runtime("auto", "cuda:1") == "torch"
    assert resolve_runtime("torch", "cpu") == "torch" and resolve_runtime("onnx", "cpu") == "onnx"
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    assert resolve_runtime("auto", "cpu") == "torch"  # without onnxruntime the torch path still reads


def test_device_auto_asks_torch_only_where_the_machine_shows_a_gpu(monkeypatch):
    import sys

    from kocr_sdk import config

    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setattr(config, "_gpu_device_nodes", lambda: False)
    assert config.resolve_device("auto") == "cpu" and "torch" not in sys.modules
    monkeypatch.setattr(config, "_gpu_device_nodes", lambda: True)
    assert config.resolve_device("auto", cuda_available=True) == "cuda"
    assert config.resolve_device("auto", cuda_available=False) == "cpu"


def test_an_engine_with_no_runtime_given_runs_onnx_aware_stages_on_onnx_on_a_cpu():
    image = np.full((40, 40, 3), 255, np.uint8)
    OnnxAware.seen = []
    engine = Engine(EngineConfig(detector="onnx-aware", device="cpu"), plugins=[Plugin], load_entrypoints=False)
    engine.read(image)
    assert engine.runtime == "onnx" and OnnxAware.seen == ["onnx"]


def test_detector_stage_declares_onnx():
    assert "onnx" in det.AnchorFreeDetector.runtimes


# --- int8 where the CPU has an int8 dot product ---------------------------------------------------
XEON = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni amx_int8\n"
EPYC = "processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n"
GRAVITON = "processor\t: 0\nFeatures\t: fp asimd crc32 asimddp\n"


def test_int8_is_chosen_by_the_cpus_dot_product_instructions():
    from kocr_sdk.runtime.cpu import INT8_DOT_FLAGS, cpu_flags

    assert cpu_flags(XEON) & INT8_DOT_FLAGS == {"avx512_vnni", "amx_int8"}
    assert not cpu_flags(EPYC) & INT8_DOT_FLAGS
    assert cpu_flags(GRAVITON) & INT8_DOT_FLAGS == {"asimddp"}
    assert cpu_flags("model name: flags are not here\n") == set()


def _detector_weights(tmp_path):
    torch.manual_seed(0)
    model = _randomise_batchnorm(create_detector("afd-slim"))
    path = tmp_path / "detector.safetensors"
    write_weights(path, model.state_dict(), {"arch": "afd-slim", "inference": {"max_side": 256}})
    return path


@pytest.fixture
def small_calibration(monkeypatch):
    """Two small random pages instead of eight generated A4 pages: the mechanism, not its ranges."""
    from kocr_sdk.detection.anchor_free import calibration

    pages = [np.random.default_rng(i).integers(0, 256, (200, 150 + 40 * i, 3), dtype=np.uint8) for i in range(2)]
    monkeypatch.setattr(calibration, "calibration_images", lambda source=None, n=2: iter(pages))


def test_static_int8_detector_is_calibrated_cached_and_close_to_fp32(tmp_path, small_calibration):
    path = _detector_weights(tmp_path)
    fp32 = det.AnchorFreeDetector(weights=path, runtime="onnx", quantize=False)
    int8 = det.AnchorFreeDetector(weights=path, runtime="onnx", quantize=True)
    assert int8.model.path.name.endswith("-int8.onnx") and not fp32.model.path.name.endswith("-int8.onnx")
    graph = __import__("onnx").load(str(int8.model.path)).graph
    assert {"QuantizeLinear", "DequantizeLinear"} <= {node.op_type for node in graph.node}
    # the full-resolution layers stay fp32: none of their weights has an int8 twin
    int8_weights = {t.name for t in graph.initializer if t.data_type == 3}  # INT8
    assert int8_weights and not any(name.startswith(("model.stem", "model.s4.")) for name in int8_weights)
    from kocr_sdk.detection.anchor_free.calibration import calibration_feeds

    x = next(calibration_feeds(fp32.config))["image"]  # a page inside the calibrated ranges
    a, b = fp32.model(x), int8.model(x)
    for k in a:  # int8 rounds (max error measured ~0.015 on every map), but they are the same maps
        assert b[k].shape == a[k].shape
        assert 0 < float(np.abs(a[k] - b[k]).max()) < 0.05, k
    again = det.AnchorFreeDetector(weights=path, runtime="onnx", quantize=True)  # from the cache
    assert again.model.path == int8.model.path
    with pytest.raises(det.KocrConfigError, match="runtime: onnx"):
        det.AnchorFreeDetector(weights=path, quantize=True)


def test_cli_export_writes_the_detectors_int8_twin(tmp_path, small_calibration):
    from click.testing import CliRunner

    from kocr_sdk.cli.main import cli

    path = _detector_weights(tmp_path)
    result = CliRunner().invoke(cli, ["export", "onnx", "--detector", str(path), "--out", str(tmp_path / "out"),
                                      "--quantize"])
    assert result.exit_code == 0, result.output
    assert "(int8)" in result.output
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"detector.onnx", "detector-int8.onnx"}


@pytest.mark.parametrize("fast", [True, False])
def test_unset_quantize_follows_the_cpu(tmp_path, small_calibration, monkeypatch, fast):
    from kocr_sdk.runtime import cpu

    monkeypatch.setattr(cpu, "int8_is_fast", lambda: fast)
    stage = det.AnchorFreeDetector(weights=_detector_weights(tmp_path), runtime="onnx")
    assert stage.model.path.name.endswith("-int8.onnx") == fast


def _export_slowly(args):
    """A process that asks the cache for a file whose export takes a while, and logs each export."""
    import time
    from pathlib import Path

    from kocr_sdk.runtime.onnx import cached_export

    cache, log = (Path(a) for a in args)

    def export(path):
        with open(log, "a") as fh:
            fh.write("export\n")
        time.sleep(0.5)
        path.write_bytes(b"graph")

    return cached_export(cache / "model.onnx", export).read_bytes()


def test_processes_asking_for_one_export_at_once_make_it_once(tmp_path):
    import multiprocessing

    (tmp_path / "cache").mkdir()
    args = (str(tmp_path / "cache"), str(tmp_path / "log"))
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        got = pool.map(_export_slowly, [args] * 3)
    assert got == [b"graph"] * 3
    assert (tmp_path / "log").read_text() == "export\n"
