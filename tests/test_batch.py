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
from kocr_sdk.batch.runner import Reporter

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
    images(tmp_path / "in", 2)
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
    """Same name, other folder: each keeps the folders that tell it apart (case aside, which some
    file systems ignore); a unique name stays a plain file name."""
    keys = output_keys([Path("a/x.png"), Path("b/x.png"), Path("a/x.pdf"), Path("a/s/Y.png"), Path("b/y.png")])
    assert keys == ["a/x.png", "b/x.png", "x.pdf", "a/s/Y.png", "b/y.png"]
    assert output_keys([Path("a/x.png"), Path("a/s/x.png")]) == ["x.png", "s/x.png"]


def test_inputs_with_the_same_name_get_their_own_outputs(tmp_path):
    """Two ``x.png`` in one run: two outputs, mirroring their folders; in two runs into one folder:
    the second is refused (a failure naming both) rather than overwriting the first's output."""
    for folder, width in (("a", 200), ("b", 210)):
        (tmp_path / folder).mkdir()
        Image.new("RGB", (width, 100), "white").save(tmp_path / folder / "x.png")
    a, b = tmp_path / "a" / "x.png", tmp_path / "b" / "x.png"
    out = tmp_path / "out"
    summary = run([a, b, a], out)  # the same file twice is read once
    assert (summary.inputs, summary.done, summary.failed) == (2, 2, 0)
    for folder, width in (("a", 200), ("b", 210)):
        assert json.loads((out / folder / "x.png.json").read_text())["pages"][0]["width"] == width
    assert sorted(r["key"] for r in read_jsonl(out / "_done.jsonl")) == ["a/x.png", "b/x.png"]
    assert run([a, b], out).skipped == 2

    out2 = tmp_path / "out2"
    assert run([a], out2).done == 1
    second = run([b], out2)
    assert (second.done, second.failed) == (0, 1)
    error = second.failures[0]["error"]
    assert str(a) in error and str(b) in error and "not overwritten" in error
    assert json.loads((out2 / "x.png.json").read_text())["pages"][0]["width"] == 200  # a's, untouched
    assert run([a], out2).skipped == 1


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


@pytest.mark.slow
def test_only_the_input_that_kills_its_worker_twice_is_failed(tmp_path, monkeypatch):
    """A poisonous input kills the pool with three innocent tasks in flight: the suspects are read
    again one at a time, so only the culprit is failed and the others are written."""
    inputs = images(tmp_path / "in", 5)
    poison = tmp_path / "in" / "poison.png"
    Image.new("RGB", (222, 100), "white").save(poison)
    monkeypatch.setenv("KOCR_TEST_POISON_WIDTH", "222")
    monkeypatch.setenv("KOCR_TEST_SLOW", "0.3")
    summary = run([poison] + inputs, tmp_path / "out", backend="pool", workers=2, threads=1, detector="poison")
    assert (summary.done, summary.failed) == (5, 1), summary.failures
    [failure] = read_jsonl(tmp_path / "out" / "_failures.jsonl")
    assert failure["key"] == "poison.png" and "a worker process died" in failure["error"]
    assert sorted(r["key"] for r in read_jsonl(tmp_path / "out" / "_done.jsonl")) == [p.name for p in inputs]


@pytest.mark.parametrize("where", ["folder", "fsspec"])
def test_a_rerun_clears_the_failure_lines_of_inputs_that_now_succeed(tmp_path, where):
    """Fixed inputs leave _failures.jsonl; inputs still failing keep one line, the latest."""
    if where == "fsspec":
        fsspec = pytest.importorskip("fsspec")
        out = f"memory://kocr-test-{tmp_path.name}/out"
        fs = fsspec.filesystem("memory")
        root = out.split("://", 1)[1]

        def failures():
            from kocr_sdk.batch.plan import parse_jsonl

            return parse_jsonl(fs.cat_file(f"{root}/_failures.jsonl").decode()) if fs.exists(f"{root}/_failures.jsonl") else []
    else:
        out = tmp_path / "out"

        def failures():
            return read_jsonl(out / "_failures.jsonl")

    images(tmp_path / "in", 1)
    fixed, still = tmp_path / "in" / "fixed.png", tmp_path / "in" / "still.png"
    fixed.write_text("nope")
    still.write_text("nope")
    assert run([tmp_path / "in"], out).failed == 2
    assert sorted(r["key"] for r in failures()) == ["fixed.png", "still.png"]
    Image.new("RGB", (200, 100), "white").save(fixed)
    summary = run([tmp_path / "in"], out)
    assert (summary.done, summary.skipped, summary.failed) == (1, 1, 1)
    assert [r["key"] for r in failures()] == ["still.png"]
    Image.new("RGB", (200, 100), "white").save(still)
    assert run([tmp_path / "in"], out).failed == 0
    assert failures() == []
    if where == "fsspec":
        fs.rm(root, recursive=True)


def _descendants(pid: int) -> dict[int, str]:
    """Processes below ``pid`` (pid -> start time, so that a reused pid is not mistaken for one)."""
    parents: dict[int, list[tuple[int, str]]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append((int(stat.parent.name), fields[19]))
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child, started in parents.get(todo.pop(), []):
            found[child] = started
            todo.append(child)
    return found


def _alive(pid: int, started: str) -> bool:
    """Still running (a zombie waiting for its reaper is not) and still the same process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[0] != "Z" and fields[19] == started


CLI_WITH_FAKES = """
import sys
import kocr_sdk.batch as batch
from tests import batch_plugins
real = batch.run_batch
batch.run_batch = lambda inputs, options, spec, reporter: real(inputs, options, batch_plugins.spec("slow"), reporter)
from kocr_sdk.cli.main import cli
cli(sys.argv[1:])
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_die_with_a_killed_driver(tmp_path):
    """``kill -9`` of ``kocr batch``: no worker (nor multiprocessing helper) outlives it by 10 s."""
    inputs = images(tmp_path / "in", 12)
    out = tmp_path / "out"
    env = {**os.environ, "KOCR_LOAD_PLUGINS": "", "KOCR_TEST_SLOW": "0.5", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", CLI_WITH_FAKES, "batch", *map(str, inputs), "--out", str(out), "--workers", "2",
           "--threads", "1", "--chunk-pages", "1", "-q"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    children: dict[int, str] = {}
    try:
        deadline = time.time() + 90
        while not (out / "_done.jsonl").exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()
        children = _descendants(proc.pid)
        assert len(children) >= 2, "no worker seen: the test proves nothing"
        proc.kill()
        proc.wait(timeout=10)
        deadline = time.time() + 10
        while any(_alive(p, s) for p, s in children.items()) and time.time() < deadline:
            time.sleep(0.1)
        assert not [p for p, s in children.items() if _alive(p, s)], "processes outlived their killed driver"
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid, started in children.items():  # never leave them behind, even when the test fails
            if _alive(pid, started):
                os.kill(pid, signal.SIGKILL)
        proc.stderr.close()


SERIAL_SCRIPT = """
import sys
from kocr_sdk.batch import BatchOptions, run_batch
from tests import batch_plugins
s = run_batch(sys.argv[2:], BatchOptions(out=sys.argv[1], backend="serial"), batch_plugins.spec("slow"))
print(s.done, s.skipped, flush=True)
"""


def test_a_second_run_on_the_same_folder_is_refused_or_waits(tmp_path):
    """Two runs on one output folder would read the same pages twice: the second refuses, naming
    the first, or (``wait``) starts when the first ends and finds everything done."""
    from click.testing import CliRunner

    from kocr_sdk.cli.main import cli
    from kocr_sdk.errors import KocrError

    inputs = images(tmp_path / "in", 6)
    out = tmp_path / "out"
    env = {**os.environ, "KOCR_LOAD_PLUGINS": "", "KOCR_TEST_SLOW": "0.4", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", SERIAL_SCRIPT, str(out)] + [str(p) for p in inputs], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not (out / "_done.jsonl").exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read()
        with pytest.raises(KocrError, match=rf"in use by another kocr batch run \(pid {proc.pid} "):
            run(inputs, out)
        result = CliRunner().invoke(cli, ["batch", str(inputs[0]), "--out", str(out), "-q"])
        assert result.exit_code != 0 and f"pid {proc.pid}" in result.output and "--wait" in result.output
        assert isinstance(result.exception, SystemExit)  # a message, not a traceback
        notes: list[str] = []
        reporter = Reporter()
        reporter.note = notes.append
        waited = run_batch([str(p) for p in inputs], BatchOptions(out=out, backend="serial", wait=True),
                           batch_plugins.spec(), reporter)
        assert (waited.done, waited.skipped) == (0, 6)  # it started once the first run had written all
        assert len(notes) == 1 and f"pid {proc.pid}" in notes[0]
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0 and stdout.split() == ["6", "0"], stderr
    keys = [r["key"] for r in read_jsonl(out / "_done.jsonl")]
    assert sorted(keys) == [p.name for p in inputs]  # each once


def test_a_claim_on_a_remote_folder_is_honoured_until_it_goes_stale(tmp_path):
    """fsspec destinations cannot be flock-ed: a run claims the folder with a file it refreshes;
    a fresh claim refuses a second run, a stale one (a killed run) is taken over."""
    fsspec = pytest.importorskip("fsspec")
    from kocr_sdk.batch.lock import LOCK_NAME
    from kocr_sdk.errors import KocrError

    url = f"memory://kocr-test-{tmp_path.name}/out"
    root = url.split("://", 1)[1]
    fs = fsspec.filesystem("memory")
    inputs = images(tmp_path / "in", 1)
    fs.makedirs(root, exist_ok=True)
    claim = {"run": "other", "pid": 1, "host": "elsewhere", "started": "then", "heartbeat": time.time()}
    fs.pipe_file(f"{root}/{LOCK_NAME}", json.dumps(claim).encode())
    with pytest.raises(KocrError, match="in use by another kocr batch run .pid 1 on elsewhere"):
        run(inputs, url)
    claim["heartbeat"] = time.time() - 3600
    fs.pipe_file(f"{root}/{LOCK_NAME}", json.dumps(claim).encode())
    assert run(inputs, url).done == 1
    assert not fs.exists(f"{root}/{LOCK_NAME}")  # released when the run ends
    fs.rm(root, recursive=True)


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
