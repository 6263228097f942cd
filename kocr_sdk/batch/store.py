"""Where a batch run's results go: one output per input, written atomically, plus two logs.

``DIR/<name>.json`` (and ``.hocr``) appear only complete (temp file + ``os.replace``), written by
the driver alone once every page of the input is in; then the input's line is appended to
``DIR/_done.jsonl`` (the manifest the next run skips by). An input that fails gets a line in
``DIR/_failures.jsonl`` and no output. A run killed at any point leaves complete outputs and
complete manifest lines only — at worst an output whose manifest line is missing, which the
next run writes again, byte for byte the same.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

from .. import __version__
from ..atomic import write_text_atomic
from ..document import Document, Page
from .plan import FAILURES, MANIFEST, BatchItem
from .worker import ChunkResult


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """One line, flushed and synced: the logs are how a re-run knows what happened."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def render(doc: Document, fmt: str) -> str:
    if fmt == "json":
        return doc.model_dump_json(indent=2) + "\n"
    if fmt == "hocr":
        return doc.to_hocr()
    raise ValueError(fmt)


class OutputStore:
    """Collects the pages of each input as tasks finish, and writes it once all are in."""

    def __init__(self, out: Path, formats: list[str], items: list[BatchItem],
                 on_input: Callable[[BatchItem, str | None], None] | None = None) -> None:
        self.out = out
        self.formats = formats
        self.items = {i.key: i for i in items}
        self.pages: dict[str, dict[int, str]] = defaultdict(dict)
        self.seconds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.metadata: dict[str, dict[str, Any]] = {}
        self.failed: dict[str, str] = {}
        self.written: set[str] = set()
        self.on_input = on_input
        out.mkdir(parents=True, exist_ok=True)
        self._clean_temp_files()

    def _clean_temp_files(self) -> None:
        """Temp files a killed run left behind (never complete outputs)."""
        for tmp in self.out.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)

    def add(self, result: ChunkResult) -> None:
        key = result.key
        item = self.items[key]
        if key in self.failed or key in self.written:
            return
        if result.error is not None:
            self.fail(item, result.error)
            return
        for offset, page in enumerate(result.pages):
            self.pages[key][result.start + offset] = page
        for stage, s in result.seconds.items():
            self.seconds[key][stage] += s
        self.metadata.setdefault(key, result.metadata)
        if len(self.pages[key]) >= max(1, item.pages):
            self._write(item)

    def fail(self, item: BatchItem, error: str) -> None:
        self.failed[item.key] = error
        self.pages.pop(item.key, None)
        append_jsonl(self.out / FAILURES, {"key": item.key, "path": item.path, "sha256": item.sha256,
                                           "error": error, "time": _now()})
        if self.on_input:
            self.on_input(item, error)

    def _write(self, item: BatchItem) -> None:
        pages = [Page.model_validate_json(self.pages[item.key][i]) for i in sorted(self.pages[item.key])]
        metadata = {**self.metadata.get(item.key, {}),
                    "input": {"path": item.path, "sha256": item.sha256, "pages": len(pages)}}
        doc = Document(kocr_version=__version__, pages=pages, metadata=metadata)
        outputs = item.outputs(self.out, self.formats)
        for fmt, path in zip(self.formats, outputs):
            write_text_atomic(path, render(doc, fmt), sync=True)  # a re-run trusts what it finds
        append_jsonl(self.out / MANIFEST, {
            "key": item.key, "path": item.path, "sha256": item.sha256, "pages": len(pages),
            "outputs": [p.name for p in outputs], "seconds": {k: round(v, 4) for k, v in self.seconds[item.key].items()},
            "time": _now(),
        })
        self.written.add(item.key)
        del self.pages[item.key]
        if self.on_input:
            self.on_input(item, None)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
