"""Training a column-patch ViTSTR recogniser on synthetic crops (``kocr train recognizer``).

The data stream is a pure function of (seed, sample index): a worker generating sample ``i``
always renders the same crop, so resuming from a checkpoint that recorded ``samples_seen``
continues the very same stream. Validation uses crops in *held-out fonts* (never trained on)
from a different seed, reported overall and by kind of text.

One process thread for the model and one DataLoader worker for rendering is the fastest split
of two CPU cores (../shared/TRAINING.md: one thread per process beats two threads).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any, Iterator, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from ..recognition.charset import CHARSETS, Charset
from ..recognition.preprocess import HEIGHT, batch_tensors, normalise
from ..recognition.architectures import create_model
from ..recognition.vitstr import greedy_decode
from .checkpoint import load_checkpoint, save_checkpoint
from .schedule import lr_at


class RecognizerTrainConfig(BaseModel):
    """Everything that defines a recogniser training run (YAML-loadable)."""

    model_config = ConfigDict(extra="forbid")

    script: Literal["hangul", "latin"] = "hangul"
    arch: str = "vitstr-tiny"
    charset: str | None = Field(None, description="Charset name; default: the script's own.")
    batch_size: int = Field(64, ge=1)
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_steps: int = 500
    total_steps: int = Field(150_000, description="Length of the cosine schedule, across all sessions.")
    max_minutes: float | None = Field(None, description="Stop (with a checkpoint) after this long.")
    max_steps: int | None = None
    val_every: int = 500
    val_size: int = 1000
    log_every: int = 50
    seed: int = 0
    val_seed: int = 10_007
    threads: int = 1
    workers: int = 1
    max_width: int = 256
    out: Path = Path("runs/recognizer-hangul")
    device: str = "auto"
    data: dict[str, Any] = Field(default_factory=dict, description="Options passed to the crop generator.")


def _generator(cfg: RecognizerTrainConfig, split: str, seed: int):
    from ..synth.crops import CropGenerator

    return CropGenerator(split=split, seed=seed, profile=cfg.script, **cfg.data)


class CropStream(IterableDataset):
    """Endless batches of (normalised crops, widths, targets, target lengths), from ``start`` on.

    Each worker renders every ``num_workers``-th sample; inside a worker, 4 batches' worth are
    sorted by width before batching so that little compute is spent on padding.
    """

    def __init__(self, cfg: RecognizerTrainConfig, charset: Charset, start: int) -> None:
        self.cfg, self.charset, self.start = cfg, charset, start

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, list[str]]]:
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        gen = _generator(self.cfg, "train", self.cfg.seed)
        bs = self.cfg.batch_size
        index = self.start + wid
        rng = random.Random(self.cfg.seed * 1000 + self.start + wid)
        while True:
            pool = []
            while len(pool) < bs * 4:
                image, label = gen.sample(index)
                index += nw
                text = label["text"]
                try:
                    ids = self.charset.encode(text)
                except ValueError:
                    continue
                img = normalise(image, HEIGHT, self.cfg.max_width)
                frames = img.shape[1] // 4
                if not ids or len(ids) * 2 > frames:  # CTC needs room for blanks between repeats
                    continue
                pool.append((img, ids, text))
            pool.sort(key=lambda s: s[0].shape[1])
            batches = [pool[i:i + bs] for i in range(0, len(pool), bs)]
            rng.shuffle(batches)
            for batch in batches:
                x, widths = batch_tensors([b[0] for b in batch])
                targets = torch.tensor([t for b in batch for t in b[1]], dtype=torch.long)
                lengths = torch.tensor([len(b[1]) for b in batch], dtype=torch.long)
                yield x, widths, targets, lengths, [b[2] for b in batch]


def validation_set(cfg: RecognizerTrainConfig, charset: Charset) -> list[tuple[np.ndarray, str, str]]:
    """Held-out fonts, a different seed: (normalised crop, text, kind)."""
    gen = _generator(cfg, "heldout", cfg.val_seed)
    out = []
    i = 0
    while len(out) < cfg.val_size:
        image, label = gen.sample(i)
        i += 1
        if charset.unknown(label["text"]):
            continue
        out.append((normalise(image, HEIGHT, cfg.max_width), label["text"], label.get("kind", label.get("script", "?"))))
    return out


@torch.no_grad()
def evaluate(model, charset: Charset, data: list[tuple[np.ndarray, str, str]], batch_size: int = 128) -> dict[str, Any]:
    """Word accuracy and CER overall and by kind of text."""
    from rapidfuzz.distance import Levenshtein

    model.eval()
    order = sorted(range(len(data)), key=lambda i: data[i][0].shape[1])
    preds: dict[int, str] = {}
    for s in range(0, len(order), batch_size):
        idx = order[s:s + batch_size]
        x, widths = batch_tensors([data[i][0] for i in idx])
        x, widths = x.to(next(model.parameters()).device), widths.to(next(model.parameters()).device)
        decoded = greedy_decode(model(x, widths), model.frames(widths), charset)
        for i, (text, _, _) in zip(idx, decoded):
            preds[i] = text
    model.train()
    groups: dict[str, list[tuple[str, str]]] = {}
    for i, (_, gt, kind) in enumerate(data):
        groups.setdefault("all", []).append((gt, preds[i]))
        groups.setdefault(kind, []).append((gt, preds[i]))
    result = {}
    for name, pairs in groups.items():
        correct = sum(g == p for g, p in pairs)
        edits = sum(Levenshtein.distance(g, p) for g, p in pairs)
        chars = sum(len(g) for g, _ in pairs)
        result[name] = {"n": len(pairs), "word_acc": correct / len(pairs), "cer": edits / max(chars, 1)}
    return result


def train(cfg: RecognizerTrainConfig, resume: Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Train (or continue training) and return the last validation result."""
    from ..config import resolve_device

    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)  # type: ignore[arg-type]
    charset = CHARSETS[cfg.charset or cfg.script]()
    model = create_model(cfg.arch, len(charset)).to(device)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "pos" not in n]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2 or "pos" in n]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr
    )
    step, samples_seen, history = 0, 0, []
    rewarm_from: int | None = None
    ckpt_path = cfg.out / "last.pt"
    if resume is not None:
        payload = load_checkpoint(resume, model, optimizer)
        step, samples_seen, history = payload["step"], payload["samples_seen"], payload.get("history", [])
        rewarm_from = step if payload.get("warm_start") else None
    cfg.out.mkdir(parents=True, exist_ok=True)
    log = (cfg.out / "log.jsonl").open("a")
    val = validation_set(cfg, charset)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    loader = DataLoader(
        CropStream(cfg, charset, samples_seen), batch_size=None, num_workers=cfg.workers,
        persistent_workers=cfg.workers > 0, prefetch_factor=4 if cfg.workers > 0 else None,
    )
    start = time.time()
    running: float | None = None
    last = None

    def checkpoint() -> None:
        save_checkpoint(ckpt_path, model, optimizer, step=step, samples_seen=samples_seen, config=cfg.model_dump(mode="json"),
                        charset=charset.name, arch=cfg.arch, history=history)

    bar = None
    if progress:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        bar = Progress(TextColumn("step {task.completed}"), BarColumn(), TextColumn("{task.fields[info]}"), TimeElapsedColumn())
        task = bar.add_task("train", total=cfg.max_steps or cfg.total_steps, completed=step, info="")
        bar.start()
    try:
        model.train()
        for x, widths, targets, lengths, _ in loader:
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, cfg.lr, cfg.warmup_steps, cfg.total_steps, rewarm_from)
            x, widths = x.to(device), widths.to(device)
            logits = model(x, widths)
            log_probs = logits.log_softmax(-1).transpose(0, 1)
            loss = ctc(log_probs, targets, model.frames(widths), lengths)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
            samples_seen += x.shape[0]
            value = loss.item()
            running = value if running is None else 0.98 * running + 0.02 * value
            if bar is not None:
                bar.update(task, completed=step, info=f"loss {running:.3f}")
            if step % cfg.log_every == 0:
                log.write(json.dumps({"step": step, "samples": samples_seen, "loss": round(running, 4),
                                      "lr": optimizer.param_groups[0]["lr"], "minutes": round((time.time() - start) / 60, 2)}) + "\n")
                log.flush()
            done = (cfg.max_steps is not None and step >= cfg.max_steps) or (
                cfg.max_minutes is not None and time.time() - start > cfg.max_minutes * 60)
            if step % cfg.val_every == 0 or done:
                last = evaluate(model, charset, val)
                history.append({"step": step, "samples": samples_seen, **{k: v for k, v in last.items()}})
                log.write(json.dumps({"step": step, "val": last}) + "\n")
                log.flush()
                checkpoint()
            if done:
                break
    finally:
        if bar is not None:
            bar.stop()
        log.close()
    return {"step": step, "samples_seen": samples_seen, "val": last}


def export_weights(checkpoint: Path, out: Path) -> dict[str, Any]:
    """Write the shippable weights: fp16 model, architecture, charset and validation figures."""
    payload = torch.load(checkpoint, map_location="cpu", weights_only=False)
    state = {k: v.half() if v.is_floating_point() else v for k, v in payload["model"].items()}
    meta = {"arch": payload["arch"], "charset": payload["charset"], "step": payload["step"],
            "max_width": int(payload.get("config", {}).get("max_width", 256)),
            "samples_seen": payload["samples_seen"], "val": payload["history"][-1] if payload.get("history") else None}
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": state, "meta": meta}, out)
    return meta
