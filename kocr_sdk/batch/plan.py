"""Which inputs a batch run still has to read, and the tasks (page ranges) they split into.

An input is *done* when the manifest (``_done.jsonl``) records its output name with the same
content hash and its outputs exist: a re-run skips it, a changed file (new hash) is read again,
and a run that stopped half-way resumes with what is missing.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..errors import KocrError
from ..io import count_pages, expand_inputs
from .destination import Destination, open_destination

MANIFEST = "_done.jsonl"
FAILURES = "_failures.jsonl"
SUFFIX = {"json": ".json", "hocr": ".hocr"}


@dataclass(frozen=True)
class BatchItem:
    """One input file: its output name (``key``), content hash and page count."""

    path: str
    key: str
    sha256: str
    pages: int

    def outputs(self, formats: Iterable[str]) -> list[str]:
        """File names of its outputs, one per format."""
        return [self.key + SUFFIX[f] for f in formats]


@dataclass(frozen=True)
class Task:
    """Pages ``start``..``stop`` (0-based, stop exclusive) of one input: one unit of work."""

    key: str
    path: str
    start: int
    stop: int


@dataclass
class Plan:
    todo: list[BatchItem]
    skipped: list[BatchItem]
    unreadable: list[tuple[str, str, str]]  # (path, key, error) for inputs that could not even be counted


def file_sha256(path: str | Path, block: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def output_keys(paths: list[Path]) -> list[str]:
    """Output names: the file name (``scan.pdf`` → ``scan.pdf.json``), made unique with a short
    hash of the path when two inputs in different folders share a name."""
    counts = Counter(p.name for p in paths)
    return [p.name if counts[p.name] == 1 else f"{p.name}-{hashlib.sha1(str(p).encode()).hexdigest()[:8]}" for p in paths]


def read_jsonl(path: Path) -> list[dict]:
    """Records of a JSONL log file; none when it does not exist."""
    return parse_jsonl(path.read_text(encoding="utf-8")) if path.exists() else []


def parse_jsonl(text: str | None) -> list[dict]:
    """Records of a JSONL log; a torn last line (a kill mid-append) is ignored."""
    out = []
    for line in (text or "").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def plan_batch(inputs: Iterable[str | Path], out: str | Path | Destination, formats: Iterable[str] = ("json",),
               redo: bool = False, recursive: bool = False) -> Plan:
    """Expand the inputs, hash them, and split them into done and to do (``out``: a folder, an
    fsspec URL or a :class:`~kocr_sdk.batch.destination.Destination`)."""
    formats = list(formats)
    out = open_destination(out)
    paths = expand_inputs(inputs, recursive=recursive)
    done = {r["key"]: r for r in parse_jsonl(out.read_text(MANIFEST)) if "key" in r}
    plan = Plan([], [], [])
    for path, key in zip(paths, output_keys(paths)):
        try:
            sha = file_sha256(path)
            n = count_pages(path)
        except KocrError as exc:
            plan.unreadable.append((str(path), key, str(exc)))
            continue
        except OSError as exc:
            plan.unreadable.append((str(path), key, f"{path}: cannot read: {exc}"))
            continue
        item = BatchItem(str(path), key, sha, n)
        record = done.get(key)
        if (not redo and record is not None and record.get("sha256") == sha
                and all(out.exists(name) for name in item.outputs(formats))):
            plan.skipped.append(item)
        else:
            plan.todo.append(item)
    return plan


def make_tasks(items: Iterable[BatchItem], chunk_pages: int) -> list[Task]:
    """Page ranges of at most ``chunk_pages``; an input with no pages counted still gets one task,
    whose reading then says what is wrong with it."""
    tasks = []
    for item in items:
        n = max(1, item.pages)
        tasks.extend(Task(item.key, item.path, s, min(n, s + chunk_pages)) for s in range(0, n, chunk_pages))
    return tasks
