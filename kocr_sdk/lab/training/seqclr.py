"""SeqCLR: contrastive pre-training of a recogniser's encoder on unlabelled crops
(``kocr train recognizer-pretrain``; Aberdam et al., "Sequence-to-Sequence Contrastive Learning
for Text Recognition", 2021).

Every crop gives two strong views (``views.strong_view``), sequence-aligned: same width, ink
moved by a few pixels at most. The encoder (``model.features``) turns each into a frame
sequence, and the frames are mapped to *instances* — the units the contrastive loss compares:

- ``all``: one instance per crop, the mean of its frames (all-to-instance);
- ``frame``: every frame is an instance (frame-to-instance);
- ``window`` (default): non-overlapping windows of ``window`` frames, averaged
  (window-to-instance). A window of 4 frames is 16 px — about one Latin letter or half a Hangul
  syllable at height 32 — and SeqCLR found windows beat both extremes: single frames are too
  local to be told apart, one instance per word throws away the sequence.

Instance ``i`` of view A and instance ``i`` of view B are a positive pair; every other instance
in the batch is a negative (NT-Xent, as in SimCLR). A small projection head sits between the
encoder and the loss and is thrown away afterwards. The exported file holds the encoder only;
``kocr train recognizer`` starts from it with ``init_from:`` (its classifier starts fresh).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from ...recognition.architectures import create_model
from ...recognition.charset import CHARSETS
from ...weights_file import read_checkpoint, write_weights
from .checkpoint import load_checkpoint, save_checkpoint
from .run import Precision, TrainingRun, autocast, stream_loader
from .schedule import lr_at


class PretrainConfig(BaseModel):
    """A SeqCLR pre-training run (YAML-loadable)."""

    model_config = ConfigDict(extra="forbid")

    arch: str = "vitstr-tiny"
    script: Literal["hangul", "latin"] = Field("hangul", description="Whose charset sizes the (unused) head, "
                                               "so the encoder drops into that script's recogniser.")
    unlabeled: str = Field("synth:100000", description="A folder of crop images, or synth:N (see training.unlabeled).")
    unlabeled_data: dict[str, Any] = Field(default_factory=dict, description="Generator options for synth:N.")
    unlabeled_seed: int = 424_242
    mode: Literal["all", "frame", "window"] = "window"
    window: int = Field(4, ge=1, description="Frames per instance in window mode.")
    temperature: float = Field(0.1, gt=0)
    proj_dim: int = 128
    views: int = Field(3, ge=1, description="RandAugment operations per view.")
    magnitude: float = Field(1.0, ge=0, le=1)
    batch_size: int = Field(64, ge=2)
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_steps: int = 300
    total_steps: int = 3000
    max_minutes: float | None = None
    max_steps: int | None = None
    log_every: int = 25
    checkpoint_every: int = 250
    seed: int = 0
    threads: int = 1
    workers: int = 1
    max_width: int = 256
    precision: Precision = Field(
        "fp32", description="bf16: the encoder's forward pass under torch.autocast in bfloat16 (the projection "
        "head, the loss, weights and optimizer stay fp32). Pays on CPUs with AMX or AVX-512 BF16 and on GPUs.")
    out: Path = Path("runs/pretrain")
    device: str = "auto"


class ProjectionHead(nn.Module):
    """dim → dim → proj_dim MLP (SimCLR's): the loss shapes its output, the encoder keeps the rest."""

    def __init__(self, dim: int, out: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(inplace=True), nn.Linear(dim, out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def to_instances(features: torch.Tensor, frames: torch.Tensor, mode: str, window: int = 4) -> torch.Tensor:
    """(B, T, D) frame sequences with ``frames`` valid each → (N, D) instances, in an order that
    depends only on ``frames``: two aligned views give row-for-row matching instances.

    Window mode averages the valid frames of each window; a last, partial window is kept when at
    least half of it is valid, and a crop shorter than one window gives one instance.
    """
    b, t, d = features.shape
    valid = (torch.arange(t, device=features.device)[None, :] < frames[:, None]).to(features.dtype)  # (B, T)
    if mode == "all":
        return (features * valid[..., None]).sum(1) / valid.sum(1, keepdim=True).clamp(min=1)
    if mode == "frame":
        return features[valid.bool()]
    if mode != "window":
        raise ValueError(f"unknown instance mapping {mode!r}: all, frame or window")
    masked = (features * valid[..., None]).transpose(1, 2)  # (B, D, T)
    sums = F.avg_pool1d(masked, window, window, ceil_mode=True) * window  # (B, D, K)
    counts = F.avg_pool1d(valid[:, None, :], window, window, ceil_mode=True) * window  # (B, 1, K)
    keep = counts[:, 0] >= window / 2
    keep[:, 0] |= counts[:, 0, 0] > 0  # a crop shorter than half a window still gives one instance
    means = (sums / counts.clamp(min=1)).transpose(1, 2)  # (B, K, D)
    return means[keep]


def nt_xent(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """NT-Xent over 2N instances: row ``i`` of ``a`` and of ``b`` are positives, all else negatives."""
    z = F.normalize(torch.cat([a, b]), dim=1)
    n = a.shape[0]
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, targets)


def pretrain(cfg: PretrainConfig, resume: Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Run (or continue) SeqCLR pre-training; return the last step's figures."""
    from functools import partial

    from ...config import resolve_device
    from .unlabeled import ViewStream, open_unlabeled
    from .views import strong_view

    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)  # type: ignore[arg-type]
    charset = CHARSETS[cfg.script]()
    model = create_model(cfg.arch, len(charset)).to(device)
    head = ProjectionHead(model.head.in_features, cfg.proj_dim).to(device)
    both = nn.ModuleDict({"model": model, "proj": head})
    params = [p for n, p in both.named_parameters() if not n.startswith("model.head.")]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    step, seen, history = 0, 0, []
    ckpt = cfg.out / "last.pt"
    if resume is not None:
        payload = load_checkpoint(resume, both, optimizer)
        step, seen, history = payload["step"], payload["samples_seen"], payload.get("history", [])
    source = open_unlabeled(cfg.unlabeled, profile=cfg.script, data=cfg.unlabeled_data, seed=cfg.unlabeled_seed)
    view = partial(strong_view, n=cfg.views, magnitude=cfg.magnitude)
    stream = ViewStream(source, seen, cfg.batch_size, view, view, seed=cfg.seed, max_width=cfg.max_width)
    loader = stream_loader(stream, cfg.workers)
    running: float | None = None

    def save() -> None:
        save_checkpoint(ckpt, both, optimizer, step=step, samples_seen=seen, config=cfg.model_dump(mode="json"),
                        arch=cfg.arch, charset=charset.name, history=history, kind="seqclr")

    with TrainingRun(cfg.out, total=cfg.total_steps, step=step, max_steps=cfg.max_steps, max_minutes=cfg.max_minutes,
                     progress=progress, label="seqclr step") as run:
        model.train()
        for a, b, widths, _ in loader:
            if run.finished(step):
                break
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, cfg.lr, cfg.warmup_steps, cfg.total_steps)
            a, b, widths = a.to(device), b.to(device), widths.to(device)
            frames = model.frames(widths)
            with autocast(device, cfg.precision):
                fa, fb = model.features(a, widths), model.features(b, widths)
            za = head(to_instances(fa.float(), frames, cfg.mode, cfg.window))
            zb = head(to_instances(fb.float(), frames, cfg.mode, cfg.window))
            loss = nt_xent(za, zb, cfg.temperature)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            step += 1
            seen += a.shape[0]
            running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
            run.tick(step, f"nt-xent {running:.3f} ({za.shape[0]} instances)")
            if step % cfg.log_every == 0:
                row = {"step": step, "samples": seen, "loss": round(running, 4), "instances": za.shape[0],
                       "lr": optimizer.param_groups[0]["lr"], "minutes": round(run.minutes, 2)}
                history.append(row)
                run.log(row)
            if step % cfg.checkpoint_every == 0:
                save()
        save()
    return {"step": step, "samples_seen": seen, "loss": running}


def export_encoder(checkpoint: Path, out: Path) -> dict[str, Any]:
    """Write the pre-trained encoder (no classifier, no projection head) for ``init_from:``."""
    payload = read_checkpoint(checkpoint, "SeqCLR pre-training checkpoint",
                              require=("arch", "charset", "step", "samples_seen", "config"))
    state = {k[len("model."):]: v.half() if v.is_floating_point() else v for k, v in payload["model"].items()
             if k.startswith("model.") and not k.startswith("model.head.")}
    meta = {"arch": payload["arch"], "charset": payload["charset"], "step": payload["step"],
            "samples_seen": payload["samples_seen"], "pretrain": "seqclr",
            "config": {k: payload["config"][k] for k in ("mode", "window", "temperature", "unlabeled")}}
    write_weights(out, state, meta)  # safetensors: the file others load carries no code
    return meta
