"""onnxruntime sessions for the built-in networks, and the graphs they run: shipped or exported.

This module never imports torch. On the ``onnx`` runtime the stages do their pre- and
post-processing in numpy around an :class:`OnnxModule` (numpy arrays in, numpy arrays out), so
a user who installs kocr without torch reads pages with ``runtime: onnx`` on a CPU.

Where a graph comes from (:func:`graph_path`):

1. **Shipped.** The package carries the graphs the onnx runtime uses by default on a CPU in
   ``kocr_sdk/weights/onnx/`` with a manifest holding, for each, the sha256 of the weights it
   was exported from (``kocr export onnx --package`` writes both). A weights file whose content
   hash is in the manifest runs its shipped graph: no torch, no export.
2. **Derived.** An int8 graph asked for where only the fp32 one ships (the detector and NER on
   a CPU with an int8 dot product) is quantised from the shipped graph by onnxruntime alone,
   once, into the cache.
3. **Exported.** Any other weights (a retrained file, a user's own) are exported with torch into
   the cache (``$KOCR_ONNX_CACHE``, default ``~/.cache/kocr/onnx``), keyed by the weights'
   content hash, so the first engine that asks pays the export once; ``kocr export onnx`` can
   prepare them ahead (e.g. in a container image). Without torch this is a
   :class:`~kocr_sdk.errors.KocrConfigError` saying to install it.

The torch side — tracing the networks to ONNX — lives in :mod:`.export`.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from ..atomic import atomic_path
from ..errors import KocrConfigError, KocrModelError
from ..resources import WEIGHTS_DIR

ONNX_HINT = 'install the ONNX extra: pip install "kocr-sdk[onnx]" (onnx, onnxruntime)'
TORCH_HINT = "install torch (pip install torch; the CPU wheel suffices)"
OPSET = 17
#: Where the package's own graphs and their manifest lie.
SHIPPED_DIR = WEIGHTS_DIR / "onnx"
MANIFEST = "manifest.json"

_default_threads: int | None = None


def set_default_threads(threads: int | None) -> None:
    """Threads each session created from now on uses when not told (the engine's ``compute.threads``).

    Why here and not torch's setting: the onnx runtime must not need torch to be told how many
    cores it may take."""
    global _default_threads
    _default_threads = threads or None


def _ort():
    try:
        import onnxruntime
    except ImportError:
        raise KocrConfigError(f"runtime 'onnx' needs onnxruntime: {ONNX_HINT}") from None
    return onnxruntime


def cache_dir() -> Path:
    return Path(os.environ.get("KOCR_ONNX_CACHE") or Path.home() / ".cache" / "kocr" / "onnx")


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
    """An onnxruntime session called with the network's inputs positionally.

    Takes numpy arrays (or anything ``np.asarray`` takes: a CPU torch tensor too) and returns a
    numpy array, or a dict of them for a model with several named outputs (the detector). The
    stages' onnx paths test :attr:`takes_arrays` to keep their pre- and post-processing in numpy.
    """

    #: marks a stand-in that takes and returns numpy arrays (a torch module takes tensors)
    takes_arrays = True
    #: always in inference mode: ``eval``/``train`` are accepted so code written for a module runs as is
    training = False

    def eval(self) -> "OnnxModule":
        return self

    def train(self, mode: bool = True) -> "OnnxModule":
        return self

    def __init__(self, path: str | Path, threads: int | None = None, device: str = "cpu") -> None:
        ort = _ort()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or _default_threads or _torch_threads()
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Memory patterns pre-plan one block for a fixed input shape; every input here changes
        # shape (page sizes, crop widths, batch sizes), so the plan is never reused and only
        # raises the peak (a FUNSD page: 924 -> 742 MB, the same speed).
        opts.enable_mem_pattern = False
        if _shared_cpu_arena(ort):
            opts.add_session_config_entry("session.use_env_allocators", "1")
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
            if hasattr(value, "detach"):  # a torch tensor (callers on the torch side, tests)
                value = value.detach().cpu().numpy()
            feed[name] = np.ascontiguousarray(value)
        outs = self.session.run(None, feed)
        if len(outs) == 1:
            return outs[0]
        return dict(zip(self.output_names, outs))


_arena_lock = threading.Lock()
_arena: list[bool] = []  # [registered?] once tried


def _shared_cpu_arena(ort: Any) -> bool:
    """Register one CPU memory arena for all of this process's sessions; True when it is there.

    Why: each session's own arena grows by doubling and keeps what it grew to, so the detector's
    activations at 2560 px (a FUNSD page) left a 750 MB peak. One arena shared by every session,
    grown by exactly what is asked (``arena_extend_strategy`` 1, kSameAsRequested), reads at the
    same speed with 570 MB; without an arena at all the peak is 600 MB but reading is 20 % slower
    (docs/benchmarks.md, "Speed and memory"). If the registration fails (another library in the
    process registered one already), sessions keep their own arenas.
    """
    with _arena_lock:
        if not _arena:
            try:
                info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
                ort.create_and_register_allocator(info, ort.OrtArenaCfg({"arena_extend_strategy": 1}))
                _arena.append(True)
            except Exception:  # noqa: BLE001 - an arena already registered, or an older onnxruntime
                _arena.append(False)
        return _arena[0]


def _torch_threads() -> int:
    """torch's thread count when torch is already loaded (the torch stages of the same engine
    share the cores alike), else 0: onnxruntime's own default, one per physical core."""
    import sys

    torch = sys.modules.get("torch")
    return int(torch.get_num_threads()) if torch is not None else 0


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """float32 softmax along ``axis`` (max-subtracted, as torch computes it)."""
    x = np.asarray(x, dtype=np.float32)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def hash_file(h: Any, path: Path) -> None:
    """Feed a file's bytes to ``h`` a megabyte at a time (weights files are several MB)."""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)


def content_key(paths: Sequence[str | Path]) -> str:
    """sha256 (hex) of the files' bytes in order: for one file, what ``sha256sum`` prints.

    The shipped graphs' manifest records this key of the weights each graph came from, so a
    weights file changed without its graph re-exported is never run with the stale graph."""
    h = hashlib.sha256()
    for path in paths:
        hash_file(h, Path(path))
    return h.hexdigest()


def read_manifest(directory: Path | None = None) -> dict[str, Any]:
    """The shipped graphs' manifest (``{"graphs": []}`` where none ships). Read each time (a
    few hundred bytes, once per stage built): ``kocr export onnx --package`` may just have rewritten it."""
    try:
        return json.loads((Path(directory or SHIPPED_DIR) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"graphs": []}


def shipped_graph(key: str, int8: bool, directory: Path | None = None) -> Path | None:
    """The shipped graph exported from weights of content hash ``key`` (int8 or fp32), if any."""
    directory = Path(directory or SHIPPED_DIR)
    for entry in read_manifest(directory).get("graphs", []):
        if entry.get("sha256") == key and bool(entry.get("int8")) == int8 and (directory / entry["file"]).is_file():
            return directory / entry["file"]
    return None


def int8_cache_path(kind: str, key: str) -> Path:
    """Where the int8 graph quantised from a shipped fp32 graph (weights of hash ``key``) is cached."""
    return cache_dir() / f"{kind}-{key[:16]}-int8.onnx"


def graph_path(kind: str, sources: Sequence[str | Path], export: Callable[[], Path],
               quantizer: Quantizer | None = None) -> Path:
    """The ONNX graph to run for the weights in ``sources``: shipped, derived or exported (module docstring).

    ``export()`` makes the graph with torch (into the cache) when no shipped graph fits; it is
    called only then, so torch is imported only then. ``quantizer``: the int8 graph is wanted.
    """
    _ort()
    key = content_key(sources)
    int8 = quantizer is not None
    found = shipped_graph(key, int8)
    if found is not None:
        return found
    if quantizer is not None:
        base = shipped_graph(key, False)
        if base is not None:
            target = int8_cache_path(kind, key)
            target.parent.mkdir(parents=True, exist_ok=True)
            with _exclusive(target):
                if not target.exists():
                    quantizer(base, target)
            return target
    try:
        import torch  # noqa: F401  (the export needs it; checked first for one clear error)
    except ImportError:
        names = ", ".join(str(s) for s in sources)
        raise KocrConfigError(f"runtime 'onnx': no shipped {kind} graph fits {names} (weights not shipped with kocr, "
                              f"or changed since its graph was exported), and exporting one needs torch: "
                              f"{TORCH_HINT}, or run `kocr export onnx` where torch is installed") from None
    return export()


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
