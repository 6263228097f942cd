"""What a batch run is asked to do (:class:`BatchOptions`) and how its workers build an engine."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..config import EngineConfig

OutputFormat = Literal["json", "hocr"]
Backend = Literal["auto", "serial", "pool", "ray"]


class BatchOptions(BaseModel):
    """Options of one batch run; every field has a default but ``out``."""

    model_config = ConfigDict(extra="forbid")

    out: Path | str = Field(description="Folder of the outputs, the manifest (_done.jsonl) and _failures.jsonl: "
                            "a local path, or an fsspec URL such as s3://bucket/prefix.")
    formats: list[OutputFormat] = Field(default_factory=lambda: ["json"], min_length=1)
    backend: Backend = Field("auto", description="auto: a process pool, or in-process with one worker.")
    workers: int | None = Field(None, ge=1, description="Worker processes (Ray: actors); None sizes to the machine.")
    threads: int | None = Field(None, ge=1, description="torch threads per worker; None: cores // workers.")
    chunk_pages: int = Field(4, ge=1, description="Pages per task: a long PDF is spread over the workers this many at a time.")
    redo: bool = Field(False, description="Read every input again, even those the manifest says are done.")
    retries: int = Field(1, ge=0, description="Times a task is retried after its worker process died reading it "
                         "alone (tasks in flight with it when a worker dies are retried one at a time first).")
    keep_timings: bool = Field(
        False, description="Keep per-stage seconds in the outputs (then two runs never give identical bytes); "
        "timings always go to the manifest.",
    )
    ray_address: str | None = Field(None, description="Ray cluster address (e.g. ray://head:10001, auto); None starts a local one.")
    recursive: bool = Field(False, description="Search directories recursively.")
    wait: bool = Field(False, description="When another run holds the output folder, wait for it to end "
                       "instead of refusing.")
    start_method: Literal["spawn", "forkserver", "fork"] = Field(
        "spawn", description="How pool workers start; spawn is the safe default with torch's thread pools.",
    )


@dataclass
class EngineSpec:
    """How each worker builds its own Engine: picklable, so it can cross to a process or a Ray actor."""

    config: EngineConfig = field(default_factory=EngineConfig)
    plugins: tuple[Any, ...] = ()
    load_entrypoints: bool = True

    def build(self, threads: int | None = None):
        from ..engine import Engine

        config = self.config.updated(threads=threads) if threads else self.config
        return Engine(config, plugins=self.plugins, load_entrypoints=self.load_entrypoints)


def machine_cores() -> int:
    """CPU cores this process may use (its affinity mask, which containers and taskset narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def size_workers(n_tasks: int, workers: int | None, threads: int | None, device: str = "cpu",
                 per_worker_bytes: int = 1_500_000_000) -> tuple[int, int]:
    """(workers, torch threads each) so that workers × threads = cores.

    One worker per core by default (processes scale better than intra-op threads on small
    models), but no more than there are tasks, nor than memory holds at ~1.5 GB a worker; one
    worker on a GPU, which a second process would only contend for.
    """
    cores = machine_cores()
    if workers is None:
        workers = 1 if device == "cuda" else cores
        try:
            import psutil

            workers = min(workers, max(1, psutil.virtual_memory().available // per_worker_bytes))
        except ImportError:
            pass
        workers = max(1, min(workers, n_tasks))
    if threads is None:
        threads = max(1, cores // workers)
    return workers, threads
