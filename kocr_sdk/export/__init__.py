"""Writing Documents in formats other tools read: plain text, hOCR, evaluation JSONL."""

from .hocr import document_to_hocr
from .jsonl import document_to_jsonl_records

__all__ = ["document_to_hocr", "document_to_jsonl_records"]
