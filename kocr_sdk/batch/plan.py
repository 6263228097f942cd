"""Which inputs a batch run still has to read, and the tasks (page ranges) they split into.

An input is *done* when the manifest (``_done.jsonl``) records its output name with the same
content hash and its outputs exist: a re-run skips it, a changed file (new hash) is read again,
and a run that stopped half-way resumes with what is missing. An output name the manifest gives
to another file (same name, other folder, other content: an earlier run's input) is never
overwritten: that input fails with a message naming both.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
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

    @property
    def source(self) -> str:
        """The absolute path: what the logs compare, however the path was given."""
        return os.path.abspath(self.path)

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
    unreadable: list[tuple[str, str, str]]  # (path, key, error): inputs not even counted, or refused


def file_sha256(path: str | Path, block: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def output_keys(paths: list[Path]) -> list[str]:
    """Output names: the file name (``scan.pdf`` → ``scan.pdf.json``); inputs that share a name
    (case aside: some file systems and object stores ignore it) keep the folders that tell them
    apart instead, their path below the deepest folder the clashing inputs share
    (``a/x.png``, ``b/x.png`` → ``a/x.png.json``, ``b/x.png.json``), so the outputs mirror
    where the inputs are and stay the same from one run of the same command to the next."""
    absolute = [Path(os.path.abspath(p)) for p in paths]
    by_name: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(absolute):
        by_name[p.name.casefold()].append(i)
    keys = [p.name for p in absolute]
    for clash in by_name.values():
        if len(clash) > 1:
            common = os.path.commonpath([str(absolute[i].parent) for i in clash])
            for i in clash:
                keys[i] = absolute[i].relative_to(common).as_posix()
    return keys


def unique_inputs(paths: list[Path]) -> list[Path]:
    """Each file once, however often it was named (``in/`` and ``in/x.png``; a symlink to it)."""
    seen: set[str] = set()
    out = []
    for p in paths:
        real = os.path.realpath(p)
        if real not in seen:
            seen.add(real)
            out.append(p)
    return out


def same_source(record: dict, item: "BatchItem") -> bool:
    """Whether a log line (manifest or failure) stands for the file ``item`` reads: by its absolute
    path (``source``), or, in lines written before that field existed, by the path as given."""
    if record.get("source"):
        return record["source"] == item.source
    return record.get("path") == item.path or os.path.abspath(str(record.get("path", ""))) == item.source


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
    paths = unique_inputs(expand_inputs(inputs, recursive=recursive))
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
        whole = record is not None and all(out.exists(name) for name in item.outputs(formats))
        if not redo and whole and record.get("sha256") == sha:
            plan.skipped.append(item)
        elif whole and record.get("sha256") != sha and not same_source(record, item):
            # another file of the same name, read by an earlier run: its output is not ours to replace
            plan.unreadable.append((str(path), key, (
                f"{path}: not overwritten: {item.outputs(formats)[0]} in {out.location} holds the output of "
                f"{record.get('path')}, another file of the same name read by an earlier run; give this input "
                f"another --out, or delete that output to replace it")))
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
