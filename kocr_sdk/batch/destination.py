"""Where a batch run writes: a local folder, or any fsspec URL (``s3://``, ``gs://``, ``az://``,
``memory://``, ...), with the same layout and the same guarantees a re-run relies on.

A re-run trusts what it finds, so every output must appear whole or not at all. A local folder
gets a temp file, ``fsync`` and ``os.replace``. An fsspec file system has no common atomic
rename, but every one of them can write a whole object under a temporary name and then move it:
object stores (where a move is a server-side copy) publish an object only once it is complete,
so the final name is never half-written there either.

The two logs (``_done.jsonl``, ``_failures.jsonl``) are appended to, line by line, on a local
disk. Object stores cannot append, so a remote log is kept in memory and rewritten whole (with
the same temp-and-move) at most every ``flush_seconds`` and when the run ends. A run killed
between two flushes loses only manifest lines, never outputs: the inputs those lines stood for
are read again by the next run and written again byte for byte the same.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from ..atomic import write_text_atomic
from ..errors import KocrError

__all__ = ["Destination", "LocalDestination", "RemoteDestination", "open_destination", "is_url"]


def is_url(out: str | os.PathLike) -> bool:
    """True for ``protocol://...`` other than ``file://`` (which is a local folder)."""
    s = os.fspath(out)
    return "://" in s and not s.startswith("file://")


class Destination:
    """The folder of one batch run's outputs and logs, addressed by file name."""

    location: str | Path  # what the user gave, for messages and the summary

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def read_text(self, name: str) -> str | None:
        """The file's text, or None when it does not exist."""
        raise NotImplementedError

    def write_text(self, name: str, text: str) -> None:
        """Write ``name`` whole or not at all."""
        raise NotImplementedError

    def append_record(self, name: str, record: dict[str, Any]) -> None:
        """One JSON line at the end of the log ``name``."""
        raise NotImplementedError

    def flush(self) -> None:
        """Make every appended line durable (the run calls it when it ends, however it ends)."""

    def delete(self, name: str) -> None:
        """Remove ``name`` if it exists."""
        raise NotImplementedError

    def remove_temp_files(self) -> None:
        """Temp files a killed run left behind (never complete outputs)."""
        raise NotImplementedError

    def rewrite_records(self, name: str, keep: Callable[[dict[str, Any]], bool]) -> None:
        """Drop the lines of the log ``name`` that ``keep`` refuses, in one atomic replacement (a run
        killed meanwhile leaves the old log whole); a log left empty is removed. A torn line (a
        kill mid-append) holds no record and goes too."""
        text = self.read_text(name)
        if text is None:
            return
        lines = [line for line in text.splitlines() if line.strip()]
        kept = [line for line in lines if _keeps(line, keep)]
        if len(kept) == len(lines):
            return
        if kept:
            self.write_log(name, "".join(line + "\n" for line in kept))
        else:
            self.delete(name)

    def write_log(self, name: str, text: str) -> None:
        """Replace the log ``name`` whole (atomically, as any output)."""
        self.write_text(name, text)


class LocalDestination(Destination):
    """A folder on this machine's file system."""

    def __init__(self, path: str | os.PathLike) -> None:
        s = os.fspath(path)
        self.location = self.path = Path(s[len("file://"):] if s.startswith("file://") else s)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except FileExistsError as exc:
            raise KocrError(f"{self.path}: exists and is not a folder; --out needs a folder") from exc
        except OSError as exc:
            raise KocrError(f"{self.path}: cannot create the output folder: {exc.strerror or exc}") from exc
        self._checked: set[str] = set()  # logs whose last line is known to be whole

    def exists(self, name: str) -> bool:
        return (self.path / name).exists()

    def read_text(self, name: str) -> str | None:
        p = self.path / name
        return p.read_text(encoding="utf-8") if p.exists() else None

    def write_text(self, name: str, text: str) -> None:
        write_text_atomic(self.path / name, text, sync=True)

    def append_record(self, name: str, record: dict[str, Any]) -> None:
        """One line, flushed and synced: the logs are how a re-run knows what happened. A line a
        killed run tore is ended first, so that it cannot swallow this one."""
        with open(self.path / name, "a+b") as fh:
            prefix = b""
            if name not in self._checked:
                self._checked.add(name)
                if fh.seek(0, os.SEEK_END) > 0:
                    fh.seek(-1, os.SEEK_END)
                    prefix = b"" if fh.read(1) == b"\n" else b"\n"
            fh.write(prefix + _line(record).encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())

    def delete(self, name: str) -> None:
        (self.path / name).unlink(missing_ok=True)

    def write_log(self, name: str, text: str) -> None:
        self.write_text(name, text)
        self._checked.add(name)  # ends with a newline

    def remove_temp_files(self) -> None:
        for tmp in self.path.rglob(".*.tmp"):  # outputs of same-name inputs live in sub-folders
            tmp.unlink(missing_ok=True)


class RemoteDestination(Destination):
    """A folder behind an fsspec URL; the file system's own package (s3fs, gcsfs, adlfs) must be installed."""

    def __init__(self, url: str, flush_seconds: float = 5.0, **storage_options: Any) -> None:
        try:
            from fsspec.core import url_to_fs
        except ImportError as exc:  # pragma: no cover - fsspec comes with torch
            raise KocrError(f"writing to {url} needs fsspec: pip install fsspec") from exc
        try:
            self.fs, root = url_to_fs(url, **storage_options)
        except (ImportError, ValueError) as exc:
            raise KocrError(f"cannot write to {url}: {exc} (install the fsspec package for its protocol, "
                            "e.g. s3fs for s3://, gcsfs for gs://)") from exc
        self.location, self.root = url, root.rstrip("/")
        self.flush_seconds = flush_seconds
        self._logs: dict[str, list[str]] = {}
        self._dirty: set[str] = set()
        self._last_flush = time.monotonic()
        try:
            self.fs.makedirs(self.root, exist_ok=True)
        except OSError as exc:
            raise KocrError(f"cannot write to {url}: {exc}") from exc

    def _path(self, name: str) -> str:
        return f"{self.root}/{name}"

    def exists(self, name: str) -> bool:
        return bool(self.fs.exists(self._path(name)))

    def read_text(self, name: str) -> str | None:
        if name in self._logs:
            return "".join(self._logs[name])
        try:
            return self.fs.cat_file(self._path(name)).decode("utf-8")
        except FileNotFoundError:
            return None

    def write_text(self, name: str, text: str) -> None:
        folder, slash, base = name.rpartition("/")  # the temp name sits beside the final one
        tmp = self._path(f"{folder}{slash}.{base}.{uuid.uuid4().hex[:12]}.tmp")
        self.fs.pipe_file(tmp, text.encode("utf-8"))
        try:
            self.fs.mv(tmp, self._path(name))
        finally:
            if self.fs.exists(tmp):
                self.fs.rm_file(tmp)

    def append_record(self, name: str, record: dict[str, Any]) -> None:
        if name not in self._logs:  # start from what earlier runs left
            old = self.read_text(name) or ""
            if old and not old.endswith("\n"):
                old += "\n"
            self._logs[name] = [old] if old else []
        self._logs[name].append(_line(record))
        self._dirty.add(name)
        if time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        for name in sorted(self._dirty):
            self.write_text(name, "".join(self._logs[name]))
        self._dirty.clear()
        self._last_flush = time.monotonic()

    def delete(self, name: str) -> None:
        self._logs.pop(name, None)
        self._dirty.discard(name)
        try:
            self.fs.rm_file(self._path(name))
        except FileNotFoundError:
            pass

    def write_log(self, name: str, text: str) -> None:
        """The log in memory becomes ``text`` and is written at once."""
        self._logs[name] = [text]
        self._dirty.discard(name)
        self.write_text(name, text)

    def remove_temp_files(self) -> None:
        for tmp in set(self.fs.glob(self._path(".*.tmp"))) | set(self.fs.glob(self._path("**/.*.tmp"))):
            self.fs.rm_file(tmp)


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False) + "\n"


def _keeps(line: str, keep: Callable[[dict[str, Any]], bool]) -> bool:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return False
    return not isinstance(record, dict) or keep(record)


def open_destination(out: str | os.PathLike | Destination) -> Destination:
    """A :class:`Destination` for a folder path, a ``file://`` URL or any other fsspec URL."""
    if isinstance(out, Destination):
        return out
    return RemoteDestination(os.fspath(out)) if is_url(out) else LocalDestination(out)
