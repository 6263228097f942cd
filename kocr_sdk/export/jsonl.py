"""The evaluation JSONL format: one page a line, ``{"image", "words": [{"text", "poly", "script"}], "fields"}``.

The same format is written by the synthetic generator as ground truth, by ``kocr read --format
jsonl`` as predictions, and by the dataset loaders, so ``kocr eval`` compares like with like.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the document model calls into this module: its names are for typing only
    from ..document import Document


def document_to_jsonl_records(doc: Document) -> list[dict[str, Any]]:
    """One evaluation record per page."""
    records = []
    for page in doc.pages:
        fields = {}
        if page.template_match is not None:
            fields = {name: f.value for name, f in page.template_match.fields.items()}
        records.append(
            {
                "image": Path(page.source).name if page.source and not page.source.startswith("<") else page.source,
                "words": [
                    {"text": w.text or "", "poly": [list(p) for p in w.quad], "script": w.script}
                    for w in page.words
                ],
                "fields": fields,
            }
        )
    return records
