"""Batch runs: one atomic output per input, resume by content hash, failures logged, dead
workers survived, Ctrl-C stops cleanly and the same command resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from kocr_sdk.batch import BatchOptions, run_batch
from kocr_sdk.batch.options import size_workers
from kocr_sdk.batch.plan import output_keys, read_jsonl

from . import batch_plugins
from .pdfs import make_pdf

ROOT = Path(__file__).resolve().parents[1]


def images(folder: Path, n: int, size=(200, 100)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"page{i:02d}.png"
        Image.new("RGB", size, (255, 255, 255 - i)).save(p)  # distinct bytes, distinct hashes
        paths.append(p)
    return paths


def run(inputs, out, detector="fixed", backend="serial", **kw):
    return run_batch([str(p) for p in inputs], BatchOptions(out=out, backend=backend, **kw), batch_plugins.spec(detector))


def test_outputs_manifest_and_resume(tmp_path):
    inputs = images(tmp_path / "in", 3)
    out = tmp_path / "out"
    summary = run(inputs, out, formats=["json", "hocr"])
    assert (summary.done, summary.skipped, summary.failed, summary.pages) == (3, 0, 0, 3)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["_done.jsonl"] + sorted(f"page{i:02d}.png.{s}" for i in range(3) for s in ("hocr", "json"))
    doc = json.loads((out / "page00.png.json").read_text())
    assert doc["metadata"]["input"]["sha256"] and len(doc["pages"]) == 1
    assert [w["text"] for w in doc["pages"][0]["words"]] == ["가나"] * 3
    assert all(r["seconds"] == 0.0 for r in doc["pages"][0]["stages"])  # timings go to the manifest
    assert read_jsonl(out / "_done.jsonl")[0]["seconds"]["total"] > 0
    before = (out / "page01.png.json").stat().st_mtime_ns

    again = run(inputs, out)
    assert (again.done, again.skipped, again.pages) == (0, 3, 0)
    Image.new("RGB", (210, 100), "white").save(inputs[1])  # changed content: redone
    (out / "page02.png.json").unlink()  # a lost output: redone
    third = run(inputs, out)
    assert (third.done, third.skipped) == (2, 1)
    assert (out / "page01.png.json").stat().st_mtime_ns != before
    assert json.loads((out / "page01.png.json").read_text())["pages"][0]["width"] == 210


def test_a_failed_input_is_logged_and_the_rest_go_on(tmp_path):
    inputs = images(tmp_path / "in", 2)
    bad = tmp_path / "in" / "broken.png"
    bad.write_bytes(b"not a png at all")
    corrupt = tmp_path / "in" / "corrupt.pdf"
    corrupt.write_bytes(b"%PDF-1.4 garbage")
    summary = run([tmp_path / "in"], tmp_path / "out")
    assert (summary.done, summary.failed) == (2, 2)
    failures = {r["key"]: r["error"] for r in read_jsonl(tmp_path / "out" / "_failures.jsonl")}
    assert "not an image file" in failures["broken.png"] and "not a PDF" in failures["corrupt.pdf"]
    assert not (tmp_path / "out" / "broken.png.json").exists()
    assert run([tmp_path / "in"], tmp_path / "out").failed == 2  # failures are retried, not skipped


def test_long_pdf_is_split_in_chunks_and_reassembled_in_order(tmp_path):
    pytest.importorskip("pypdfium2")
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(make_pdf([f"page {i}" if i % 2 else None for i in range(7)], size=(100, 140)))
    summary = run([pdf], tmp_path / "out", chunk_pages=2)
    doc = json.loads((tmp_path / "out" / "long.pdf.json").read_text())
    assert summary.pages == 7
    assert [p["index"] for p in doc["pages"]] == list(range(7))
    assert [p["pdf_text_layer"] for p in doc["pages"]] == [bool(i % 2) for i in range(7)]
    assert doc["pages"][3]["source"].endswith("#page=4")


def test_output_names_stay_unique():
    keys = output_keys([Path("a/x.png"), Path("b/x.png"), Path("a/x.pdf")])
    assert keys[2] == "x.pdf" and keys[0] != keys[1] and all(k.startswith("x.png-") for k in keys[:2])


def test_workers_times_threads_fill_the_cores(monkeypatch):
    monkeypatch.setattr("kocr_sdk.batch.options.machine_cores", lambda: 8)
    assert size_workers(100, None, None) [0] * size_workers(100, None, None)[1] <= 8
    assert size_workers(100, 2, None) == (2, 4)
    assert size_workers(1, None, None) == (1, 8)  # one task: one worker with every core
    assert size_workers(100, None, None, device="cuda") == (1, 8)


def test_pool_survives_a_worker_that_dies(tmp_path, monkeypatch):
    """A worker killed mid-run: its task is retried in a fresh pool; no page lost, none twice."""
    marker = tmp_path / "die-once"
    marker.write_text("")
    monkeypatch.setenv("KOCR_TEST_DIE_ONCE", str(marker))
    inputs = images(tmp_path / "in", 4)
    summary = run(inputs, tmp_path / "out", backend="pool", workers=2, detector="dying")
    assert not marker.exists(), "no worker died: the test proved nothing"
    assert (summary.done, summary.failed, summary.pages) == (4, 0, 4)
    manifest = read_jsonl(tmp_path / "out" / "_done.jsonl")
    assert sorted(r["key"] for r in manifest) == [p.name for p in inputs]  # each once
    for p in inputs:
        assert len(json.loads((tmp_path / "out" / f"{p.name}.json").read_text())["pages"]) == 1


SCRIPT = """
import sys
from kocr_sdk.batch import BatchOptions, run_batch
from tests import batch_plugins
s = run_batch(sys.argv[2:], BatchOptions(out=sys.argv[1], backend="serial"), batch_plugins.spec("slow"))
print(s.done, s.skipped, s.interrupted, flush=True)
sys.exit(130 if s.interrupted else 0)
"""


def test_sigint_stops_cleanly_and_a_rerun_resumes(tmp_path):
    inputs = images(tmp_path / "in", 8)
    out = tmp_path / "out"
    env = {**os.environ, "KOCR_LOAD_PLUGINS": "", "KOCR_TEST_SLOW": "0.4", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", SCRIPT, str(out)] + [str(p) for p in inputs]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (out / "_done.jsonl").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    done, _, interrupted = stdout.split()
    assert interrupted == "True" and 1 <= int(done) < 8
    assert "Traceback" not in stderr
    assert not list(out.glob(".*.tmp"))
    env["KOCR_TEST_SLOW"] = "0"
    rerun = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    done2, skipped2, _ = rerun.stdout.split()
    assert int(done2) + int(skipped2) == 8 and int(skipped2) == int(done)
    assert sorted(r["key"] for r in read_jsonl(out / "_done.jsonl")) == [p.name for p in inputs]


def test_cli_batch(tmp_path):
    from click.testing import CliRunner

    from kocr_sdk.cli.main import cli

    inputs = images(tmp_path / "in", 2)
    (tmp_path / "in" / "bad.png").write_text("nope")
    result = CliRunner().invoke(cli, ["batch", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--workers", "1",
                                      "--format", "json", "--format", "hocr", "-q"])
    assert result.exit_code == 1, result.output
    assert "2 inputs written, 0 already done, 1 failed" in result.output
    assert (tmp_path / "out" / "page00.png.hocr").exists() and (tmp_path / "out" / "_failures.jsonl").exists()
    result = CliRunner().invoke(cli, ["batch", str(inputs[0]), "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0 and "1 already done" in result.output
    result = CliRunner().invoke(cli, ["batch", str(tmp_path / "nothing*.png"), "--out", str(tmp_path / "o2")])
    assert result.exit_code == 1 and "no file matches" in result.output


def test_outputs_to_an_fsspec_url_resume_like_a_folder(tmp_path):
    """memory:// stands for any fsspec file system (s3://, gs://): same layout, same resume."""
    fsspec = pytest.importorskip("fsspec")
    from kocr_sdk.batch.plan import parse_jsonl

    fs = fsspec.filesystem("memory")
    url = f"memory://kocr-test-{tmp_path.name}/out"
    inputs = images(tmp_path / "in", 3)
    (tmp_path / "in" / "bad.png").write_text("nope")
    summary = run([tmp_path / "in"], url, formats=["json", "hocr"])
    assert (summary.done, summary.failed, summary.out) == (3, 1, url)
    root = url.split("://", 1)[1]
    names = sorted(p.rsplit("/", 1)[1] for p in fs.ls(root, detail=False))
    assert names == ["_done.jsonl", "_failures.jsonl"] + sorted(f"page{i:02d}.png.{s}" for i in range(3)
                                                                for s in ("hocr", "json"))
    assert not fs.glob(f"{root}/.*.tmp")
    doc = json.loads(fs.cat_file(f"{root}/page01.png.json"))
    assert [w["text"] for w in doc["pages"][0]["words"]] == ["가나"] * 3
    assert len(parse_jsonl(fs.cat_file(f"{root}/_done.jsonl").decode())) == 3

    again = run(inputs, url)
    assert (again.done, again.skipped) == (0, 3)
    fs.rm_file(f"{root}/page02.png.json")  # a lost output is redone, and the manifest keeps every line
    third = run(inputs, url)
    assert (third.done, third.skipped) == (1, 2)
    assert len(parse_jsonl(fs.cat_file(f"{root}/_done.jsonl").decode())) == 4
    fs.rm(root, recursive=True)


def test_a_remote_log_lost_before_its_flush_only_costs_a_rerun(tmp_path):
    """Lines appended but not yet flushed (a kill between two flushes) are gone; the outputs they
    stood for are whole, and the next run reads those inputs again and writes the same bytes."""
    pytest.importorskip("fsspec")
    from kocr_sdk.batch.destination import RemoteDestination
    from kocr_sdk.batch.plan import parse_jsonl

    url = f"memory://kocr-test-{tmp_path.name}/out"
    dest = RemoteDestination(url, flush_seconds=3600)
    dest.append_record("_done.jsonl", {"key": "a"})
    dest.write_text("a.json", "{}\n")
    assert dest.exists("a.json") and not dest.exists("_done.jsonl")  # killed here: output whole, line lost
    assert RemoteDestination(url).read_text("_done.jsonl") is None
    dest.flush()
    dest.append_record("_done.jsonl", {"key": "b"})
    dest.flush()
    assert [r["key"] for r in parse_jsonl(RemoteDestination(url).read_text("_done.jsonl"))] == ["a", "b"]
    dest.fs.rm(dest.root, recursive=True)


def test_a_file_url_is_a_local_folder(tmp_path):
    summary = run(images(tmp_path / "in", 1), f"file://{tmp_path}/out")
    assert summary.done == 1 and (tmp_path / "out" / "page00.png.json").exists()
    assert (tmp_path / "out" / "_done.jsonl").exists()


def test_bad_destinations_are_clear_errors(tmp_path):
    from click.testing import CliRunner

    from kocr_sdk.cli.main import cli

    inputs = images(tmp_path / "in", 1)
    (tmp_path / "afile").write_text("x")
    result = CliRunner().invoke(cli, ["batch", str(inputs[0]), "--out", str(tmp_path / "afile"), "-q"])
    assert result.exit_code != 0 and "exists and is not a folder" in result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    result = CliRunner().invoke(cli, ["batch", str(inputs[0]), "--out", "nosuchprotocol-xyz://b/out", "-q"])
    assert result.exit_code != 0 and "cannot write to nosuchprotocol-xyz://b/out" in result.output
    assert isinstance(result.exception, SystemExit)
