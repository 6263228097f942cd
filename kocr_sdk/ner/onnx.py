"""The NER token classifier on onnxruntime, with no ``transformers`` import.

Why this exists: importing ``transformers`` and its BERT modelling code costs 4–7 s on a small
CPU, and every process pays it before its first page — each ``kocr read`` call, each batch
worker. With ``runtime: onnx`` the token classifier runs from a cached ONNX export and the
tokenizer from ``tokenizers`` (the Rust library behind transformers' fast tokenizers, a
fraction of the import), so a process that finds its graph never imports transformers — nor
torch: the shipped model's graph ships in the package (:func:`~kocr_sdk.runtime.onnx.graph_path`),
and tagging runs in numpy. Exporting another model does import both: once per model and
machine, or ahead of time with ``kocr export onnx``.

The two stand-ins are called exactly as :class:`~kocr_sdk.ner.tagger.TokenTagger` calls the
Hugging Face objects, so tagging, chunking of long lines and span decoding are one code path on
both runtimes (tests/test_ner.py checks that they tag alike).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..errors import KocrModelError
from ..runtime.onnx import OnnxModule, cache_dir, cached_export, graph_path, hash_file, quantize_int8

# safetensors only: the loaders refuse pickled weights (pytorch_model.bin), which could run code
WEIGHT_FILES = ("model.safetensors",)


class FastTokenizer:
    """``tokenizer.json`` through ``tokenizers``, answering the calls TokenTagger makes of a
    transformers fast tokenizer (truncation with stride, overflowing chunks, offsets)."""

    is_fast = True

    def __init__(self, directory: str | Path) -> None:
        from tokenizers import Tokenizer

        directory = Path(directory)
        path = directory / "tokenizer.json"
        if not path.is_file():
            raise KocrModelError(f"{directory}: no tokenizer.json (NER on onnxruntime needs a fast tokenizer)")
        self.backend = Tokenizer.from_file(str(path))
        settings = _read_json(directory / "tokenizer_config.json") if (directory / "tokenizer_config.json").is_file() else {}
        self.model_max_length = int(settings.get("model_max_length") or 10**9)
        pad = settings.get("pad_token") or "[PAD]"
        pad = pad.get("content") if isinstance(pad, dict) else pad
        self.pad_token_id = self.backend.token_to_id(pad)

    def __call__(self, texts: list[str], *, max_length: int, stride: int = 0, truncation: bool = True,
                 return_overflowing_tokens: bool = True, return_offsets_mapping: bool = True,
                 return_special_tokens_mask: bool = True) -> dict[str, list]:
        """Every text as one or more chunks of at most ``max_length`` tokens, overlapping by
        ``stride``; ``overflow_to_sample_mapping`` says which text each chunk came from."""
        if truncation:
            self.backend.enable_truncation(max_length, stride=stride)
        else:
            self.backend.no_truncation()
        self.backend.no_padding()
        out: dict[str, list] = {"input_ids": [], "offset_mapping": [], "special_tokens_mask": [],
                                "overflow_to_sample_mapping": []}
        for sample, encoding in enumerate(self.backend.encode_batch(texts)):
            chunks = [encoding, *encoding.overflowing] if return_overflowing_tokens else [encoding]
            for chunk in chunks:
                out["input_ids"].append(list(chunk.ids))
                out["offset_mapping"].append([tuple(o) for o in chunk.offsets])
                out["special_tokens_mask"].append(list(chunk.special_tokens_mask))
                out["overflow_to_sample_mapping"].append(sample)
        return out


class OnnxTokenClassifier:
    """An onnxruntime session called like a transformers token-classification model:
    ``model(input_ids=..., attention_mask=...).logits``, with the ``config`` fields TokenTagger
    reads; numpy arrays in and out (``takes_arrays``), so tagging needs no torch."""

    takes_arrays = True

    def __init__(self, path: str | Path, config: dict[str, Any], threads: int | None = None,
                 device: str = "cpu") -> None:
        self.session = OnnxModule(path, threads, device)
        labels = {int(k): v for k, v in (config.get("id2label") or {}).items()}
        self.config = SimpleNamespace(num_labels=len(labels), id2label=labels,
                                      max_position_embeddings=int(config.get("max_position_embeddings") or 512))

    def to(self, device: str) -> "OnnxTokenClassifier":
        return self

    def eval(self) -> "OnnxTokenClassifier":
        return self

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> SimpleNamespace:
        return SimpleNamespace(logits=self.session(input_ids, attention_mask))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KocrModelError(f"{path}: cannot read it ({exc})") from None


def model_sources(directory: Path) -> list[Path]:
    """The files a model's graph is made from (weights, then config): what its keys hash."""
    weights = next((directory / name for name in WEIGHT_FILES if (directory / name).is_file()), None)
    if weights is None:
        raise KocrModelError(f"{directory}: no model weights ({' or '.join(WEIGHT_FILES)})")
    return [weights, directory / "config.json"]


def model_key(directory: Path) -> str:
    """Cache key of an export: the weights' and config's content, and the torch that exports them."""
    import torch

    h = hashlib.sha256()
    for path in model_sources(directory):
        hash_file(h, path)
    h.update(torch.__version__.encode())
    return h.hexdigest()[:16]


def export_token_classifier(directory: str | Path, path: str | Path) -> Path:
    """A local Hugging Face token-classification directory → ONNX (batch and length free). Needs
    torch and transformers."""
    import torch
    from transformers import AutoModelForTokenClassification

    from ..runtime.export import export_graph
    from .hf_loading import loading_from

    class _Logits(torch.nn.Module):
        """(input_ids, attention_mask) → logits: the model's output object as one named tensor."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).logits

    directory = Path(directory)
    with loading_from(directory), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = AutoModelForTokenClassification.from_pretrained(str(directory), local_files_only=True,
                                                                dtype=torch.float32, use_safetensors=True,
                                                                trust_remote_code=False).eval()
    ids = torch.full((2, 12), 5, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0  # trace with padding, so the mask's path is in the graph
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "logits": {0: "batch", 1: "tokens"}}
    return export_graph(_Logits(model), (ids, mask), Path(path), ["input_ids", "attention_mask"], ["logits"], axes)


def onnx_path(directory: str | Path, quantize: bool = False, out: str | Path | None = None) -> Path:
    """The ONNX graph of ``directory``'s model, int8 when ``quantize``: with no ``out``, the shipped
    graph where it was made from these very files, else the cached export (made now if missing);
    with ``out``, exported there."""
    directory = Path(directory)
    quantizer = quantize_int8 if quantize else None

    def export() -> Path:
        path = Path(out) if out else cache_dir() / f"ner-{model_key(directory)}.onnx"
        return cached_export(path, lambda p: export_token_classifier(directory, p), quantizer)

    return export() if out else graph_path("ner", model_sources(directory), export, quantizer)


def load_onnx_parts(directory: str | Path, quantize: bool = False, threads: int | None = None,
                    device: str = "cpu") -> tuple[OnnxTokenClassifier, FastTokenizer]:
    """Model and tokenizer for :class:`~kocr_sdk.ner.tagger.TokenTagger`, neither from transformers."""
    directory = Path(directory)
    if not (directory / "config.json").is_file():
        raise KocrModelError(f"{directory} is not a Hugging Face model directory (no config.json)")
    tokenizer = FastTokenizer(directory)
    model = OnnxTokenClassifier(onnx_path(directory, quantize), _read_json(directory / "config.json"), threads,
                                device)
    return model, tokenizer
