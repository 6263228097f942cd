"""Progress while reading: the Python API's callback, and the CLI's bar over the pages of long files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from kocr_sdk import Engine, KocrInputError
from kocr_sdk.cli import common
from kocr_sdk.cli.main import cli


def _tiff(path: Path, pages: int) -> Path:
    frames = [Image.new("RGB", (120, 80), (255, 255 - 10 * i, 255)) for i in range(pages)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    return path


def _png(path: Path) -> Path:
    Image.new("RGB", (120, 80), "white").save(path)
    return path


def test_read_reports_each_page_with_the_total_counted_first(fake_plugin, tmp_path):
    engine = Engine(plugins=[fake_plugin], load_entrypoints=False)
    calls = []
    doc = engine.read([_tiff(tmp_path / "long.tif", 3), _png(tmp_path / "one.png"), np.full((50, 60, 3), 255, np.uint8)],
                      progress=lambda done, total, page: calls.append((done, total, page.index)))
    assert calls == [(1, 5, 0), (2, 5, 1), (3, 5, 2), (4, 5, 3), (5, 5, 4)]
    assert len(doc.pages) == 5


def test_progress_total_is_none_when_pages_cannot_be_counted_and_a_raise_stops_the_read(fake_plugin, tmp_path):
    engine = Engine(plugins=[fake_plugin], load_entrypoints=False)
    data = _tiff(tmp_path / "long.tif", 3).read_bytes()
    calls = []
    engine.read(data, progress=lambda done, total, page: calls.append((done, total)))
    assert calls == [(1, None), (2, None), (3, None)]

    def stop(done, total, page):
        if done == 2:
            raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError, match="cancelled"):
        engine.read(tmp_path / "long.tif", progress=stop)


def test_a_file_that_fails_is_recorded_and_progress_goes_on(fake_plugin, tmp_path):
    engine = Engine(plugins=[fake_plugin], load_entrypoints=False)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    calls = []
    doc = engine.read([tmp_path / "broken.png", _png(tmp_path / "one.png")],
                      progress=lambda done, total, page: calls.append((done, total)))
    assert calls == [(1, 2)] and len(doc.failed_inputs) == 1
    with pytest.raises(KocrInputError):
        engine.read(tmp_path / "broken.png", progress=lambda *a: None)


def test_iter_pages_streams_each_page_of_a_long_file(fake_plugin, tmp_path):
    engine = Engine(plugins=[fake_plugin], load_entrypoints=False)
    pages = engine.iter_pages(_tiff(tmp_path / "long.tif", 3))
    first = next(pages)
    assert first.index == 0 and [p.index for p in pages] == [1, 2]


class _Bar:
    """Stands in for rich's Progress: records what the CLI draws."""

    made: list["_Bar"] = []

    def __init__(self, *columns, **kwargs):
        self.kwargs, self.total, self.completed = kwargs, None, []
        _Bar.made.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def add_task(self, description, total):
        self.total = total
        return 0

    def update(self, task, completed=None, description=None):
        if completed is not None:
            self.completed.append(completed)


@pytest.fixture
def bar(monkeypatch):
    import rich.progress

    _Bar.made = []
    monkeypatch.setattr(rich.progress, "Progress", _Bar)
    monkeypatch.setattr(common, "_interactive", lambda: True)
    return _Bar


def _cli_reads_with_fakes(monkeypatch, fake_plugin):
    real = Engine.__init__

    def with_fakes(self, config=None, **kw):
        real(self, config, plugins=[fake_plugin], load_entrypoints=False, **kw)

    monkeypatch.setattr(Engine, "__init__", with_fakes)


def test_cli_shows_a_bar_over_the_pages_of_one_long_file_on_stderr(fake_plugin, monkeypatch, tmp_path, bar):
    _cli_reads_with_fakes(monkeypatch, fake_plugin)
    result = CliRunner().invoke(cli, ["read", str(_tiff(tmp_path / "long.tif", 3)), "--format", "text"])
    assert result.exit_code == 0, result.output
    (made,) = bar.made
    assert made.total == 3 and made.completed == [1, 2, 3, 3]
    assert made.kwargs["console"].stderr and made.kwargs["transient"]


def test_cli_bar_counts_every_file_s_pages_and_moves_past_a_failed_file(fake_plugin, monkeypatch, tmp_path, bar):
    _cli_reads_with_fakes(monkeypatch, fake_plugin)
    (tmp_path / "broken.tif").write_bytes(b"II*\x00broken")
    paths = [_tiff(tmp_path / "a.tif", 2), tmp_path / "broken.tif", _png(tmp_path / "b.png")]
    result = CliRunner().invoke(cli, ["read", *map(str, paths), "--format", "text"])
    assert result.exit_code == 1 and "1 of 3 inputs could not be read" in result.stderr
    (made,) = bar.made
    assert made.total == 4 and made.completed[-1] == 4


def test_cli_draws_no_bar_with_quiet_or_for_a_single_page(fake_plugin, monkeypatch, tmp_path, bar):
    _cli_reads_with_fakes(monkeypatch, fake_plugin)
    tiff = str(_tiff(tmp_path / "long.tif", 3))
    assert CliRunner().invoke(cli, ["read", tiff, "-q", "--format", "text"]).exit_code == 0
    assert CliRunner().invoke(cli, ["read", str(_png(tmp_path / "one.png")), "--format", "text"]).exit_code == 0
    assert bar.made == []
    monkeypatch.setattr(common, "_interactive", lambda: False)  # stderr redirected to a file
    assert CliRunner().invoke(cli, ["read", tiff, "--format", "text"]).exit_code == 0
    assert bar.made == []
