"""Train from a kocr bundle on a machine that has Python and torch, and no network.

    python BUNDLE/run.py --out OUTDIR [--device cuda] [--max-minutes M] [--max-steps N] [--workers N]

Standard library only (it is copied into every bundle as ``run.py``): it checks this Python and
torch (and the GPU when CUDA is asked for), installs the bundle's wheels offline into
``OUTDIR/.kocr/site`` (once), unpacks the fonts into ``OUTDIR/.kocr/fonts`` (the only fonts the
run sees: the machine's own are hidden), points the text generator at the bundle's word and name
lists, and runs ``kocr train <model>`` with the bundled config. The trainer writes ``last.pt`` and
``log.jsonl`` to OUTDIR and the weights (``bundle.json``'s ``export``) when it stops; run the
same command again to continue from ``last.pt``. Any problem before training is one line on
stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

BUNDLE = Path(__file__).resolve().parent
TRAIN = "import sys; from kocr_sdk.lab.cli.train import train; train(prog_name='kocr train')"
TORCH_PROBE = r"""
import json, sys
import torch
info = {"version": torch.__version__, "cuda": torch.version.cuda, "available": bool(torch.cuda.is_available())}
if info["available"] and sys.argv[1] == "cuda":
    try:
        index = int(sys.argv[2]) if len(sys.argv) > 2 else 0
        x = torch.ones(8, device=f"cuda:{index}") * 2
        info["checked"] = float(x.sum().item()) == 16.0
        info["name"] = torch.cuda.get_device_name(index)
        info["count"] = torch.cuda.device_count()
    except Exception as exc:
        info["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
print(json.dumps(info))
"""


class Fail(Exception):
    """A problem to report in one line before any training."""


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="Run folder: last.pt, log.jsonl, the weights.")
    parser.add_argument("--device", help="auto, cpu, cuda or cuda:N (default: the bundled config's).")
    parser.add_argument("--max-minutes", type=float, help="Stop (with a checkpoint and the weights) after this long.")
    parser.add_argument("--max-steps", type=int, help="Stop at this global step.")
    parser.add_argument("--workers", type=int, help="DataLoader workers rendering crops (a GPU wants several).")
    parser.add_argument("--seed", type=int, help="Seed of the model and the data stream.")
    parser.add_argument("--fresh", action="store_true", help="Start over instead of continuing from OUTDIR/last.pt.")
    return parser.parse_args(argv)


def say(message: str) -> None:
    print(f"run.py: {message}", flush=True)


def manifest() -> dict:
    try:
        return json.loads((BUNDLE / "bundle.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Fail(f"{BUNDLE} is not a complete kocr bundle: bundle.json unreadable ({exc})") from None


def check_python(meta: dict) -> None:
    want = meta["python"]
    have = f"{sys.version_info.major}.{sys.version_info.minor}"
    if meta.get("wheels") and have != want:
        raise Fail(f"this bundle's wheels are for Python {want}; {sys.executable} is Python {have} "
                   f"(run it with python{want}, or pack the bundle with --python-version {have})")
    if meta.get("wheels") and (sys.platform != "linux" or platform.machine().lower() not in ("x86_64", "amd64")):
        raise Fail(f"this bundle's wheels are for {meta['platform']}; this machine is {sys.platform} "
                   f"{platform.machine()}")
    try:
        import lzma  # noqa: F401  (the wheels and fonts are LZMA-compressed)
    except ImportError:
        raise Fail(f"{sys.executable} was built without the lzma module, which the bundle's archives need") from None


def check_torch(device: str) -> dict:
    """torch's version and GPU, from a child process (a broken CUDA install must not take run.py down)."""
    kind, _, index = device.partition(":")
    args = [sys.executable, "-c", TORCH_PROBE, kind] + ([index] if index else [])
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        if "No module named 'torch'" in done.stderr:
            raise Fail(f"torch is not installed for {sys.executable}: install the torch build for this machine's "
                       "GPU first (the bundle carries everything else)")
        raise Fail(f"torch does not import in {sys.executable}: {last}")
    info = json.loads(done.stdout.strip().splitlines()[-1])
    if kind == "cuda":
        build = f"torch {info['version']} (CUDA {info['cuda']})" if info["cuda"] else \
            f"torch {info['version']}, a CPU-only build,"
        if not info["available"]:
            raise Fail(f"--device {device} was asked but {build} sees no CUDA GPU; install a CUDA build of torch "
                       "that matches the driver, or use --device cpu")
        if info.get("error") or not info.get("checked"):
            raise Fail(f"{build} cannot use {device}: {info.get('error', 'a test computation came out wrong')}")
    return info


def check_pip() -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, text=True)
    if done.returncode != 0:
        raise Fail(f"pip is not available for {sys.executable} (python -m ensurepip installs it); "
                   "the bundle installs its wheels with pip, offline")


def stamp(meta: dict) -> str:
    return hashlib.sha256(json.dumps([meta.get("wheels"), meta["fonts"]["packed"]], sort_keys=True).encode()).hexdigest()


def install_wheels(meta: dict, home: Path) -> float:
    """Install the bundle's wheels into ``home/site`` unless this bundle's already are; seconds taken."""
    site, done_file = home / "site", home / "site.done"
    if not meta.get("wheels"):
        site.mkdir(parents=True, exist_ok=True)
        return 0.0
    if site.is_dir() and done_file.is_file() and done_file.read_text() == stamp(meta):
        return 0.0
    check_pip()
    start = time.time()
    files = [BUNDLE / "wheels" / w["file"] for w in meta["wheels"]]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise Fail(f"the bundle lacks wheels its bundle.json lists: {', '.join(missing)}")
    tmp = home / "site.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(site, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "--isolated", "install", "--no-index", "--no-deps", "--no-compile",
           "--disable-pip-version-check", "--no-warn-script-location", "-q", "--target", str(tmp), *map(str, files)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or ["no output"])[-1]
        raise Fail(f"installing the bundled wheels failed: {last}")
    tmp.rename(site)
    done_file.write_text(stamp(meta))
    return time.time() - start


def unpack_fonts(meta: dict, home: Path) -> float:
    """Unpack the fonts into ``home/fonts`` unless this bundle's already are; seconds taken."""
    fonts, done_file = home / "fonts", home / "fonts.done"
    if fonts.is_dir() and done_file.is_file() and done_file.read_text() == stamp(meta):
        return 0.0
    start = time.time()
    shutil.rmtree(fonts, ignore_errors=True)
    fonts.mkdir(parents=True)
    with tarfile.open(BUNDLE / meta["fonts"]["archive"], "r:xz") as tar:
        for member in tar.getmembers():
            if not member.isfile() or "/" in member.name or member.name.startswith("."):
                raise Fail(f"unexpected entry {member.name!r} in the bundle's font archive")
            with tar.extractfile(member) as src, (fonts / member.name).open("wb") as dst:
                shutil.copyfileobj(src, dst)
    done_file.write_text(stamp(meta))
    return time.time() - start


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update({
        # Ahead of site-packages: the bundle's versions win over any the machine has.
        "PYTHONPATH": os.pathsep.join([str(home / "site"), str(BUNDLE / "project")]),
        "KOCR_FONT_DIRS": str(home / "fonts"),  # the bundle's fonts, and no others
        "KOCR_TEXT_DATA": str(BUNDLE / "text"),  # the word and name lists instead of wordfreq and faker
        "KOCR_CACHE_DIR": str(home / "cache"),
        "KOCR_LOAD_PLUGINS": "",
    })
    return env


def command(meta: dict, args: argparse.Namespace) -> list[str]:
    out = args.out.resolve()
    cmd = [sys.executable, "-c", TRAIN, *meta["command"], "--config", str(BUNDLE / meta["config"]),
           "--out", str(out), "--export", str(out / meta["export"]), "-q"]
    for flag, value in (("--device", args.device), ("--max-minutes", args.max_minutes),
                        ("--max-steps", args.max_steps), ("--workers", args.workers), ("--seed", args.seed)):
        if value is not None:
            cmd += [flag, str(value)]
    if (out / "last.pt").is_file() and not args.fresh:
        cmd += ["--resume", str(out / "last.pt")]
    return cmd


def _summary(row: dict) -> str | None:
    if "val" in row and isinstance(row["val"], dict):
        figures = row["val"].get("all") if isinstance(row["val"].get("all"), dict) else row["val"]
        shown = ", ".join(f"{k} {v:.4g}" for k, v in figures.items() if isinstance(v, float))
        return f"step {row.get('step')}: validation {shown}"
    if "loss" in row:
        return f"step {row.get('step')}: loss {row['loss']:.4f}, lr {row.get('lr', 0):.3g}, {row.get('minutes')} min"
    return None


def follow(log: Path, start_at: int, started: float, stop: threading.Event) -> None:
    """Print a line for each row the trainer logs (the trainer itself runs quietly)."""
    offset, first = start_at, True
    while not stop.is_set():
        if log.is_file() and log.stat().st_size > offset:
            with log.open("rb") as f:
                f.seek(offset)
                chunk = f.read()
            complete = chunk[:chunk.rfind(b"\n") + 1]
            offset += len(complete)
            for line in complete.decode("utf-8", "replace").splitlines():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if first:
                    say(f"first step logged {time.time() - started:.1f} s after run.py started")
                    first = False
                text = _summary(row)
                if text:
                    say(text)
        stop.wait(1.0)


def main(argv: list[str] | None = None) -> int:
    started = time.time()
    args = parse(argv)
    try:
        meta = manifest()
        check_python(meta)
        device = args.device or meta.get("device", "auto")
        info = check_torch(device)
        gpu = f", {info['name']}" if info.get("name") else (", no CUDA GPU" if not info["available"] else "")
        say(f"{meta['model']} bundle (kocr {meta['kocr']}); torch {info['version']}{gpu}")
        home = args.out.resolve() / ".kocr"
        home.mkdir(parents=True, exist_ok=True)
        wheels_s = install_wheels(meta, home)
        fonts_s = unpack_fonts(meta, home)
    except Fail as exc:
        print(f"run.py: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"run.py: {exc}", file=sys.stderr)
        return 2
    say(f"ready in {time.time() - started:.1f} s (wheels {wheels_s:.1f} s, fonts {fonts_s:.1f} s); training "
        f"{meta['model']} into {args.out}")
    log = args.out.resolve() / "log.jsonl"
    stop = threading.Event()
    watcher = threading.Thread(target=follow, args=(log, log.stat().st_size if log.is_file() else 0, started, stop),
                               daemon=True)
    watcher.start()
    child = subprocess.Popen(command(meta, args), env=environment(home))
    # A scheduler's SIGTERM goes to the trainer, which checkpoints and stops, as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: child.send_signal(signal.SIGTERM))
    while True:
        try:
            code = child.wait()
            break
        except KeyboardInterrupt:  # the trainer got it too: it validates, checkpoints and stops
            say("interrupted: waiting for the trainer's checkpoint (Ctrl-C again stops it at once)")
    time.sleep(1.1)
    stop.set()
    watcher.join()
    if code == 0:
        say(f"done: {args.out / meta['export']}, {args.out / 'last.pt'}, {log}")
    return code


if __name__ == "__main__":
    sys.exit(main())
