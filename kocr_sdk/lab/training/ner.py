"""Training the NER token classifier on generated lines (``kocr train ner``).

Lines come from :class:`~kocr_sdk.lab.synth.ner_lines.NerGenerator` in the training process (a line costs
well under a millisecond; no worker is needed). The stream is exact and resumable: sample ``i``
is a pure function of ``(seed, i)``; indices are cut into blocks of ``group`` batches, a block's
lines are sorted by length before being cut into batches (little compute spent on padding), and
its batches are shuffled with a seed of their own, so step ``k`` always sees the same batch.

The character tokenizer is trained at the start of a run on the first ``tokenizer_samples``
lines and stored *in* the checkpoint, so a resumed run uses the very same vocabulary. A run can
also resume from an exported directory (the shipped weights): it takes the model, tokenizer,
step and data position from there, without optimiser moments, and re-warms the learning rate.
Validation tags held-out lines (another seed) with OCR noise on every line and without any,
and reports strict entity-level F1 per label (:mod:`kocr_sdk.lab.eval.entities`).

``export_model`` writes a standard Hugging Face directory (fp16 safetensors, ``tokenizer.json``,
``kocr_ner.json`` with the training recipe and validation) that the entity recogniser loads.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any, Iterator

import torch
from pydantic import Field, field_validator

from ...errors import KocrConfigError
from ..synth.ner_lines import NerExample, NerGenerator
from ...vocabulary.entities import TAGS, tag_ids
from ..eval.entities import entity_scores
from ...ner.model import ARCHS, NerArch, create_model
from ..synth.ocr_noise import NoiseConfig
from ...ner.tokenizer import load_tokenizer, save_tokenizer, train_char_tokenizer
from ...weights_file import read_checkpoint
from .base import RunConfig, Trainer

META_FILE = "kocr_ner.json"


class NerTrainConfig(RunConfig):
    """An NER training run (YAML-loadable): :class:`RunConfig`'s fields and these."""

    arch: str | NerArch = Field("char-bert-small", description="A name in kocr_sdk.ner.model.ARCHS, or the sizes.")
    group: int = Field(8, ge=1, description="Batches per length-sorted block of the stream.")
    total_steps: int = Field(3500, ge=1, description="Length of the cosine schedule, across all sessions.")
    val_every: int = Field(250, ge=1)
    val_size: int = Field(1000, ge=1, description="Held-out lines, each scored once with noise and once without.")
    val_seed: int = 90_001
    workers: int = Field(0, ge=0, description="Always 0: lines are made in the training process.")
    noise_prob: float = Field(0.5, ge=0, le=1, description="Share of training lines passed through OCR noise.")
    noise: NoiseConfig = Field(default_factory=NoiseConfig)
    tokenizer_samples: int = Field(20_000, ge=100)
    max_vocab: int = 4000
    out: Path = Path("runs/ner")

    @field_validator("workers")
    @classmethod
    def _no_workers(cls, v: int) -> int:
        if v:
            raise ValueError("NER makes its lines in the training process (well under a millisecond each): "
                             "workers must be 0")
        return v

    @field_validator("arch")
    @classmethod
    def _known_arch(cls, v: str | NerArch) -> str | NerArch:
        if isinstance(v, str) and v not in ARCHS:
            raise ValueError(f"unknown arch {v!r}; choose from {', '.join(ARCHS)} or give the sizes")
        return v

    def resolved_arch(self) -> NerArch:
        return ARCHS[self.arch] if isinstance(self.arch, str) else self.arch


def encode(tokenizer, examples: list[NerExample], max_length: int) -> list[tuple[list[int], list[int]]]:
    """(token ids, tag ids) per example; special tokens get tag -100 (ignored by the loss)."""
    ids_of = tag_ids()
    out = []
    for ex, enc in zip(examples, tokenizer.encode_batch([e.text for e in examples])):
        char_tags = ["O"] * len(ex.text)
        for start, end, label in ex.spans:
            char_tags[start] = f"B-{label}"
            for i in range(start + 1, end):
                char_tags[i] = f"I-{label}"
        ids, tags = [], []
        for tok_id, (s, e), special in zip(enc.ids, enc.offsets, enc.special_tokens_mask):
            ids.append(tok_id)
            tags.append(-100 if special or e <= s else ids_of[char_tags[s]])
        if len(ids) > max_length:  # keep [SEP] at the end; training lines are short, this is rare
            ids, tags = ids[:max_length - 1] + ids[-1:], tags[:max_length - 1] + [-100]
        out.append((ids, tags))
    return out


def _collate(pairs: list[tuple[list[int], list[int]]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    width = max(len(p[0]) for p in pairs)
    ids = torch.full((len(pairs), width), pad_id, dtype=torch.long)
    tags = torch.full((len(pairs), width), -100, dtype=torch.long)
    mask = torch.zeros((len(pairs), width), dtype=torch.long)
    for r, (i, t) in enumerate(pairs):
        ids[r, :len(i)] = torch.tensor(i)
        tags[r, :len(t)] = torch.tensor(t)
        mask[r, :len(i)] = 1
    return ids, mask, tags


def batches(cfg: NerTrainConfig, tokenizer, block: int) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """The training stream from ``block`` on: length-sorted, shuffled batches of encoded lines."""
    gen = NerGenerator(cfg.seed, cfg.noise_prob, cfg.noise)
    per_block = cfg.batch_size * cfg.group
    pad_id = tokenizer.token_to_id("[PAD]")
    max_length = cfg.resolved_arch().max_length
    while True:
        examples = [gen.sample(i) for i in range(block * per_block, (block + 1) * per_block)]
        encoded = sorted(encode(tokenizer, examples, max_length), key=lambda p: len(p[0]))
        chunks = [encoded[i:i + cfg.batch_size] for i in range(0, per_block, cfg.batch_size)]
        random.Random(f"kocr-ner-batches:{cfg.seed}:{block}").shuffle(chunks)
        for chunk in chunks:
            yield _collate(chunk, pad_id)
        block += 1


def validation_sets(cfg: NerTrainConfig) -> dict[str, list[NerExample]]:
    """Held-out lines (another seed): the same lines with OCR noise on every one, and clean."""
    gen = NerGenerator(cfg.val_seed, 0.0, cfg.noise)
    pairs = [gen.clean_and_noisy(i) for i in range(cfg.val_size)]
    return {"noisy": [p[1] for p in pairs], "clean": [p[0] for p in pairs]}


def hf_tokenizer(tokenizer, max_length: int):
    """The raw tokenizer wrapped for ``transformers`` (what :class:`TokenTagger` calls)."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=max_length)


def evaluate(model, tokenizer, sets: dict[str, list[NerExample]], max_length: int) -> dict[str, Any]:
    """Strict entity-level scores on each validation set."""
    from ...ner.tagger import TokenTagger

    was_training = model.training
    tagger = TokenTagger(model, hf_tokenizer(tokenizer, max_length), device=str(next(model.parameters()).device))
    out: dict[str, Any] = {}
    for name, examples in sets.items():
        predicted = tagger.tag([e.text for e in examples])
        out[name] = entity_scores([e.spans for e in examples], [[(s.start, s.end, s.label) for s in p] for p in predicted])
    model.train(was_training)
    return out


def _summary(val: dict[str, Any]) -> str:
    parts = []
    for name in ("noisy", "clean"):
        scores = val.get(name)
        if scores:
            parts.append(f"{name} F1 {scores['overall']['f1']:.4f}")
    return ", ".join(parts)


class NerTrainer(Trainer[NerTrainConfig]):
    """Token classification with a character tokenizer trained at the start and kept in the checkpoint."""

    loss_digits = 5

    def __init__(self, cfg: NerTrainConfig, resume: Path | None = None, progress: bool | None = None) -> None:
        super().__init__(cfg, resume, progress)
        self.arch = self.cfg.resolved_arch()

    def build_model(self) -> torch.nn.Module:
        """The model for the tokenizer of the run: the resumed one's (checkpoint or exported
        directory), else one trained now on the first ``tokenizer_samples`` lines."""
        from tokenizers import Tokenizer

        cfg, resume = self.cfg, self.resume
        if resume is not None:
            if resume.is_dir():  # shipped weights: a model directory written by export_model
                if not (resume / META_FILE).is_file():
                    raise KocrConfigError(f"{resume} is not a directory exported by `kocr train ner` (no {META_FILE})")
                self.meta = json.loads((resume / META_FILE).read_text(encoding="utf-8"))
                held, self.tokenizer = self.meta.get("arch"), load_tokenizer(resume)
            else:
                payload = read_checkpoint(resume, "NER training checkpoint", require=("arch", "tokenizer"))
                held, self.tokenizer = payload.get("arch"), Tokenizer.from_str(payload["tokenizer"])
            if held != self.arch.model_dump():
                raise KocrConfigError(f"{resume} holds a model of size {held}; this run trains {self.arch.model_dump()}")
        else:
            gen = NerGenerator(cfg.seed, cfg.noise_prob, cfg.noise)
            self.tokenizer = train_char_tokenizer((gen.sample(i).text for i in range(cfg.tokenizer_samples)),
                                                  cfg.max_vocab)
        return create_model(self.arch, self.tokenizer.get_vocab_size(), self.tokenizer.token_to_id("[PAD]"))

    def decays(self, name: str, param: torch.nn.Parameter) -> bool:
        # Embedding tables (tokens, positions) are not decayed either: the recipe of the shipped model.
        return param.ndim >= 2 and "embeddings" not in name

    def restore(self, path: Path) -> dict[str, Any]:
        if not path.is_dir():
            return super().restore(path)
        # An exported directory: no optimiser moments, so re-warm the learning rate while AdamW rebuilds them.
        from safetensors.torch import load_file

        state = load_file(str(path / "model.safetensors"))
        self.model.load_state_dict({k: v.float() for k, v in state.items()})
        meta = self.meta
        self.step, self.samples_seen = int(meta.get("step", 0)), int(meta.get("samples_seen", 0))
        self.history = [meta["val"]] if meta.get("val") else []
        self.minutes_before = float(meta.get("minutes") or 0.0)
        self.rewarm_from = self.step
        return {"meta": meta, "warm_start": True}

    def validation_data(self) -> dict[str, list[NerExample]]:
        return validation_sets(self.cfg)

    def batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        block, skip = divmod(self.step, self.cfg.group)
        stream = batches(self.cfg, self.tokenizer, block)
        for _ in range(skip):
            next(stream)
        return stream

    def forward(self, batch: Any) -> torch.Tensor:
        ids, mask, tags = batch
        return self.model(input_ids=ids, attention_mask=mask, labels=tags).loss

    def validate(self, data: dict[str, list[NerExample]]) -> dict[str, Any]:
        return evaluate(self.model, self.tokenizer, data, self.arch.max_length)

    def summary(self, val: dict[str, Any]) -> str:
        return _summary(val)

    def checkpoint_extras(self) -> dict[str, Any]:
        return {"arch": self.arch.model_dump(), "tags": list(TAGS), "tokenizer": self.tokenizer.to_str()}

    def export(self, checkpoint: Path, out: Path) -> dict[str, Any]:
        return export_model(checkpoint, out)


def train(cfg: NerTrainConfig, resume: Path | None = None, progress: bool | None = None) -> dict[str, Any]:
    """Train (or continue training) and return the last step, data position and validation."""
    return NerTrainer(cfg, resume, progress).fit()


def export_model(checkpoint: Path, out: Path) -> dict[str, Any]:
    """Write the shippable Hugging Face directory: fp16 safetensors, tokenizer, ``kocr_ner.json``."""
    from tokenizers import Tokenizer

    if checkpoint.is_dir():  # already exported (e.g. resumed from shipped weights and not trained): copy it
        if not (checkpoint / META_FILE).is_file():
            raise KocrConfigError(f"{checkpoint} is not a directory exported by `kocr train ner` (no {META_FILE})")
        out.mkdir(parents=True, exist_ok=True)
        if checkpoint.resolve() != out.resolve():
            for f in checkpoint.iterdir():
                if f.is_file():
                    shutil.copyfile(f, out / f.name)
        return json.loads((checkpoint / META_FILE).read_text(encoding="utf-8"))
    payload = read_checkpoint(checkpoint, "NER training checkpoint")  # weights only: never code
    if "tokenizer" not in payload or "arch" not in payload:
        raise KocrConfigError(f"{checkpoint} is not an NER training checkpoint (written by `kocr train ner`)")
    arch = NerArch(**payload["arch"])
    tokenizer = Tokenizer.from_str(payload["tokenizer"])
    model = create_model(arch, tokenizer.get_vocab_size(), tokenizer.token_to_id("[PAD]"), tuple(payload["tags"]))
    model.load_state_dict(payload["model"])
    out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(str(out))
    save_tokenizer(tokenizer, out, arch.max_length)
    config = payload.get("config", {})
    val = payload["history"][-1] if payload.get("history") else None
    meta = {"arch": arch.model_dump(), "tags": list(payload["tags"]), "step": payload["step"],
            "samples_seen": payload["samples_seen"], "minutes": payload.get("minutes"),
            "seed": config.get("seed"), "val_seed": config.get("val_seed"), "noise_prob": config.get("noise_prob"),
            "noise": config.get("noise"), "batch_size": config.get("batch_size"), "lr": config.get("lr"), "val": val}
    (out / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return meta


__all__ = ["NerTrainConfig", "train", "export_model", "encode", "evaluate", "load_tokenizer"]
