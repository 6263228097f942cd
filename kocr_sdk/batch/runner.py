"""``run_batch``: plan, run on the chosen backend, write as results come, summarise.

Ctrl-C (SIGINT) stops cleanly: no new task starts, tasks in flight finish and are written, and
the run returns a summary with ``interrupted`` set; a second Ctrl-C abandons the tasks in flight
(their inputs are simply redone next time). Re-running the same command resumes.

One run at a time on an output folder (:mod:`.lock`): a second refuses, naming the first, or
waits for it (``wait``).
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

from pydantic import BaseModel

from .destination import Destination, open_destination
from .lock import hold_output
from .options import BatchOptions, EngineSpec, size_workers
from .plan import BatchItem, make_tasks, plan_batch
from .store import OutputStore
from .worker import ChunkResult


class BatchSummary(BaseModel):
    """What a batch run did."""

    out: Path | str  # the folder, or the fsspec URL, as given
    inputs: int
    skipped: int
    done: int
    failed: int
    pages: int
    seconds: float
    backend: str
    workers: int
    threads: int
    interrupted: bool = False
    failures: list[dict[str, str]] = []

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0


class Reporter:
    """Hooks a caller (the CLI's progress bar, a benchmark) gets while the run goes."""

    def start(self, total_pages: int, skipped_pages: int) -> None: ...
    def advance(self, pages: int) -> None: ...
    def input_done(self, item: BatchItem, error: str | None) -> None: ...
    def chunk(self, result: ChunkResult) -> None: ...
    def note(self, message: str) -> None: ...


def run_batch(inputs: Iterable[str | Path], options: BatchOptions | dict[str, Any] | None = None,
              engine: EngineSpec | None = None, reporter: Reporter | None = None, **kw: Any) -> BatchSummary:
    """Read every page of ``inputs`` (files, directories, globs) into ``options.out``.

    ``engine`` says how each worker builds its Engine (config, extra plugin objects); keyword
    arguments override fields of ``options``.
    """
    if options is None:
        options = BatchOptions(**kw)
    elif isinstance(options, dict):
        options = BatchOptions(**{**options, **kw})
    elif kw:
        options = options.model_copy(update=kw)
    engine = engine or EngineSpec()
    reporter = reporter or Reporter()
    out = open_destination(options.out)
    with hold_output(out, options.wait, reporter.note):  # before planning: the plan reads the logs
        return _run_held(inputs, options, engine, reporter, out)


def _run_held(inputs: Iterable[str | Path], options: BatchOptions, engine: EngineSpec, reporter: Reporter,
              out: Destination) -> BatchSummary:
    """The run proper, with the output folder held."""
    plan = plan_batch(inputs, out, options.formats, options.redo, options.recursive)
    items = plan.todo + [BatchItem(p, k, "", 0) for p, k, _ in plan.unreadable]
    store = OutputStore(out, list(options.formats), items, reporter.input_done)
    for _path, key, error in plan.unreadable:
        store.fail(store.items[key], error)
    tasks = make_tasks(plan.todo, options.chunk_pages)
    total_pages = sum(max(1, i.pages) for i in plan.todo)
    device = _device(engine)
    workers, threads = size_workers(len(tasks), options.workers, options.threads, device)
    backend = options.backend
    if backend == "auto":
        backend = "serial" if workers == 1 else "pool"
    reporter.start(total_pages, sum(i.pages for i in plan.skipped))

    pages_done = 0

    def on_result(result: ChunkResult) -> None:
        nonlocal pages_done
        reporter.chunk(result)
        store.add(result)
        pages_done += len(result.pages)
        reporter.advance(len(result.pages) if result.pages else _task_pages(result, tasks))

    start = time.perf_counter()
    stop = threading.Event()
    interrupted = False
    try:
        with _sigint_stops(stop, reporter):
            if not tasks:
                pass
            elif backend == "serial":
                from .pool import run_serial

                run_serial(tasks, engine, threads, options.keep_timings, on_result, stop.is_set)
            elif backend == "pool":
                from .pool import run_pool

                run_pool(tasks, engine, workers, threads, options.keep_timings, on_result, stop.is_set,
                         options.retries, options.start_method)
            else:
                from .ray_backend import run_ray

                info = run_ray(tasks, engine, options.workers, threads, options.keep_timings, on_result, stop.is_set,
                               options.ray_address)
                workers = info["actors"]
    except KeyboardInterrupt:
        interrupted = True
    finally:
        try:
            store.prune_failures()
        finally:
            out.flush()  # a remote destination's logs (a local one's are synced line by line)
    interrupted = interrupted or stop.is_set()
    seconds = time.perf_counter() - start
    return BatchSummary(
        out=out.location, inputs=len(plan.todo) + len(plan.skipped) + len(plan.unreadable), skipped=len(plan.skipped),
        done=len(store.written), failed=len(store.failed), pages=pages_done, seconds=seconds, backend=backend,
        workers=workers, threads=threads, interrupted=interrupted,
        failures=[{"key": k, "error": e} for k, e in store.failed.items()],
    )


def _task_pages(result: ChunkResult, tasks: list) -> int:
    """Pages a failed task stood for, so the progress bar still reaches its end."""
    for t in tasks:
        if t.key == result.key and t.start == result.start:
            return t.stop - t.start
    return 0


def _device(engine: EngineSpec) -> str:
    from ..config import resolve_device

    try:
        return resolve_device(engine.config.compute.device)
    except Exception:
        return "cpu"


@contextmanager
def _sigint_stops(stop: threading.Event, reporter: Reporter) -> Iterator[None]:
    """First Ctrl-C: set ``stop`` (finish what is in flight). Second: KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        reporter.note("interrupted: finishing the pages in flight (Ctrl-C again to abandon them); "
                      "run the same command again to resume")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
