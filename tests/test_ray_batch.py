"""The Ray backend on a local Ray instance writes the same bytes as the process pool.

Skipped when Ray is not installed (it is the ``[ray]`` extra, not a dev dependency: ~100 MB).
Marked slow: starting Ray takes 10-30 s on a loaded 2-core machine.
"""

from __future__ import annotations

import pytest

from kocr_sdk.batch import BatchOptions, run_batch

from . import batch_plugins
from .test_batch import images  # noqa: F401 (shared helper)

pytest.importorskip("ray.data")


@pytest.mark.slow
def test_ray_and_pool_give_byte_identical_outputs(tmp_path):
    inputs = [str(p) for p in images(tmp_path / "in", 3)]
    spec = batch_plugins.spec()
    pool = run_batch(inputs, BatchOptions(out=tmp_path / "pool", backend="pool", workers=2, threads=1), spec)
    ray = run_batch(inputs, BatchOptions(out=tmp_path / "ray", backend="ray", workers=1, threads=1), spec)
    assert (ray.done, ray.failed, ray.pages) == (pool.done, pool.failed, pool.pages) == (3, 0, 3)
    for p in inputs:
        name = p.rsplit("/", 1)[-1] + ".json"
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "pool" / name).read_bytes()
    again = run_batch(inputs, BatchOptions(out=tmp_path / "ray", backend="ray", workers=1, threads=1), spec)
    assert again.skipped == 3 and again.done == 0  # resumes by the same manifest
