"""ONNX export of the three built-in networks, and onnxruntime sessions that stand in for them.

The stages keep all their pre- and post-processing (resizing, padding, width batching, CTC
decoding) and swap only the network call: :class:`OnnxModule` is called like the torch module
it replaces and returns torch tensors, so a page goes through the same code on either runtime
and the two can be compared output for output (tests/test_onnx.py states the tolerances).

Exported files are cached by the content hash of the weights they came from
(``$KOCR_ONNX_CACHE``, default ``~/.cache/kocr/onnx``), so the first engine that asks for ONNX
pays the export once, and ``kocr export onnx`` can prepare them ahead (e.g. in a container image).
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import torch

from ..atomic import atomic_path
from ..errors import KocrConfigError, KocrModelError

ONNX_HINT = 'install the ONNX extra: pip install "kocr-sdk[onnx]" (onnx, onnxruntime)'
OPSET = 17


def _ort():
    try:
        import onnxruntime
    except ImportError:
        raise KocrConfigError(f"runtime 'onnx' needs onnxruntime: {ONNX_HINT}") from None
    return onnxruntime


def cache_dir() -> Path:
    return Path(os.environ.get("KOCR_ONNX_CACHE") or Path.home() / ".cache" / "kocr" / "onnx")


# --- export ----------------------------------------------------------------------------------
def export_graph(module: torch.nn.Module, args: tuple, path: Path, input_names: list[str], output_names: list[str],
            dynamic_axes: dict[str, dict[int, str]]) -> Path:
    """torch → ONNX (TorchScript-based exporter: the dynamic shapes here are plain axes), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    module = module.eval()
    with atomic_path(path) as tmp, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, str(tmp), input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=OPSET, dynamo=False)
    return path


class _DetectorOutputs(torch.nn.Module):
    """The detector's dict of maps as a tuple, in a fixed order ONNX can name."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model
        self.names: list[str] = []

    def forward(self, x: torch.Tensor):
        out = self.model(x)
        self.names = list(out)
        return tuple(out.values())


DETECTOR_OUTPUTS = ["char_ctr", "char_reg", "char_off", "word_ctr", "word_reg", "word_off", "orient"]


def export_detector(model: torch.nn.Module, path: str | Path) -> Path:
    """(1, 3, H, W) normalised image → the seven stride-4 maps; H and W free (multiples of 32)."""
    wrapped = _DetectorOutputs(model.float().to(memory_format=torch.contiguous_format))
    x = torch.zeros(1, 3, 64, 96)
    axes = {"image": {0: "batch", 2: "height", 3: "width"}, **{n: {0: "batch", 2: "h4", 3: "w4"} for n in DETECTOR_OUTPUTS}}
    return export_graph(wrapped, (x,), Path(path), ["image"], DETECTOR_OUTPUTS, axes)


def export_script_identifier(model: torch.nn.Module, path: str | Path) -> Path:
    """(B, 1, 32, W) crops + (B,) widths → (B, classes) logits.

    Traced with a padded batch, so the export keeps the padding masks (a batch with no padding
    multiplies by ones: the same numbers)."""
    model = model.float().to(memory_format=torch.contiguous_format)
    x = torch.rand(2, 1, 32, 64)
    widths = torch.tensor([64, 40])
    axes = {"crops": {0: "batch", 3: "width"}, "widths": {0: "batch"}, "logits": {0: "batch"}}
    return export_graph(model, (x, widths), Path(path), ["crops", "widths"], ["logits"], axes)


class _RecognizerGraph(torch.nn.Module):
    """ColumnViT's forward written for export, with the same weights and the same arithmetic.

    Two things in the eager forward do not survive tracing: ``w // patch`` is Python arithmetic
    (traced as a constant, fixing the export to the width it saw), and ``nn.MultiheadAttention``
    bakes the traced sequence length into a reshape. Here every length comes from a tensor
    shape, and attention is spelled out (pre-norm encoder layers, GELU, key padding mask).
    """

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
        m = self.model
        pw = m.cfg.patch_width
        cols = x[:, 0].reshape(x.shape[0], x.shape[2], -1, pw).permute(0, 2, 1, 3).flatten(2)  # widths are multiples of pw
        t = cols.shape[1]
        h = m.embed(cols) + m.pos[:, :t]
        pad = torch.arange(t, device=x.device)[None, :] >= m.frames(widths)[:, None]
        bias = torch.zeros(pad.shape, dtype=h.dtype).masked_fill(pad, float("-inf"))[:, None, None, :]
        for layer in m.encoder.layers:
            h = h + self._attention(layer.norm1(h), layer.self_attn, bias)
            h = h + layer.linear2(torch.nn.functional.gelu(layer.linear1(layer.norm2(h))))
        return m.head(m.norm(h))

    @staticmethod
    def _attention(x: torch.Tensor, attn: torch.nn.MultiheadAttention, bias: torch.Tensor) -> torch.Tensor:
        heads = attn.num_heads
        dim = attn.embed_dim
        qkv = torch.nn.functional.linear(x, attn.in_proj_weight, attn.in_proj_bias)
        q, k, v = (z.reshape(x.shape[0], -1, heads, dim // heads).transpose(1, 2) for z in qkv.chunk(3, dim=-1))
        scores = (q @ k.transpose(-1, -2)) * (dim // heads) ** -0.5 + bias
        out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(x.shape[0], -1, dim)
        return attn.out_proj(out)


def export_recognizer(model: torch.nn.Module, path: str | Path) -> Path:
    """(B, 1, 32, W) crops + (B,) widths → (B, W/4, classes) logits (unquantised fp32 model)."""
    axes = {"crops": {0: "batch", 3: "width"}, "widths": {0: "batch"}, "logits": {0: "batch", 1: "frames"}}
    x = torch.rand(2, 1, 32, 64)
    widths = torch.tensor([64, 40])
    return export_graph(_RecognizerGraph(model.float().eval()), (x, widths), Path(path), ["crops", "widths"], ["logits"], axes)


Quantizer = Callable[[Path, Path], Path]
"""``(fp32 model, int8 model to write) -> the int8 model``: how a graph is made int8."""


def quantize_int8(src: Path, dst: Path) -> Path:
    """Dynamic int8 weights for the MatMuls (onnxruntime's counterpart of torch's quantize_dynamic)."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # its advice to pre-process is for static quantisation
    try:
        with atomic_path(dst, suffix=".onnx") as tmp:
            quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"])
    finally:
        logging.disable(logging.NOTSET)
    return dst


def quantize_static_int8(src: Path, dst: Path, feeds: Iterable[dict[str, np.ndarray]],
                         keep_fp32: tuple[str, ...] = ()) -> Path:
    """Static int8: weights per output channel, activations with ranges read off ``feeds``;
    nodes whose names start with one of ``keep_fp32`` stay fp32.

    For convolutional graphs (the detector), where dynamic quantisation — MatMuls only — leaves
    every convolution in fp32. The graph is written in QDQ form (quantize/dequantize pairs that
    onnxruntime fuses into int8 kernels), activations uint8, weights int8, ranges by min/max."""
    import logging
    import tempfile

    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.feeds = iter(feeds)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.feeds, None)

    logging.disable(logging.WARNING)
    try:
        with tempfile.TemporaryDirectory() as tmpdir, atomic_path(dst, suffix=".onnx") as tmp:
            prepared = Path(tmpdir) / "prepared.onnx"  # shapes inferred and graph fused first, as onnxruntime advises
            quant_pre_process(str(src), str(prepared), skip_symbolic_shape=True)
            nodes = onnx.load(str(prepared)).graph.node
            excluded = [n.name for n in nodes if keep_fp32 and n.name.startswith(keep_fp32)]
            quantize_static(str(prepared), str(tmp), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=excluded)
    finally:
        logging.disable(logging.NOTSET)
    return dst


# --- running ---------------------------------------------------------------------------------
class OnnxModule:
    """An onnxruntime session called like the torch module it was exported from.

    Takes torch tensors (or arrays) positionally, returns a torch tensor, or a dict of them for
    a model with several named outputs (the detector).
    """

    #: the layout its inputs should arrive in (a graph takes contiguous NCHW; torch's detector channels-last)
    memory_format = torch.contiguous_format
    #: always in inference mode: ``eval``/``train`` are accepted so code written for the module runs as is
    training = False

    def eval(self) -> "OnnxModule":
        return self

    def train(self, mode: bool = True) -> "OnnxModule":
        return self

    def __init__(self, path: str | Path, threads: int | None = None, device: str = "cpu") -> None:
        ort = _ort()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or torch.get_num_threads()
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = ["CPUExecutionProvider"]
        if device == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=providers)
        except Exception as exc:
            raise KocrModelError(f"{path}: onnxruntime cannot load it ({type(exc).__name__}: {exc})") from None
        self.path = Path(path)
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, *args: Any) -> Any:
        feed = {}
        for name, value in zip(self.input_names, args):
            arr = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
            feed[name] = np.ascontiguousarray(arr)
        outs = self.session.run(None, feed)
        if len(outs) == 1:
            return torch.from_numpy(outs[0])
        return {name: torch.from_numpy(o) for name, o in zip(self.output_names, outs)}


def hash_file(h: Any, path: Path) -> None:
    """Feed a file's bytes to ``h`` a megabyte at a time (weights files are several MB)."""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)


def weights_key(path: str | Path | None, model: torch.nn.Module) -> str:
    """A cache key: the weights file's content hash, or the parameters' when there is no file."""
    h = hashlib.sha256()
    if path is not None and Path(path).exists():
        hash_file(h, Path(path))
    else:
        buf = io.BytesIO()
        torch.save({k: v.cpu() for k, v in model.state_dict().items()}, buf)
        h.update(buf.getvalue())
    h.update(torch.__version__.encode())
    return h.hexdigest()[:16]


def onnx_module(kind: str, model: torch.nn.Module, exporter: Callable[[torch.nn.Module, Path], Path],
                weights: str | Path | None = None, quantizer: Quantizer | None = None, device: str = "cpu",
                threads: int | None = None) -> OnnxModule:
    """The cached ONNX export of ``model`` (exported now if missing), loaded in onnxruntime;
    its int8 version when a ``quantizer`` is given."""
    path = cache_dir() / f"{kind}-{weights_key(weights, model)}.onnx"
    return OnnxModule(cached_export(path, lambda p: exporter(model, p), quantizer), threads, device)


def cached_export(path: Path, export: Callable[[Path], Any], quantizer: Quantizer | None = None) -> Path:
    """``path``, written by ``export(path)`` unless it exists; with a ``quantizer`` its int8 twin
    beside it (``<stem>-int8.onnx``), made from it the same way. Checks for onnxruntime first,
    so a missing extra is one clear error rather than a failed export.

    Processes that ask for the same file at once (the workers of a batch run on a fresh machine)
    take turns: the first makes it, the others wait and load it, rather than each spending the
    export and the detector's calibration (~15 s) on the same bytes."""
    _ort()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(path):
        if not path.exists():
            export(path)
        if quantizer is None:
            return path
        qpath = path.with_name(path.stem + "-int8.onnx")
        if not qpath.exists():
            quantizer(path, qpath)
        return qpath


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """An advisory lock on ``<path>.lock`` across processes (none where ``fcntl`` is missing)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: writes stay atomic, only the work may be done twice
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
