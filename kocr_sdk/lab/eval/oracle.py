"""Ground truth standing in for OCR ("oracle OCR"): a Page built from a labelled record's words.

Stages after recognition (clustering, template matching) are measured on their own by feeding
them pages whose words are exactly right: the text and quads of the ground truth, in the order
the record lists them. A failure there is the stage's, never the reader's. Words the record marks
``ignore`` (cut off by the page edge) are left out, as an OCR engine could not read them either.
"""

from __future__ import annotations

from typing import Any

from ...document import Char, Page, Word


def page_from_record(record: dict[str, Any], index: int = 0) -> Page:
    """A Page whose words are ``record``'s ground-truth words (``kocr synth``/eval JSONL format)."""
    words = []
    for i, w in enumerate(record.get("words", [])):
        if w.get("ignore"):
            continue
        wid = f"p{index}-w{i}"
        chars = [Char(id=f"{wid}-c{j}", quad=tuple(map(tuple, c["poly"])), text=c.get("text"))
                 for j, c in enumerate(w.get("chars") or []) if len(c.get("poly") or []) == 4]
        words.append(Word(id=wid, quad=tuple(map(tuple, w["poly"])), text=w["text"], chars=chars,
                          script=w.get("script"), text_confidence=1.0))
    return Page(index=index, source=record.get("image"), width=int(record["width"]), height=int(record["height"]),
                orientation=int(record.get("orientation", 0)) % 360, words=words)
