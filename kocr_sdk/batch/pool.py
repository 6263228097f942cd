"""Running tasks on a local process pool (or in this process), surviving dead workers.

A worker that dies (killed, out of memory, a segfault in a decoder) breaks a
``ProcessPoolExecutor``: every task in flight fails with ``BrokenProcessPool``, and nothing says
which of them killed it. Those tasks are not lost: each becomes a *suspect* and is read again
in a fresh pool, alone (nothing else in flight), so that a death names its task. Only a task
whose worker died while it was alone is blamed, and once it has killed workers more than
``retries`` times it is recorded as failed: one poisonous file cannot stop the night's run, nor
take the innocent pages that were in flight with it. Results reach the driver only through
``on_result``; nothing a dead worker half-did is kept.

Workers never outlive the driver (:func:`~kocr_sdk.batch.worker.init_worker`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Callable

from .options import EngineSpec
from .plan import Task
from .worker import ChunkResult, PageReader, WorkerStartError, init_worker, read_task

OnResult = Callable[[ChunkResult], None]
ShouldStop = Callable[[], bool]


def run_serial(tasks: list[Task], spec: EngineSpec, threads: int | None, keep_timings: bool,
               on_result: OnResult, should_stop: ShouldStop) -> None:
    """Every task in this process, one after another: one worker, no start-up cost."""
    reader = PageReader(spec, threads, keep_timings)
    for task in tasks:
        if should_stop():
            return
        on_result(reader.read(task))


def run_pool(tasks: list[Task], spec: EngineSpec, workers: int, threads: int, keep_timings: bool,
             on_result: OnResult, should_stop: ShouldStop, retries: int = 1, start_method: str = "spawn") -> None:
    """Every task on ``workers`` processes; see the module's docstring for what a dead worker costs."""
    ctx = multiprocessing.get_context(start_method)
    pending: deque[Task] = deque(tasks)
    suspects: deque[Task] = deque()  # in flight when a worker died: each is read again alone
    deaths: Counter[Task] = Counter()
    driver = os.getpid()
    while (pending or suspects) and not should_stop():
        lost: list[Task] = []
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=init_worker,
                                 initargs=(spec, threads, keep_timings, driver)) as pool:
            in_flight: dict[Future, Task] = {}
            try:
                while pending or suspects or in_flight:
                    if suspects:  # alone: wait for the pool to empty, then one suspect
                        if not in_flight and not should_stop():
                            task = suspects.popleft()
                            in_flight[pool.submit(read_task, task)] = task
                    else:  # two tasks a worker queued: none waits idle, and a stop leaves little to finish
                        while pending and len(in_flight) < 2 * workers and not should_stop():
                            task = pending.popleft()
                            in_flight[pool.submit(read_task, task)] = task
                    if not in_flight:
                        break
                    done, _ = wait(in_flight, timeout=0.25, return_when=FIRST_COMPLETED)
                    for fut in done:
                        task = in_flight.pop(fut)
                        try:
                            on_result(fut.result())
                        except BrokenProcessPool:
                            lost.append(task)
                    if lost:  # the pool is gone: everything still in flight is lost with it
                        lost.extend(in_flight.values())
                        break
            except KeyboardInterrupt:  # a second Ctrl-C: abandon the tasks in flight now
                for proc in list(getattr(pool, "_processes", {}).values()):
                    proc.terminate()
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            except WorkerStartError:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        for task in lost:
            deaths[task] += 1
        if len(lost) == 1 and deaths[lost[0]] > retries:  # it was alone: it killed its worker
            task = lost[0]
            on_result(ChunkResult(key=task.key, start=task.start,
                                  error=f"{task.path}: a worker process died reading pages "
                                        f"{task.start + 1}..{task.stop} ({deaths[task]} times, the last "
                                        "with nothing else in flight)"))
        elif len(lost) == 1:
            suspects.appendleft(lost[0])
        else:
            suspects.extend(lost)
