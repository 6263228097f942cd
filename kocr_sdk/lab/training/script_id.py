"""Training the script identifier on synthetic crops (``kocr train script-id``).

Crops come from ``CropGenerator(profile="script")``, rendered on the fly in a DataLoader worker;
the label is the crop's ``script`` (one rule, :func:`kocr_sdk.vocabulary.scripts.script_of`). The
stream is exact and resumable: optimisation step ``k`` always sees the same batch, whatever
session runs it and with however many workers. Sample indices are cut into *blocks* of
``group`` batches; a block's crops are sorted by width before it is cut into batches (little
compute spent on padding) and its batches are shuffled with a seed of their own. A worker
renders whole blocks (worker ``w`` of ``n``: blocks ``w, w+n, ...``) and the DataLoader takes
them from the workers in turn, which is block order; a run resumed at step ``k`` starts at
block ``k // group`` and skips its first ``k % group`` batches. Validation renders crops in the
held-out fonts with another seed.

As for the other trainers: one model thread and one rendering worker are the fastest split of
two cores (../shared/TRAINING.md), the checkpoint holds the optimiser and the data position,
and exported weights resume too (warm start).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from ...errors import KocrConfigError, KocrModelError
from ...script_id.batching import MAX_WIDTH, prepare, width_batches
from ..eval.script_id import script_metrics
from ...script_id.model import create_model
from ...weights_file import read_checkpoint, write_weights
from .checkpoint import load_checkpoint, save_checkpoint
from .run import TrainingRun, stream_loader
from .schedule import lr_at

#: Output classes, in order. ``script_of`` labels every crop with one of these.
CLASSES: tuple[str, ...] = ("hangul", "latin", "digits", "han", "kana", "other")


class ScriptIdTrainConfig(BaseModel):
    """Everything that defines a script-identifier training run (YAML-loadable)."""

    model_config = ConfigDict(extra="forbid")

    arch: str = "script-cnn"
    classes: tuple[str, ...] = CLASSES
    batch_size: int = Field(128, ge=1)
    group: int = Field(4, ge=1, description="Batches per width-sorted block of the stream.")
    lr: float = 2e-3
    weight_decay: float = 1e-4
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    warmup_steps: int = 200
    total_steps: int = Field(20_000, description="Length of the cosine schedule, across all sessions.")
    max_minutes: float | None = Field(None, description="Stop (with a checkpoint) after this long.")
    max_steps: int | None = None
    val_every: int = 250
    val_size: int = 2000
    log_every: int = 25
    seed: int = 0
    val_seed: int = 20_011
    threads: int = 1
    workers: int = 1
    max_width: int = MAX_WIDTH
    out: Path = Path("runs/script-id")
    device: str = "auto"
    data: dict[str, Any] = Field(default_factory=dict, description="Options passed to the crop generator.")


def _generator(cfg: ScriptIdTrainConfig, split: str, seed: int):
    from ..synth.crops import CropGenerator

    return CropGenerator(split=split, seed=seed, profile="script", **cfg.data)


class ScriptCropStream(IterableDataset):
    """Endless blocks of ``group`` batches — (crops (B,1,32,W), widths, class targets) — from ``block`` on."""

    def __init__(self, cfg: ScriptIdTrainConfig, block: int) -> None:
        self.cfg, self.block = cfg, block
        self.index = {c: i for i, c in enumerate(cfg.classes)}

    def __iter__(self) -> Iterator[list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]]:
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        gen = _generator(self.cfg, "train", self.cfg.seed)
        block = self.block + wid
        while True:
            yield self.render_block(gen, block)
            block += nw

    def render_block(self, gen, block: int) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        cfg = self.cfg
        per_block = cfg.batch_size * cfg.group
        images, targets = [], []
        for i in range(block * per_block, (block + 1) * per_block):
            image, label = gen.sample(i)
            images.append(prepare(image, cfg.max_width))
            targets.append(self.index.get(label["script"], self.index.get("other", 0)))
        batches = [(x, widths, torch.tensor([targets[i] for i in idx], dtype=torch.long))
                   for idx, x, widths in width_batches(images, cfg.batch_size)]
        random.Random(f"kocr-script-id:{cfg.seed}:{block}").shuffle(batches)
        return batches


def validation_set(cfg: ScriptIdTrainConfig) -> list[tuple[np.ndarray, str, str]]:
    """Held-out fonts, another seed: (prepared crop, script, font)."""
    gen = _generator(cfg, "heldout", cfg.val_seed)
    out = []
    for i in range(cfg.val_size):
        image, label = gen.sample(i)
        out.append((prepare(image, cfg.max_width), label["script"], label["font"]))
    return out


@torch.no_grad()
def predict(model: torch.nn.Module, images: list[np.ndarray], batch_size: int = 256) -> np.ndarray:
    """(N, classes) probabilities for prepared crops, in their order."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out: np.ndarray | None = None
    for idx, x, widths in width_batches(images, batch_size):
        p = model(x.to(device), widths.to(device)).float().softmax(-1).cpu().numpy()
        if out is None:
            out = np.zeros((len(images), p.shape[1]), np.float32)
        out[idx] = p
    model.train(was_training)
    return out if out is not None else np.zeros((0, 0), np.float32)


def evaluate(model: torch.nn.Module, classes: tuple[str, ...], data: list[tuple[np.ndarray, str, str]]) -> dict[str, Any]:
    probs = predict(model, [d[0] for d in data])
    return script_metrics([d[1] for d in data], probs, classes, fonts=[d[2] for d in data])


def _summary(val: dict[str, Any]) -> str:
    return f"acc hangul/latin/digits {val['acc_hld']:.4f}, all {val['acc_all']:.4f}"


def train(cfg: ScriptIdTrainConfig, resume: Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Train (or continue training) and return the last step, data position and validation."""
    from ...config import resolve_device

    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)  # type: ignore[arg-type]
    model = create_model(cfg.arch, len(cfg.classes)).to(device)
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr
    )
    step, samples_seen, minutes, history = 0, 0, 0.0, []
    rewarm_from: int | None = None
    if resume is not None:
        payload = _resume(resume, model, optimizer, cfg)
        step, samples_seen, history = payload["step"], payload["samples_seen"], payload.get("history", [])
        minutes = float(payload.get("minutes", payload.get("meta", {}).get("minutes", 0.0)))
        rewarm_from = step if payload.get("warm_start") else None
    ckpt_path = cfg.out / "last.pt"
    last = history[-1] if history else None
    run = TrainingRun(cfg.out, total=cfg.total_steps, step=step, max_steps=cfg.max_steps, max_minutes=cfg.max_minutes,
                      progress=progress)

    def checkpoint() -> None:
        save_checkpoint(ckpt_path, model, optimizer, step=step, samples_seen=samples_seen, config=cfg.model_dump(mode="json"),
                        arch=cfg.arch, classes=list(cfg.classes), history=history,
                        minutes=round(minutes + run.minutes, 2))

    if run.finished(step):  # nothing to train: e.g. ``--max-steps 0 --export`` re-exports a checkpoint
        return {"step": step, "samples_seen": samples_seen, "val": last}
    val = validation_set(cfg)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    loader = stream_loader(ScriptCropStream(cfg, step // cfg.group), cfg.workers, prefetch=2)
    skip = step % cfg.group
    running: float | None = None
    correct = seen = 0
    with run:
        model.train()
        for x, widths, targets in _batches(loader, skip):
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, cfg.lr, cfg.warmup_steps, cfg.total_steps, rewarm_from)
            x, widths, targets = x.to(device), widths.to(device), targets.to(device)
            logits = model(x, widths)
            loss = loss_fn(logits, targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            samples_seen += x.shape[0]
            correct += int((logits.argmax(1) == targets).sum())
            seen += x.shape[0]
            running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
            run.tick(step, f"loss {running:.3f}")
            if step % cfg.log_every == 0:
                run.log({"step": step, "samples": samples_seen, "loss": round(running, 4),
                         "train_acc": round(correct / max(seen, 1), 4), "lr": optimizer.param_groups[0]["lr"],
                         "minutes": round(run.minutes, 2)})
                correct = seen = 0
            done = run.finished(step)
            if step % cfg.val_every == 0 or done:
                last = {"step": step, "samples": samples_seen, "minutes": round(minutes + run.minutes, 2),
                        **evaluate(model, cfg.classes, val)}
                history.append(last)
                run.log({"step": step, "val": last})
                run.print(f"step {step}: {_summary(last)}")
                checkpoint()
            if done:
                break
    return {"step": step, "samples_seen": samples_seen, "val": last}


def _batches(loader: DataLoader, skip: int) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """The loader's blocks as one stream of batches, without the first ``skip`` (already trained on)."""
    for block in loader:
        yield from block[skip:]
        skip = 0


def _resume(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, cfg: ScriptIdTrainConfig) -> dict[str, Any]:
    """Restore from a checkpoint or exported weights, refusing one of another architecture or classes."""
    payload = read_checkpoint(path, "script-identifier checkpoint")  # weights only: never code
    source = payload.get("meta", payload)
    arch, classes = source.get("arch"), tuple(source.get("classes", ()))
    if arch != cfg.arch or classes != tuple(cfg.classes):
        raise KocrConfigError(f"{path} holds a {arch!r} model over {list(classes)}; this run trains a "
                              f"{cfg.arch!r} model over {list(cfg.classes)}")
    return load_checkpoint(path, model, optimizer)


def export_weights(checkpoint: Path, out: Path) -> dict[str, Any]:
    """Write the shippable weights (safetensors, :mod:`kocr_sdk.weights_file`): fp16 model and a
    ``meta`` dict (classes, step, validation)."""
    payload = read_checkpoint(checkpoint, "script-identifier checkpoint")
    if "meta" in payload:  # already exported: copy it (re-exporting shipped weights is harmless)
        state, meta = payload["model"], dict(payload["meta"])
    else:
        missing = [k for k in ("arch", "classes", "step", "samples_seen") if k not in payload]
        if missing:
            raise KocrModelError(f"{checkpoint} is not a kocr script-identifier checkpoint (no {', '.join(missing)})")
        state = {k: v.half() if v.is_floating_point() else v for k, v in payload["model"].items()}
        config = payload.get("config", {})
        val = payload["history"][-1] if payload.get("history") else None
        meta = {"arch": payload["arch"], "classes": list(payload["classes"]), "step": payload["step"],
                "samples_seen": payload["samples_seen"], "minutes": payload.get("minutes"),
                "max_width": int(config.get("max_width", MAX_WIDTH)), "seed": config.get("seed"),
                "data": config.get("data", {}), "val": val}
    write_weights(out, state, meta)  # safetensors: the file others load carries no code
    return meta
