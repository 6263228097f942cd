"""One batch run at a time on an output folder.

Two runs writing one folder would read the same pages twice and log them twice (and each would
delete the other's temp files as debris). So a run holds the folder from before it plans until
its logs are final, and a second run refuses with a message naming the holder, or waits for it.

A local folder is held with ``flock`` on ``DIR/_lock.json``: the operating system releases it
when the holder ends, however it ends (``kill -9`` included), so a killed run never blocks the
next one. The file also says who holds it, for the refusal message.

An fsspec destination (``s3://``...) cannot be flock-ed; there the run writes a claim,
``_lock.json`` naming the run, and rewrites it every ``HEARTBEAT`` seconds. A claim from this
machine whose process is gone, or one not refreshed for ``STALE_AFTER`` seconds (a killed run
elsewhere), is taken over. Object stores have no atomic create-if-absent, so two runs starting
in the same second on different machines could both win: a best effort, documented as such.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from ..errors import KocrError
from .destination import Destination, LocalDestination

LOCK_NAME = "_lock.json"
HEARTBEAT = 30.0
STALE_AFTER = 180.0
POLL = 0.5


class OutputFolderBusy(KocrError):
    """Another batch run holds the output folder."""


@contextmanager
def hold_output(out: Destination, wait: bool = False,
                on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold ``out`` for the duration of the block; refuse (:class:`OutputFolderBusy`) when
    another run holds it, or, with ``wait``, wait until it does not (``on_wait`` hears why, once)."""
    me = {"run": uuid.uuid4().hex[:12], "pid": os.getpid(), "host": socket.gethostname(),
          "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": _one_line(sys.argv)}
    waiting = _Waiting(out, wait, on_wait)
    if isinstance(out, LocalDestination) and _has_flock():
        fd = _flock(out, me, waiting)
        try:
            yield
        finally:
            _unflock(out, fd)
    else:
        claim = _Claim(out, me, waiting)
        try:
            yield
        finally:
            claim.release()


class _Waiting:
    """Refuse, or say once that the run waits, then let it poll."""

    def __init__(self, out: Destination, wait: bool, on_wait: Callable[[str], None] | None) -> None:
        self.out, self.wait, self.on_wait, self.said = out, wait, on_wait, False

    def busy(self, holder: dict[str, Any] | None, pause: float = POLL) -> None:
        who = _describe(holder)
        if not self.wait:
            raise OutputFolderBusy(
                f"{self.out.location} is in use by another kocr batch run ({who}): two runs on one folder "
                "would read the same pages twice. Let it finish (or stop it) and run again, or pass --wait "
                "(wait=True) to start when it ends")
        if not self.said and self.on_wait:
            self.on_wait(f"waiting for the kocr batch run that holds {self.out.location} to end ({who})")
        self.said = True
        time.sleep(pause)


def _one_line(argv: list[str], limit: int = 300) -> str:
    """The holder's command line, on one line (a message line), cut at ``limit`` characters."""
    text = " ".join(" ".join(argv).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(holder: dict[str, Any] | None) -> str:
    if not holder:
        return "it is starting"
    text = f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, since {holder.get('started', '?')}"
    return text + (f": {holder['command']}" if holder.get("command") else "")


def _read_holder(text: str | None) -> dict[str, Any] | None:
    try:
        holder = json.loads(text or "")
    except json.JSONDecodeError:
        return None
    return holder if isinstance(holder, dict) else None


# --- a local folder: flock ----------------------------------------------------------------------
def _has_flock() -> bool:
    try:
        import fcntl  # noqa: F401
    except ImportError:  # Windows: the claim file stands in
        return False
    return True


def _flock(out: LocalDestination, me: dict[str, Any], waiting: _Waiting) -> int:
    """The lock file's descriptor, locked and naming this run.

    The holder removes the file when it ends, so a file locked just after its holder let go may
    already be unlinked: then it is locked again under its name, or two runs would each hold one.
    """
    import fcntl

    path = out.path / LOCK_NAME
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise KocrError(f"{path}: cannot create the output folder's lock file: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = _read_holder(os.read(fd, 1 << 16).decode("utf-8", "replace"))
            finally:
                os.close(fd)
            waiting.busy(holder)
            continue
        except OSError as exc:  # a file system without locks: better to say so than to pretend
            os.close(fd)
            raise KocrError(f"{out.path}: cannot lock the output folder ({exc.strerror or exc}); "
                            "is it on a file system without locks?") from exc
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, (json.dumps(me) + "\n").encode("utf-8"))
        return fd


def _unflock(out: LocalDestination, fd: int) -> None:
    """Remove the file while still holding it, then let go (see :func:`_flock`)."""
    try:
        (out.path / LOCK_NAME).unlink(missing_ok=True)
    finally:
        os.close(fd)


# --- an fsspec destination: a claim kept fresh --------------------------------------------------
class _Claim:
    """``_lock.json`` naming this run, rewritten every HEARTBEAT seconds until released."""

    def __init__(self, out: Destination, me: dict[str, Any], waiting: _Waiting) -> None:
        self.out, self.me = out, me
        self.stop = threading.Event()
        while True:
            holder = _read_holder(out.read_text(LOCK_NAME))
            if holder is not None and not _stale(holder):
                waiting.busy(holder, pause=5 * POLL)  # each look is a request to the store
                continue
            self._write()
            time.sleep(0.2)  # let a rival that wrote in the same moment be seen: the last writer wins
            holder = _read_holder(out.read_text(LOCK_NAME))
            if holder is not None and holder.get("run") == me["run"]:
                break
        self.thread = threading.Thread(target=self._beat, name="kocr-batch-claim", daemon=True)
        self.thread.start()

    def _write(self) -> None:
        self.out.write_text(LOCK_NAME, json.dumps({**self.me, "heartbeat": time.time()}) + "\n")

    def _beat(self) -> None:
        while not self.stop.wait(HEARTBEAT):
            try:
                self._write()
            except Exception:  # a network blip: the next beat tries again, well before STALE_AFTER
                pass

    def release(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        holder = _read_holder(self.out.read_text(LOCK_NAME))
        if holder is not None and holder.get("run") == self.me["run"]:
            self.out.delete(LOCK_NAME)


def _stale(holder: dict[str, Any]) -> bool:
    """A claim whose run is gone: its process (on this machine), or its heartbeat (anywhere)."""
    if os.name == "posix" and holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int):
        try:
            os.kill(holder["pid"], 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
    try:
        return time.time() - float(holder.get("heartbeat", 0)) > STALE_AFTER
    except (TypeError, ValueError):
        return True
