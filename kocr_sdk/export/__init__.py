"""Writing Documents in formats other tools read: hOCR, ALTO, Markdown, searchable PDF, evaluation JSONL.

The PDF writer (:mod:`kocr_sdk.export.pdf`) needs the ``pdf`` extra and is imported only when used.
"""

from .alto import document_to_alto
from .hocr import document_to_hocr
from .jsonl import document_to_jsonl_records
from .markdown import document_to_markdown

__all__ = ["document_to_alto", "document_to_hocr", "document_to_jsonl_records", "document_to_markdown"]
