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

from functools import partial
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from ...recognition.architectures import create_model
from ...recognition.charset import CHARSETS
from ...weights_file import read_checkpoint, write_weights
from .base import RunConfig, Trainer
from .run import stream_loader


class PretrainConfig(RunConfig):
    """A SeqCLR pre-training run (YAML-loadable): :class:`RunConfig`'s fields and these. It has no
    validation (``val_*`` do nothing); it checkpoints every ``checkpoint_every`` steps."""

    arch: str = "vitstr-tiny"
    script: Literal["hangul", "latin"] = Field("hangul", description="Whose charset sizes the (unused) head, "
                                               "so the encoder drops into that script's recogniser.")
    unlabeled: str = Field("synth:100000", description="A folder of crop images, or synth:N (see training.unlabeled).")
    unlabeled_data: dict[str, Any] = Field(default_factory=dict, description="Generator options for synth:N.")
    unlabeled_seed: int = 424_242
    mode: Literal["all", "frame", "window"] = "window"
    window: int = Field(4, ge=1, description="Frames per instance in window mode.")
    temperature: float = Field(0.1, gt=0)
    proj_dim: int = Field(128, ge=1)
    views: int = Field(3, ge=1, description="RandAugment operations per view.")
    magnitude: float = Field(1.0, ge=0, le=1)
    batch_size: int = Field(64, ge=2)
    weight_decay: float = Field(0.05, ge=0)
    total_steps: int = Field(3000, ge=1, description="Length of the cosine schedule, across all sessions.")
    checkpoint_every: int | None = Field(250, ge=1)
    max_width: int = Field(256, ge=4)
    out: Path = Path("runs/pretrain")


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


class SeqclrTrainer(Trainer[PretrainConfig]):
    """NT-Xent between two strong views of unlabelled crops; the model is the encoder and its projection head."""

    label = "seqclr step"
    smoothing = 0.98
    validates = False

    def __init__(self, cfg: PretrainConfig, resume: Path | None = None, progress: bool | None = None) -> None:
        super().__init__(cfg, resume, progress)
        self.charset = CHARSETS[self.cfg.script]()
        self.instances = 0

    def build_model(self) -> nn.Module:
        self.encoder = create_model(self.cfg.arch, len(self.charset))
        self.head = ProjectionHead(self.encoder.head.in_features, self.cfg.proj_dim)
        return nn.ModuleDict({"model": self.encoder, "proj": self.head})

    def param_groups(self) -> list[dict[str, Any]]:
        # One group, every weight decayed (norms and biases too), unlike the other trainers: so every
        # SeqCLR run so far was trained (the semi-supervised experiments' encoders), and its checkpoints
        # hold one param group, which a split would no longer load.
        # The recogniser's classifier (model.head) is not trained: the loss never reaches it.
        params = [p for n, p in self.model.named_parameters() if not n.startswith("model.head.")]
        return [{"params": params, "weight_decay": self.cfg.weight_decay}]

    def batches(self) -> Any:
        from .unlabeled import ViewStream, open_unlabeled
        from .views import strong_view

        cfg = self.cfg
        source = open_unlabeled(cfg.unlabeled, profile=cfg.script, data=cfg.unlabeled_data, seed=cfg.unlabeled_seed)
        view = partial(strong_view, n=cfg.views, magnitude=cfg.magnitude)
        stream = ViewStream(source, self.samples_seen, cfg.batch_size, view, view, seed=cfg.seed, max_width=cfg.max_width)
        return stream_loader(stream, cfg.workers)

    def forward(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        a, b, widths, _ = batch
        return self.encoder.features(a, widths), self.encoder.features(b, widths), self.encoder.frames(widths)

    def loss(self, batch: Any, out: Any) -> tuple[torch.Tensor, dict[str, float]]:
        fa, fb, frames = out  # the projection head and the loss run in fp32, outside autocast
        za = self.head(to_instances(fa.float(), frames, self.cfg.mode, self.cfg.window))
        zb = self.head(to_instances(fb.float(), frames, self.cfg.mode, self.cfg.window))
        self.instances = za.shape[0]
        return nt_xent(za, zb, self.cfg.temperature), {}

    def log_fields(self) -> dict[str, Any]:
        return {"instances": self.instances}

    def logged(self, row: dict[str, Any]) -> None:
        self.history.append(row)  # the checkpoint's history is the log: there is no validation

    def checkpoint_extras(self) -> dict[str, Any]:
        return {"arch": self.cfg.arch, "charset": self.charset.name, "kind": "seqclr"}

    def export(self, checkpoint: Path, out: Path) -> dict[str, Any]:
        return export_encoder(checkpoint, out)


def pretrain(cfg: PretrainConfig, resume: Path | None = None, progress: bool | None = None) -> dict[str, Any]:
    """Run (or continue) SeqCLR pre-training; return the step, data position and running loss."""
    return SeqclrTrainer(cfg, resume, progress).fit()


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
