"""One Engine shared by many threads reads exactly what it reads alone (the promise a web service relies on)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kocr_sdk import Engine

SAMPLE = Path(__file__).resolve().parent.parent / "kocr_sdk" / "data" / "sample_ko.png"
THREADS, ROUNDS = 4, 3


def _canonical(doc) -> str:
    """The Document as JSON without the wall-clock seconds each stage took (they differ run to run)."""
    data = doc.model_dump(mode="json")
    for page in data["pages"]:
        for record in page["stages"]:
            record["seconds"] = 0.0
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _concurrent(engine: Engine, inputs: list) -> list[list[str]]:
    """Each of ROUNDS rounds reads every input once, THREADS at a time, all through ``engine``."""
    rounds = []
    with ThreadPoolExecutor(THREADS) as pool:
        for _ in range(ROUNDS):
            rounds.append(list(pool.map(lambda item: _canonical(engine.read(item)), inputs)))
    return rounds


def _pages(tmp_path: Path) -> list[Path]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(THREADS * 2):
        arr = np.full((60 + 10 * i, 120 + 20 * i, 3), 255, np.uint8)
        arr[10:30, 10 : 40 + 10 * i] = rng.integers(0, 120, (20, 30 + 10 * i, 3))
        path = tmp_path / f"p{i}.png"
        Image.fromarray(arr).save(path)
        out.append(path)
    return out


def test_shared_engine_reads_concurrently_as_it_reads_alone(fake_plugin, tmp_path):
    limit = Image.MAX_IMAGE_PIXELS
    inputs = _pages(tmp_path)
    engine = Engine(plugins=[fake_plugin], load_entrypoints=False)
    alone = [_canonical(Engine(plugins=[fake_plugin], load_entrypoints=False).read(p)) for p in inputs]
    for result in _concurrent(engine, inputs):
        assert result == alone
    assert Image.MAX_IMAGE_PIXELS == limit


@pytest.mark.shipped_models
@pytest.mark.slow
def test_shared_engine_with_the_shipped_models_is_byte_identical_across_threads():
    limit = Image.MAX_IMAGE_PIXELS
    image = Image.open(SAMPLE).convert("RGB")
    w, h = image.size
    halves = [np.asarray(image.crop((0, 0, w, h // 2))), np.asarray(image.crop((0, h // 2, w, h)))]
    inputs = halves * 2  # four inputs, one per thread
    alone = [_canonical(Engine(load_entrypoints=False, threads=1).read(x)) for x in halves] * 2
    engine = Engine(load_entrypoints=False, threads=1)
    for result in _concurrent(engine, inputs):
        assert result == alone
    assert Image.MAX_IMAGE_PIXELS == limit
