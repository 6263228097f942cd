"""What every kocr trainer does around its optimisation steps, written once.

Each trainer (recogniser, detector, script identifier, NER, SeqCLR) owns its model, data and
loss; this module owns the rest, which must behave the same everywhere so that runs can be
stopped, resumed and compared across sessions:

- the **stop rule**: ``max_steps`` (a global step count, so a resumed run stops at the same
  place) or ``max_minutes`` of wall clock in this process (so a run fits the time it has);
- the **log**: one JSON object a line in ``<out>/log.jsonl``, appended across resumes and
  flushed at every line, so a killed run loses nothing it logged;
- the **progress bar** (rich), off with ``progress=False`` (``-q`` on the CLI);
- **Ctrl-C and SIGTERM**: the first one makes ``finished`` true, so the trainer validates,
  writes its checkpoint and returns as at any other stop (a preempted or interrupted run resumes
  with nothing lost); a second Ctrl-C interrupts at once. DataLoader workers made by
  :func:`stream_loader` ignore Ctrl-C and SIGTERM, which a terminal, ``pkill -f``, ``timeout``
  or a batch scheduler send to the whole process group, so that they keep serving batches until
  the trainer has finished its checkpoint. They still end with the trainer: the DataLoader shuts
  them down, and a worker whose parent has died exits on its own (torch watches the parent).

>>> with TrainingRun(Path("runs/x"), total=1000, step=0, max_steps=10) as run:  # doctest: +SKIP
...     while not run.finished(step):
...         step += 1
...         run.tick(step, f"loss {loss:.3f}")
...         run.log({"step": step, "loss": loss})
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Literal

import torch
from torch.utils.data import DataLoader, Dataset

Precision = Literal["fp32", "bf16"]
"""A trainer's ``precision`` option: the dtype its forward pass runs in (weights stay fp32)."""


def autocast(device: str, precision: Precision) -> torch.autocast:
    """The context a trainer's forward pass runs in: bfloat16 autocast on ``device``'s type for
    ``bf16``, a disabled (no-op) autocast for ``fp32``."""
    return torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=precision == "bf16")


def _ignore_stop_signals(_worker_id: int) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def stream_loader(dataset: Dataset, workers: int, prefetch: int = 4) -> DataLoader:
    """A DataLoader over a dataset that yields whole batches, its workers kept alive across the
    stream and deaf to Ctrl-C and SIGTERM (the trainer stops them after its last checkpoint)."""
    return DataLoader(dataset, batch_size=None, num_workers=workers, persistent_workers=workers > 0,
                      prefetch_factor=prefetch if workers > 0 else None,
                      worker_init_fn=_ignore_stop_signals if workers > 0 else None)


class TrainingRun:
    """The stop rule, the JSONL log and the progress bar of one training process."""

    def __init__(self, out: Path, *, total: int, step: int = 0, max_steps: int | None = None,
                 max_minutes: float | None = None, progress: bool = True, label: str = "step") -> None:
        self.out, self.total, self.first_step = Path(out), total, step
        self.max_steps, self.max_minutes = max_steps, max_minutes
        self.progress, self.label = progress, label
        self.start = time.time()
        self._log = None
        self._bar = self._task = None
        self.interrupted: str | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "TrainingRun":
        self.out.mkdir(parents=True, exist_ok=True)
        if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread only
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._on_signal)
        self._log = (self.out / "log.jsonl").open("a", encoding="utf-8")
        self.start = time.time()
        if self.progress:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn(f"{self.label} {{task.completed}}"), BarColumn(),
                                 TextColumn("{task.fields[info]}"), TimeElapsedColumn())
            self._task = self._bar.add_task("train", total=self.max_steps or self.total, completed=self.first_step, info="")
            self._bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        if self._bar is not None:
            self._bar.stop()
        if self._log is not None:
            self._log.close()

    @property
    def minutes(self) -> float:
        """Wall-clock minutes since this process started training."""
        return (time.time() - self.start) / 60

    def finished(self, step: int) -> bool:
        """Whether the run should stop now, at global step ``step``."""
        return self.interrupted is not None or (self.max_steps is not None and step >= self.max_steps) or (
            self.max_minutes is not None and self.minutes > self.max_minutes)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if self.interrupted is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # the second Ctrl-C: stop now, without the checkpoint
        self.interrupted = name
        print(f"kocr: {name}: stopping after this step with a checkpoint (Ctrl-C again to stop at once)",
              file=sys.stderr, flush=True)

    def tick(self, step: int, info: str = "") -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=step, info=info)

    def log(self, row: dict[str, Any]) -> None:
        """Append one JSON line to ``log.jsonl`` (non-ASCII kept readable) and flush it."""
        assert self._log is not None, "TrainingRun.log outside its with-block"
        self._log.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._log.flush()

    def print(self, message: str) -> None:
        """A line above the progress bar (nothing when quiet)."""
        if self._bar is not None:
            self._bar.console.print(message)
