"""One training loop for every kocr model: :class:`RunConfig` and :class:`Trainer`.

Why one: the recogniser, detector, script-identifier, NER and SeqCLR trainers each wrote their own
seeding, device choice, AdamW decay split, resume, step, logging, checkpoints and export, and
drifted apart (two names for the precision and for the validation size, a clip value each). A
trainer now says only what is its own — model, data stream, loss, validation metric, export
format — and every run stops, resumes, logs and checkpoints the same way.

A step, in order: the learning rate from the schedule (:func:`~.schedule.lr_at`, a pure function of
the global step); the batch to the device; the forward pass under autocast (``precision``); the
loss, outside autocast; AdamW with the gradients' global norm clipped to ``grad_clip``; the
trainer's ``after_step``. Then a log line every ``log_every`` steps, validation every
``val_every`` steps with a checkpoint after it, a checkpoint every ``checkpoint_every`` steps too
if set (SeqCLR, which does not validate, sets it), and validation, checkpoint and export when the
run stops.

Resuming from a checkpoint restores model, optimiser, step, data position, history, minutes and
torch's random state (so dropout goes on with its sequence instead of starting it over); shipped
weights resume as a warm start (no optimiser moments: the learning rate re-warms,
:func:`~.checkpoint.load_checkpoint`). ``max_steps`` is a global step: a resumed run stops where
an uninterrupted one would, and a run resumed at or past it trains nothing (``export`` still
writes its weights).
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from itertools import chain
from pathlib import Path
from functools import cache
from typing import Annotated, Any, Callable, ClassVar, Generic, Iterable, Mapping, TypeVar

import torch
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from ...errors import KocrConfigError
from .checkpoint import load_checkpoint, save_checkpoint
from .run import Precision, TrainingRun
from .schedule import lr_at

#: Fields that describe one invocation rather than the recipe: left out of the config a checkpoint keeps.
RUN_ONLY = frozenset({"resume", "export", "progress"})


class ConfigDeprecation(FutureWarning):
    """A config key accepted under its old name; the message says what to write instead."""


def renamed(data: Any, old: str, new: str, convert: Callable[[Any], Any] | None = None) -> Any:
    """``data`` (a config mapping, before validation) with the old key ``old`` read as ``new``, and a
    :class:`ConfigDeprecation` saying so. Why: config files written for the old name keep working,
    and their authors learn the new one. Giving both is an error naming them."""
    if not isinstance(data, dict) or old not in data:
        return data
    data = dict(data)
    if new in data:
        raise ValueError(f"{old}: `{old}` is the old name of `{new}`; give `{new}` only")
    value = data.pop(old)
    value = convert(value) if convert is not None else value
    shown = str(value).lower() if isinstance(value, bool) else value
    warnings.warn(f"config key `{old}` is deprecated: write `{new}: {shown}` instead", ConfigDeprecation, stacklevel=2)
    data[new] = value
    return data


def error_lines(exc: ValidationError) -> str:
    """One ``key: message`` line per validation error (the key a user has to fix)."""
    lines = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"{'.'.join(loc) or '(top level)'}: {message}")
    return "\n".join(lines)


R = TypeVar("R", bound="RunConfig")


class RunConfig(BaseModel):
    """What every training run has, each under one name (YAML-loadable). A trainer's config
    subclasses it with its own fields, and overrides a default only where its recipe differs."""

    model_config = ConfigDict(extra="forbid")

    out: Path = Field(Path("runs/train"), description="Run directory: last.pt (the checkpoint) and log.jsonl.")
    seed: int = Field(0, description="Seeds torch and the data stream (a pure function of seed and sample index).")
    device: str = Field("auto", description="auto (CUDA when torch sees a GPU), cpu, cuda or cuda:N.")
    threads: int = Field(1, ge=1, description="torch threads of the training process: one model thread and one "
                         "rendering worker is the fastest split of two cores.")
    workers: int = Field(1, ge=0, description="DataLoader workers making batches (0: in the training process).")
    precision: Precision = Field(
        "fp32", description="bf16: the forward pass under torch.autocast in bfloat16 (weights, optimiser and loss "
        "stay fp32). Pays on GPUs and on CPUs with AMX or AVX-512 BF16; elsewhere it is slower.")
    batch_size: int = Field(64, ge=1)
    lr: float = Field(1e-3, gt=0, description="Peak learning rate, reached after the warm-up.")
    weight_decay: float = Field(0.01, ge=0, description="AdamW's, on weight matrices and kernels only (Trainer.decays).")
    warmup_steps: int = Field(300, ge=0)
    total_steps: int = Field(10_000, ge=1, description="Length of the cosine schedule, across all sessions.")
    schedule_start: int = Field(0, ge=0, description="Global step where the cosine schedule (warm-up included) "
                                "begins: set it past a finished run's step to restart the schedule (SGDR-style).")
    grad_clip: float | None = Field(1.0, gt=0, description="Clip the gradients' global norm to this; null: no clipping.")
    max_steps: int | None = Field(None, ge=0, description="Stop at this global step (resumed runs count from 0 too).")
    max_minutes: float | None = Field(None, ge=0, description="Stop (with a checkpoint) after this long in this process.")
    log_every: int = Field(25, ge=1)
    val_every: int = Field(500, ge=1, description="Steps between validations (each followed by a checkpoint).")
    val_size: int = Field(1000, ge=1, description="Held-out samples each validation scores.")
    val_seed: int = Field(10_007, description="Seed of the validation samples (one no training stream uses).")
    checkpoint_every: int | None = Field(None, ge=1, description="Steps between checkpoints besides those after "
                                         "each validation and at the stop.")
    resume: Path | None = Field(None, description="Checkpoint (or shipped weights: a warm start) to continue from.")
    export: Path | None = Field(None, description="Where to write the shippable weights when the run stops.")
    progress: bool = Field(True, description="The progress bar (off: -q).")

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        kind, _, index = value.partition(":")
        if value in ("auto", "cpu", "cuda", "mps") or (kind == "cuda" and index.isdigit()):
            return value
        raise ValueError(f"unknown device {value!r}: auto, cpu, cuda or cuda:N")

    @model_validator(mode="after")
    def _shared_bounds(self) -> "RunConfig":
        """A trainer's config that changes a default redeclares the field, and could lose its bounds
        with it (a ``batch_size`` of 0); the bounds declared here hold in every subclass."""
        for name, adapter in _bounds().items():
            try:
                adapter.validate_python(getattr(self, name))
            except ValidationError as exc:
                raise ValueError(f"{name}: {exc.errors()[0]['msg']}") from None
        return self

    def recipe(self) -> dict[str, Any]:
        """The config a checkpoint keeps: everything but where this invocation resumes from and exports to."""
        return self.model_dump(mode="json", exclude=set(RUN_ONLY))

    @classmethod
    def checked(cls: type[R], data: Mapping[str, Any], where: str = "training config") -> R:
        """``data`` validated, or a :class:`KocrConfigError` naming each bad key."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise KocrConfigError(f"{where}: {error_lines(exc)}") from None

    def with_options(self: R, **options: Any) -> R:
        """This config with the options that were given (not None) laid over it, validated again."""
        given = {k: v for k, v in options.items() if v is not None}
        return type(self).checked({**self.model_dump(), **given}, "command-line options")


@cache
def _bounds() -> dict[str, TypeAdapter]:
    """A validator of each :class:`RunConfig` field that has bounds, with those bounds."""
    return {name: TypeAdapter(Annotated[(field.annotation, *field.metadata)])  # type: ignore[misc]
            for name, field in RunConfig.model_fields.items() if field.metadata}


C = TypeVar("C", bound=RunConfig)


class Trainer(ABC, Generic[C]):
    """The loop every kocr trainer runs; a subclass supplies its model, data, loss, validation and export.

    Hooks a trainer must write: :meth:`build_model`, :meth:`batches`, :meth:`forward`,
    :meth:`export` and, unless ``validates`` is false, :meth:`validation_data` and :meth:`validate`.
    Hooks it may override: :meth:`prepare`, :meth:`decays` / :meth:`param_groups`,
    :meth:`start_fresh`, :meth:`restore`, :meth:`to_device`, :meth:`loss`, :meth:`after_step`,
    :meth:`log_fields`, :meth:`summary`, :meth:`checkpoint_extras`.
    """

    #: The progress bar's label.
    label: ClassVar[str] = "step"
    #: The running loss in the log and the progress bar: ``s · running + (1 − s) · loss``.
    smoothing: ClassVar[float] = 0.95
    #: Decimals of the logged losses.
    loss_digits: ClassVar[int] = 4
    #: Whether ``precision: bf16`` applies on a CPU too (false: on GPUs only).
    bf16_on_cpu: ClassVar[bool] = True
    #: Whether the trainer validates (one that does not checkpoints every ``checkpoint_every`` steps).
    validates: ClassVar[bool] = True

    def __init__(self, cfg: C, resume: Path | None = None, progress: bool | None = None) -> None:
        # Validated again: a config changed with model_copy(update=...) was never checked.
        self.cfg: C = type(cfg).checked(cfg.model_dump())
        self.resume = Path(resume) if resume is not None else self.cfg.resume
        self.progress = self.cfg.progress if progress is None else progress
        self.checkpoint_path = self.cfg.out / "last.pt"
        self.device = "cpu"
        self.step = self.samples_seen = self.first_step = 0
        self.history: list[dict[str, Any]] = []
        self.minutes_before = 0.0
        self.rewarm_from: int | None = None
        self.running: dict[str, float] = {}
        self.last_val: dict[str, Any] | None = None
        self.saved = False
        self.exported: dict[str, Any] | None = None
        self.run: TrainingRun | None = None
        self._rng: dict[str, torch.Tensor] = {}

    # ------------------------------------------------------------------------------- the loop
    def fit(self) -> dict[str, Any]:
        """Train (or continue) until the stop rule says so; checkpoint, export, return :meth:`result`."""
        from ...config import resolve_device

        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        torch.set_num_threads(cfg.threads)
        self.prepare()
        self.device = resolve_device(cfg.device)  # type: ignore[arg-type]
        self.model = self.build_model().to(self.device)
        self.optimizer = torch.optim.AdamW(self.param_groups(), lr=cfg.lr)
        if self.resume is not None:
            self.restore(self.resume)
        else:
            self.start_fresh()
        self.last_val = self.history[-1] if self.validates and self.history else None
        self.run = TrainingRun(cfg.out, total=cfg.total_steps, step=self.step, max_steps=cfg.max_steps,
                               max_minutes=cfg.max_minutes, progress=self.progress, label=self.label)
        if not self.run.finished(self.step):  # else nothing to train: e.g. a resume only to export
            self._loop(self.run)
        if cfg.export is not None:
            self.exported = self.export(self.checkpoint_path if self.saved or self.resume is None else self.resume,
                                        cfg.export)
        return self.result()

    def _loop(self, run: TrainingRun) -> None:
        cfg = self.cfg
        self.val_data = self.validation_data() if self.validates else None
        self.first_step = self.step
        stream = iter(self.batches())
        with run:
            self.model.train()
            # The first batch before the random state is restored: making a DataLoader's iterator
            # draws from torch's generator, and in the uninterrupted run that draw came before the
            # checkpointed state too.
            first = next(stream)
            self._restore_rng()
            for batch in chain([first], stream):
                self.train_step(batch)
                done = run.finished(self.step)
                validated = self.validates and (self.step % cfg.val_every == 0 or done)
                if validated:
                    self._validate(run)
                if validated or done or (cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0):
                    self.save()
                if done:
                    break

    def train_step(self, batch: Any) -> None:
        """One optimisation step on ``batch``, then the running loss, the progress bar and the log."""
        cfg, run = self.cfg, self.run
        lr = lr_at(self.step, cfg.lr, cfg.warmup_steps, cfg.total_steps, self.rewarm_from, cfg.schedule_start)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        batch = self.to_device(batch)
        with self.autocast():
            out = self.forward(batch)
        loss, parts = self.loss(batch, out)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.optimizer.step()
        self.after_step()
        self.step += 1
        self.samples_seen += self.batch_size_of(batch)
        keep = round(1 - self.smoothing, 12)
        for key, value in {**parts, "loss": float(loss.detach())}.items():
            previous = self.running.get(key)
            self.running[key] = value if previous is None else self.smoothing * previous + keep * value
        assert run is not None
        run.tick(self.step, f"loss {self.running['loss']:.3f}")
        if self.step % cfg.log_every == 0:
            row = {"step": self.step, "samples": self.samples_seen,
                   **{k: round(v, self.loss_digits) for k, v in self.running.items()},
                   "lr": self.optimizer.param_groups[0]["lr"], "minutes": round(run.minutes, 2), **self.log_fields()}
            run.log(row)
            self.logged(row)

    def _validate(self, run: TrainingRun) -> None:
        record = {"step": self.step, "samples": self.samples_seen, "minutes": self.minutes,
                  **self.validate(self.val_data)}
        self.history.append(record)
        self.last_val = record
        run.log({"step": self.step, "val": record})
        line = self.summary(record)
        if line:
            run.print(f"step {self.step}: {line}")

    @property
    def minutes(self) -> float:
        """Training minutes behind the current step, over every session of the run."""
        return round(self.minutes_before + (self.run.minutes if self.run is not None else 0.0), 2)

    def autocast(self) -> torch.autocast:
        """The context the forward pass runs in: bfloat16 autocast for ``precision: bf16``, else a no-op."""
        device_type = self.device.split(":")[0]
        enabled = self.cfg.precision == "bf16" and (self.bf16_on_cpu or device_type != "cpu")
        return torch.autocast(device_type, dtype=torch.bfloat16, enabled=enabled)

    def save(self) -> None:
        """Write the resume checkpoint (atomically: a run killed mid-save keeps the previous one)."""
        rng = {"rng": torch.get_rng_state()}
        if self.device.startswith("cuda"):
            rng["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        save_checkpoint(self.checkpoint_path, self.model, self.optimizer, step=self.step,
                        samples_seen=self.samples_seen, config=self.cfg.recipe(), history=self.history,
                        minutes=self.minutes, **rng, **self.checkpoint_extras())
        self.saved = True

    def _restore_rng(self) -> None:
        if "rng" in self._rng:
            torch.set_rng_state(self._rng["rng"])
        if "cuda_rng" in self._rng and self.device.startswith("cuda"):
            torch.cuda.set_rng_state(self._rng["cuda_rng"], self.device)

    def result(self) -> dict[str, Any]:
        """What ``train()`` returns: the step and data position reached, the last validation, the
        running loss, and the exported weights' meta when there were any."""
        out = {"step": self.step, "samples_seen": self.samples_seen, "val": self.last_val,
               "loss": self.running.get("loss")}
        if self.exported is not None:
            out["export"] = self.exported
        return out

    # ------------------------------------------------------------------- what a trainer says
    def prepare(self) -> None:
        """Process-wide settings a trainer needs before its model or any DataLoader worker exists."""

    @abstractmethod
    def build_model(self) -> torch.nn.Module:
        """The module to train (and checkpoint), freshly initialised."""

    def decays(self, name: str, param: torch.nn.Parameter) -> bool:
        """Whether AdamW's weight decay applies to ``param``: weight matrices and kernels yes; biases
        and normalisation gains (1-d) no — decaying them only pulls offsets and scales to zero."""
        return param.ndim >= 2

    def param_groups(self) -> list[dict[str, Any]]:
        """AdamW's parameter groups: those :meth:`decays` chooses with ``weight_decay``, the rest without."""
        named = list(self.model.named_parameters())
        return [{"params": [p for n, p in named if self.decays(n, p)], "weight_decay": self.cfg.weight_decay},
                {"params": [p for n, p in named if not self.decays(n, p)], "weight_decay": 0.0}]

    def start_fresh(self) -> None:
        """A new run (no resume): e.g. copy weights from another model (``init_from``)."""

    def restore(self, path: Path) -> dict[str, Any]:
        """Continue from a checkpoint or shipped weights (:func:`load_checkpoint`); return its payload."""
        payload = load_checkpoint(path, self.model, self.optimizer)
        self.step, self.samples_seen = int(payload["step"]), int(payload["samples_seen"])
        self.history = list(payload.get("history") or [])
        minutes = payload.get("minutes", (payload.get("meta") or {}).get("minutes"))
        self.minutes_before = float(minutes or 0.0)
        self.rewarm_from = self.step if payload.get("warm_start") else None
        self._rng = {k: payload[k] for k in ("rng", "cuda_rng") if torch.is_tensor(payload.get(k))}
        return payload

    @abstractmethod
    def batches(self) -> Iterable[Any]:
        """The endless training stream from the current data position (``samples_seen``, ``step``)."""

    def to_device(self, batch: Any) -> Any:
        """``batch`` with its tensors on the training device."""
        if torch.is_tensor(batch):
            return batch.to(self.device)
        if isinstance(batch, tuple):
            return tuple(self.to_device(b) for b in batch)
        if isinstance(batch, list):
            return [self.to_device(b) for b in batch]
        if isinstance(batch, dict):
            return {k: self.to_device(v) for k, v in batch.items()}
        return batch

    def batch_size_of(self, batch: Any) -> int:
        """Samples in ``batch`` (the data position advances by it)."""
        first = batch[0] if isinstance(batch, (tuple, list)) else batch
        return int(first.shape[0])

    @abstractmethod
    def forward(self, batch: Any) -> Any:
        """The model's pass over ``batch`` (under autocast: keep the loss out of it)."""

    def loss(self, batch: Any, out: Any) -> tuple[torch.Tensor, dict[str, float]]:
        """The loss to minimise and its parts (logged, smoothed like the loss); by default the
        forward pass returned the loss itself."""
        return out, {}

    def after_step(self) -> None:
        """After the optimiser's step, before the step count moves (e.g. an EMA teacher follows)."""

    def log_fields(self) -> dict[str, Any]:
        """More fields for this log line (called only when a line is written)."""
        return {}

    def logged(self, row: dict[str, Any]) -> None:
        """A log line was written."""

    def validation_data(self) -> Any:
        """The held-out samples, made once before the first step."""
        raise NotImplementedError(f"{type(self).__name__} validates but has no validation_data")

    def validate(self, data: Any) -> dict[str, Any]:
        """Figures on the held-out samples (the model is in eval mode only inside this call)."""
        raise NotImplementedError(f"{type(self).__name__} validates but has no validate")

    def summary(self, val: dict[str, Any]) -> str | None:
        """One line printed above the progress bar after a validation (None: nothing)."""
        return None

    def checkpoint_extras(self) -> dict[str, Any]:
        """What else the checkpoint holds (plain values: it loads with ``weights_only=True``)."""
        return {}

    @abstractmethod
    def export(self, checkpoint: Path, out: Path) -> dict[str, Any]:
        """Write the shippable weights from ``checkpoint`` to ``out``; return their meta."""
