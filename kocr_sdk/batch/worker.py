"""The part of a batch run that reads pages: one Engine a worker, one task (page range) a call.

Shared by the process pool and the Ray actors, so that both produce the same bytes: a task's
pages come back as JSON strings with their stage timings moved out (timings differ run to run;
the manifest keeps them), and the driver alone assembles and writes the outputs.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..errors import KocrError
from ..io import iter_pages
from .options import EngineSpec
from .plan import Task


@dataclass
class ChunkResult:
    """What reading one task gave: its pages (JSON), or the error that stopped it."""

    key: str
    start: int
    pages: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    worker: dict[str, Any] = field(default_factory=dict)

    def to_row(self) -> dict[str, Any]:
        """Arrow-friendly (strings only) for Ray Data."""
        return {"key": self.key, "start": self.start, "pages": json.dumps(self.pages, ensure_ascii=False),
                "metadata": json.dumps(self.metadata), "seconds": json.dumps(self.seconds),
                "error": self.error or "", "worker": json.dumps(self.worker)}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "ChunkResult":
        return cls(key=str(row["key"]), start=int(row["start"]), pages=json.loads(row["pages"]),
                   metadata=json.loads(row["metadata"]), seconds=json.loads(row["seconds"]),
                   error=str(row["error"]) or None, worker=json.loads(row["worker"]))


class PageReader:
    """Holds one Engine (weights load once per worker) and reads tasks with it."""

    def __init__(self, spec: EngineSpec, threads: int | None = None, keep_timings: bool = False) -> None:
        self.engine = spec.build(threads)
        self.keep_timings = keep_timings
        self.metadata = self.engine._metadata()
        self.peak_rss = 0

    def read(self, task: Task) -> ChunkResult:
        result = ChunkResult(key=task.key, start=task.start, metadata=self.metadata)
        seconds: dict[str, float] = defaultdict(float)
        start = time.perf_counter()
        try:
            cfg = self.engine.config
            pims = iter_pages(task.path, cfg.input.max_side, cfg.input.max_pixels, cfg.pdf.dpi, task.start, task.stop)
            for offset, pim in enumerate(pims):
                page = self.engine.read_page(pim, task.start + offset)
                del pim  # the pixels go before the next page is rendered
                for record in page.stages:
                    seconds[record.stage] += record.seconds
                if not self.keep_timings:
                    page = page.model_copy(update={"stages": [r.model_copy(update={"seconds": 0.0}) for r in page.stages]})
                result.pages.append(page.model_dump_json())
            if not result.pages:
                result.error = f"{task.path}: pages {task.start + 1}..{task.stop} hold no page"
        except KocrError as exc:
            result.error = str(exc)
        except Exception as exc:  # a bug in a plugin: record it, let the other inputs go on
            result.error = f"{task.path}: unexpected {type(exc).__name__}: {exc}"
        seconds["total"] = time.perf_counter() - start
        result.seconds = dict(seconds)
        result.worker = self._worker_stats()
        return result

    def _worker_stats(self) -> dict[str, Any]:
        """Resident memory now and at its peak, so a long run can show that it does not grow."""
        stats: dict[str, Any] = {"pid": os.getpid()}
        try:
            import resource

            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
            stats["peak_rss"] = peak
        except (ImportError, AttributeError):
            pass
        try:
            with open("/proc/self/statm") as fh:
                stats["rss"] = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            pass
        return stats


class WorkerStartError(KocrError):
    """A worker could not build its engine (bad config, missing weights): no input can be read."""


# --- process-pool plumbing: one PageReader per worker process -----------------------------------
_READER: PageReader | None = None
_START_ERROR: str | None = None


def init_worker(spec: EngineSpec, threads: int, keep_timings: bool, driver: int | None = None) -> None:
    """Pool initializer: die with the driver; build the engine once; leave Ctrl-C to the driver,
    which stops cleanly.

    A failure is kept and raised by the first task rather than here: an initializer that raises
    breaks the whole pool with no message, and the driver must say why.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(driver)
    global _READER, _START_ERROR
    try:
        _READER = PageReader(spec, threads, keep_timings)
    except Exception as exc:
        _START_ERROR = str(exc) if isinstance(exc, KocrError) else f"{type(exc).__name__}: {exc}"


def die_with_parent(driver: int | None = None, every: float = 0.5) -> None:
    """End this worker as soon as its parent ends, however it ends (``kill -9`` included).

    A pool worker blocks on its task queue and would otherwise live on, engine and all, after
    its driver is killed. On Linux the kernel sends it SIGKILL when its parent dies
    (``PR_SET_PDEATHSIG``); everywhere, a thread checks every ``every`` seconds that its parent
    is still the one it started with (an orphan is adopted by another process). ``driver``: the
    driver's pid, to catch a driver that died before this ran.
    """
    import signal
    import sys
    import threading

    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            PR_SET_PDEATHSIG = 1
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watchdog below still holds
            pass
    if os.getppid() != parent or (driver is not None and parent != driver and not _alive(driver)):
        os._exit(1)  # the parent (spawn: the driver; forkserver: its server) died before the above

    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="kocr-die-with-parent", daemon=True).start()


def _alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # os.kill(pid, 0) would send CTRL_C_EVENT there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def read_task(task: Task) -> ChunkResult:
    if _READER is None:
        raise WorkerStartError(f"a batch worker could not start its engine: {_START_ERROR}")
    return _READER.read(task)
