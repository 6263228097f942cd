"""Running a token-classification model over lines of text and reading entity spans off it.

Works with any Hugging Face token-classification directory that has a *fast* tokenizer (one
that reports character offsets): kocr's own character model, or a KLUE/multilingual BERT a user
fine-tuned. Tags may be BIO (``B-PER``/``I-PER``), BIOES/BILOU (``S-``, ``E-``, ``L-``, ``U-``)
or bare labels; ``label_map`` renames a model's labels to kocr's (``PS`` → ``PERSON``), and a
label mapped to ``None``/``O`` is dropped. Entities come back as character spans of the text,
each with the mean of its tokens' probabilities as confidence.

Lines longer than the model's window are cut into overlapping windows; each token takes its
prediction from the window where it lies farthest from an edge.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import KocrConfigError, KocrModelError

Span = tuple[int, int, str]


@dataclass(frozen=True)
class TaggedSpan:
    start: int
    end: int
    label: str
    confidence: float


def _split_tag(tag: str) -> tuple[str, str]:
    """``B-PER`` → (``B``, ``PER``); ``PER`` → (``I``, ``PER``); ``O`` → (``O``, ``""``)."""
    if tag in ("O", "", "o"):
        return "O", ""
    for sep in ("-", "_"):
        head, s, rest = tag.partition(sep)
        if s and head.upper() in ("B", "I", "E", "S", "L", "U") and rest:
            return {"L": "E", "U": "S"}.get(head.upper(), head.upper()), rest
    return "I", tag


class TokenTagger:
    """A Hugging Face token classifier (model + fast tokenizer) used as a span tagger."""

    def __init__(self, model: Any, tokenizer: Any, label_map: dict[str, str | None] | None = None,
                 device: str = "cpu", batch_size: int = 64, max_length: int | None = None, stride: int = 16,
                 min_chars: int = 2, quantize: bool = False) -> None:
        if not getattr(tokenizer, "is_fast", False):
            raise KocrModelError("NER needs a fast tokenizer (tokenizer.json) to map tokens back to characters")
        self.model = model.to(device).eval()
        #: an onnxruntime stand-in takes and returns numpy arrays; a transformers model, tensors
        self.takes_arrays = bool(getattr(model, "takes_arrays", False))
        if quantize and device == "cpu" and not self.takes_arrays:  # int8 Linear weights: ~2x faster on CPU
            import torch

            with warnings.catch_warnings():  # torch deprecates torch.ao (for torchao), still the one built-in way
                warnings.simplefilter("ignore")
                self.model = torch.ao.quantization.quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8)
        self.tokenizer = tokenizer
        self.device = device
        self.batch_size = batch_size
        self.min_chars = min_chars
        positions = int(getattr(model.config, "max_position_embeddings", 512) or 512)
        self.max_length = min(max_length or positions, positions, int(getattr(tokenizer, "model_max_length", 10**9)))
        self.stride = min(stride, self.max_length // 4)
        label_map = label_map or {}
        self.tags: list[tuple[str, str]] = []
        for i in range(model.config.num_labels):
            prefix, label = _split_tag(str(model.config.id2label[i]))
            if label and label in label_map:
                label = label_map[label] or ""
                if label in ("", "O"):
                    prefix, label = "O", ""
            self.tags.append((prefix, label) if label else ("O", ""))

    @classmethod
    def from_directory(cls, path: str | Path, runtime: str = "torch", **kwargs: Any) -> "TokenTagger":
        """Load a local Hugging Face token-classification directory (never reaches the network).

        ``runtime="onnx"``: the model runs from its cached ONNX export and the tokenizer from
        ``tokenizers``, so transformers is imported only to make the export (:mod:`.onnx`).
        ``quantize`` then picks onnxruntime's int8 model instead of torch's.
        """
        if runtime == "onnx":
            from .onnx import load_onnx_parts

            model, tokenizer = load_onnx_parts(path, quantize=bool(kwargs.pop("quantize", False)),
                                               threads=kwargs.pop("threads", None), device=kwargs.get("device", "cpu"))
            return cls(model, tokenizer, **kwargs)
        if runtime != "torch":
            raise KocrConfigError(f"NER runtime {runtime!r} is not one of torch, onnx")
        kwargs.pop("threads", None)  # torch's own setting, made by the caller
        import torch
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        from .hf_loading import loading_from

        path = Path(path)
        if not (path / "config.json").is_file():
            raise KocrModelError(f"{path} is not a Hugging Face model directory (no config.json)")
        with loading_from(path):
            # safetensors only and no code from the directory: a model directory can come from anyone,
            # and a pytorch_model.bin pickle or a modelling .py file in it would run on loading.
            tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True, trust_remote_code=False)
            model = AutoModelForTokenClassification.from_pretrained(str(path), local_files_only=True, dtype=torch.float32,
                                                                    use_safetensors=True, trust_remote_code=False)
        return cls(model, tokenizer, **kwargs)

    def tag(self, texts: list[str]) -> list[list[TaggedSpan]]:
        """Entity spans of each text, in order of their start."""
        if not texts:
            return []
        enc = self.tokenizer(texts, return_offsets_mapping=True, truncation=True, max_length=self.max_length,
                             return_overflowing_tokens=True, stride=self.stride, return_special_tokens_mask=True)
        n_chunks = len(enc["input_ids"])
        sample_of = enc.get("overflow_to_sample_mapping") or list(range(n_chunks))
        order = sorted(range(n_chunks), key=lambda k: len(enc["input_ids"][k]))
        probs: list[np.ndarray | None] = [None] * n_chunks
        pad = self.tokenizer.pad_token_id or 0
        for b in range(0, n_chunks, self.batch_size):
            idx = order[b:b + self.batch_size]
            width = max(len(enc["input_ids"][k]) for k in idx)
            ids = np.full((len(idx), width), pad, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, k in enumerate(idx):
                seq = enc["input_ids"][k]
                ids[row, :len(seq)] = seq
                mask[row, :len(seq)] = 1
            p = self._probabilities(ids, mask)
            for row, k in enumerate(idx):
                probs[k] = p[row, :len(enc["input_ids"][k])]
        # per text: char start -> (edge distance, probabilities, end)
        best: list[dict[int, tuple[int, np.ndarray, int]]] = [{} for _ in texts]
        for k in range(n_chunks):
            offsets, special = enc["offset_mapping"][k], enc["special_tokens_mask"][k]
            n = len(offsets)
            for t, ((s, e), sp) in enumerate(zip(offsets, special)):
                if sp or e <= s:
                    continue
                edge = min(t, n - 1 - t)
                slot = best[sample_of[k]]
                if s not in slot or slot[s][0] < edge:
                    slot[s] = (edge, probs[k][t], e)
        return [self._decode(slot, text) for slot, text in zip(best, texts)]

    def _probabilities(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(B, T, tags) float32 softmax of the model's logits for a padded batch."""
        if self.takes_arrays:  # onnxruntime: numpy in and out, no torch
            from ..runtime.onnx import softmax

            return softmax(self.model(input_ids=ids, attention_mask=mask).logits)
        import torch

        with torch.no_grad():
            logits = self.model(input_ids=torch.from_numpy(ids).to(self.device),
                                attention_mask=torch.from_numpy(mask).to(self.device)).logits
            return logits.float().softmax(-1).cpu().numpy()

    def _merged(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Tag → label matrix (column 0: outside), and which tags begin or end an entity."""
        if not hasattr(self, "_merge"):
            labels = sorted({label for _, label in self.tags if label})
            col = {label: i + 1 for i, label in enumerate(labels)}
            m = np.zeros((len(self.tags), len(labels) + 1), np.float32)
            for k, (_prefix, label) in enumerate(self.tags):
                m[k, col.get(label, 0)] = 1.0
            begins = np.array([prefix in ("B", "S") for prefix, _ in self.tags], np.float32)
            ends = np.array([prefix in ("E", "S") for prefix, _ in self.tags], bool)
            self._merge = (m, begins, ends, ["", *labels])
        return self._merge

    def _decode(self, slot: dict[int, tuple[int, np.ndarray, int]], text: str) -> list[TaggedSpan]:
        """Spans from token probabilities.

        Each token takes the *label* with the highest probability summed over its B/I (E/S) tags,
        so a token the model finds clearly inside an email but unsure whether it begins one
        does not cut the email in two. A run of tokens with one label is one entity; it splits
        only where a token after a space is more likely a beginning than an inside (two names in
        a row), or after an end tag (BIOES models).
        """
        merge, begins, ends, labels = self._merged()
        spans: list[TaggedSpan] = []
        cur: list[Any] | None = None  # [start, end, label, [confidences]]

        def close() -> None:
            nonlocal cur
            if cur is not None:
                start, end = cur[0], cur[1]
                while start < end and text[start].isspace():
                    start += 1
                while end > start and text[end - 1].isspace():
                    end -= 1
                if end - start >= self.min_chars:
                    spans.append(TaggedSpan(start, end, cur[2], float(np.mean(cur[3]))))
            cur = None

        for s in sorted(slot):
            _, p, e = slot[s]
            merged = p @ merge
            k = int(merged.argmax())
            if k == 0:
                close()
                continue
            label, conf = labels[k], float(merged[k])
            of_label = merge[:, k] > 0
            p_begin = float((p * begins * of_label).sum())
            after_space = s > 0 and text[s - 1].isspace()
            if cur is not None and label == cur[2] and not (after_space and p_begin > conf - p_begin):
                cur[1] = max(cur[1], e)
                cur[3].append(conf)
            else:
                close()
                cur = [s, e, label, [conf]]
            if ends[int(p.argmax())]:
                close()
        close()
        return spans
