"""Atomic file writes: every file kocr writes appears whole or not at all.

Batch jobs resume by looking at what is on disk, so a file cut short by a crash or Ctrl-C must
never look finished. Everything is written to a temporary name in the target's directory (the
same file system, so the final rename is atomic) and renamed over the target only once it is
complete; on any error the temporary file is removed. The finished file gets the permissions
the user's umask gives an ordinary file (``mkstemp`` alone would leave it private).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

__all__ = ["atomic_path", "write_text_atomic"]

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path to write ``path``'s content to; renamed to ``path`` when the block ends cleanly.

    For writers that want a file name rather than a handle (``torch.save``, ``Image.save``,
    ``torch.onnx.export``). ``suffix`` is the temporary name's ending, for writers that pick a
    format from it (``.png``, ``.onnx``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | Path, text: str, sync: bool = False) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; ``sync`` also flushes it to the disk before the
    rename, for the files a re-run trusts (batch outputs): after a power cut they are whole or absent."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        if sync:
            fh.flush()
            os.fsync(fh.fileno())
