"""The same batch on Ray Data: ``map_batches`` over tasks with an actor pool, one Engine an actor.

Actors, not tasks, because an engine loads its weights once and then reads page after page; a
GPU is requested per actor when the cluster has GPUs. Results stream back to the driver, which
writes them exactly as the process pool's are written (:mod:`.store`), so the two give the same
bytes. With no address, ``ray.init`` starts a local instance on this machine.
"""

from __future__ import annotations

from typing import Any, Callable

from ..errors import KocrConfigError
from .options import EngineSpec
from .plan import Task
from .worker import ChunkResult, PageReader

RAY_HINT = 'install the Ray extra: pip install "kocr-sdk[ray]"'


def require_ray():
    """The ray module, with Ray Data importable, or a KocrConfigError naming the extra to install."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise KocrConfigError(f"--ray needs Ray Data: {RAY_HINT}") from None
    return ray


class _RayReader:
    """The actor's callable: one PageReader, a batch of task rows in, result rows out."""

    def __init__(self, spec: EngineSpec, threads: int, keep_timings: bool) -> None:
        self.reader = PageReader(spec, threads, keep_timings)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        rows: dict[str, list] = {}
        for key, path, start, stop in zip(batch["key"], batch["path"], batch["start"], batch["stop"]):
            result = self.reader.read(Task(str(key), str(path), int(start), int(stop)))
            for name, value in result.to_row().items():
                rows.setdefault(name, []).append(value)
        return rows


def run_ray(tasks: list[Task], spec: EngineSpec, workers: int | None, threads: int, keep_timings: bool,
            on_result: Callable[[ChunkResult], None], should_stop: Callable[[], bool],
            address: str | None = None) -> dict[str, Any]:
    """Run ``tasks`` on Ray; returns what the cluster offered (CPUs, GPUs, actors used)."""
    ray = require_ray()
    started_here = not ray.is_initialized()
    if started_here:
        kwargs: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False}
        if address:
            kwargs["address"] = address
        else:
            kwargs.update(include_dashboard=False, num_cpus=None)
        ray.init(**kwargs)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.execution_options.preserve_order = False
        resources = ray.cluster_resources()
        cpus, gpus = float(resources.get("CPU", 1)), float(resources.get("GPU", 0))
        actors = workers or max(1, int(gpus) if gpus else int(cpus // threads))
        rows = [{"key": t.key, "path": t.path, "start": t.start, "stop": t.stop} for t in tasks]
        ds = ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), actors * 4)))
        ds = ds.map_batches(
            _RayReader, batch_size=1, compute=ray.data.ActorPoolStrategy(size=actors),
            fn_constructor_kwargs={"spec": spec, "threads": threads, "keep_timings": keep_timings},
            num_cpus=threads, num_gpus=1 if gpus else 0,
        )
        for row in ds.iter_rows():
            on_result(ChunkResult.from_row(row))
            if should_stop():
                break
        return {"cpus": cpus, "gpus": gpus, "actors": actors}
    finally:
        if started_here:
            ray.shutdown()
