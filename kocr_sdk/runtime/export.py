"""torch → ONNX: tracing the three built-in networks, and the torch-keyed cache of their exports.

The one part of the onnx runtime that needs torch (:mod:`.onnx` runs graphs without it). The
stages call into it only when no shipped graph fits their weights; ``kocr export onnx`` (and
its ``--package`` form, which writes the shipped graphs) calls it directly.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path
from typing import Callable

import torch

from ..atomic import atomic_path
from .onnx import OPSET, OnnxModule, Quantizer, cache_dir, cached_export, hash_file



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


def exported_graph(kind: str, model: torch.nn.Module, exporter: Callable[[torch.nn.Module, Path], Path],
                   weights: str | Path | None = None, quantizer: Quantizer | None = None) -> Path:
    """The cached ONNX export of ``model`` (exported now if missing); its int8 twin with a ``quantizer``."""
    path = cache_dir() / f"{kind}-{weights_key(weights, model)}.onnx"
    return cached_export(path, lambda p: exporter(model, p), quantizer)


def onnx_module(kind: str, model: torch.nn.Module, exporter: Callable[[torch.nn.Module, Path], Path],
                weights: str | Path | None = None, quantizer: Quantizer | None = None, device: str = "cpu",
                threads: int | None = None) -> OnnxModule:
    """:func:`exported_graph`, loaded in onnxruntime."""
    return OnnxModule(exported_graph(kind, model, exporter, weights, quantizer), threads, device)
