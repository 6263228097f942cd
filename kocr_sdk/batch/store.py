"""Where a batch run's results go: one output per input, written atomically, plus two logs.

``DIR/<name>.json`` (and ``.hocr``) appear only complete (temp file + ``os.replace``, or its
fsspec equivalent: :mod:`kocr_sdk.batch.destination`), written by the driver alone once every
page of the input is in; then the input's line is appended to
``DIR/_done.jsonl`` (the manifest the next run skips by). An input that fails gets a line in
``DIR/_failures.jsonl`` and no output. A run killed at any point leaves complete outputs and
complete manifest lines only — at worst an output whose manifest line is missing, which the
next run writes again, byte for byte the same.

``_failures.jsonl`` says what is failing *now*: when the run ends, the lines of earlier runs for
inputs this run has written, or has failed again (its own line is the news), are dropped, in one
atomic rewrite; lines of inputs this run did not touch stay.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from typing import Any, Callable

from .. import __version__
from ..document import Document, Page
from .destination import Destination
from .plan import FAILURES, MANIFEST, BatchItem, same_source
from .worker import ChunkResult


def render(doc: Document, fmt: str) -> str:
    if fmt == "json":
        return doc.model_dump_json(indent=2) + "\n"
    if fmt == "hocr":
        return doc.to_hocr()
    raise ValueError(fmt)


class OutputStore:
    """Collects the pages of each input as tasks finish, and writes it once all are in."""

    def __init__(self, out: Destination, formats: list[str], items: list[BatchItem],
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
        self.run = uuid.uuid4().hex[:12]  # marks this run's failure lines
        out.remove_temp_files()

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
        self.out.append_record(FAILURES, {"key": item.key, "path": item.path, "source": item.source,
                                           "sha256": item.sha256, "error": error, "time": _now(), "run": self.run})
        if self.on_input:
            self.on_input(item, error)

    def _write(self, item: BatchItem) -> None:
        pages = [Page.model_validate_json(self.pages[item.key][i]) for i in sorted(self.pages[item.key])]
        metadata = {**self.metadata.get(item.key, {}),
                    "input": {"path": item.path, "sha256": item.sha256, "pages": len(pages)}}
        doc = Document(kocr_version=__version__, pages=pages, metadata=metadata)
        outputs = item.outputs(self.formats)
        for fmt, name in zip(self.formats, outputs):
            self.out.write_text(name, render(doc, fmt))  # whole or absent: a re-run trusts what it finds
        self.out.append_record(MANIFEST, {
            "key": item.key, "path": item.path, "source": item.source, "sha256": item.sha256, "pages": len(pages),
            "outputs": outputs, "seconds": {k: round(v, 4) for k, v in self.seconds[item.key].items()},
            "time": _now(),
        })
        self.written.add(item.key)
        del self.pages[item.key]
        if self.on_input:
            self.on_input(item, None)

    def prune_failures(self) -> None:
        """Drop the failure lines this run made out of date: of inputs it has written, and older
        lines of inputs it failed again. Called once, when the run ends (however it ends); a run
        killed before that leaves them for the next run to drop."""
        touched = {key: self.items[key] for key in self.written | set(self.failed)}

        def keep(record: dict[str, Any]) -> bool:
            if record.get("run") == self.run:
                return record.get("key") not in self.written
            item = touched.get(record.get("key"))
            return item is None or not same_source(record, item)

        self.out.rewrite_records(FAILURES, keep)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
