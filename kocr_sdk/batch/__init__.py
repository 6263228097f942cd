"""Batch runs over many files: resumable, atomic, on a process pool or a Ray cluster.

>>> from kocr_sdk.batch import BatchOptions, run_batch
>>> summary = run_batch(["scans/*.pdf"], BatchOptions(out="ocr-out"))
>>> summary.pages, summary.failed, summary.pages_per_second

The CLI (``kocr batch``) is a thin layer over :func:`run_batch`. See docs/scale.md.
"""

from .options import BatchOptions, EngineSpec
from .plan import BatchItem, plan_batch
from .runner import BatchSummary, run_batch

__all__ = ["BatchOptions", "EngineSpec", "BatchItem", "BatchSummary", "plan_batch", "run_batch"]
