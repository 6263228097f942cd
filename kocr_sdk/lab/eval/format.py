"""The evaluation JSONL format: one page a line, shared by every producer and consumer of pages.

The synthetic generator writes its ground truth in it, ``kocr read --format jsonl`` writes its
predictions in it, the dataset loaders convert public datasets into it, and the peers'
benchmark scripts write their predictions in it. Keeping *one* format means ``kocr eval``
always compares like with like, and a new dataset or a new peer needs a converter, not a new
scorer.

A line::

    {"image": "scan_001.png",
     "words": [{"text": "합계", "poly": [[x, y], [x, y], [x, y], [x, y]], "script": "hangul",
                "chars": [{"text": "합", "poly": [...]}, ...],     # optional
                "ignore": false,                                  # optional, "don't care"
                ...any extra word keys (label, entity_id, ...)}],
     "fields": {"total": "12,000원"},                             # optional
     ...any extra page keys (layout, font, seconds, ...)}

``poly`` holds four points in reading order (top-left, top-right, bottom-right, bottom-left as
the text reads), like every quad in kocr. Extra keys are kept, not rejected: producers carry
what they know (entity labels, fonts, layouts) and the evaluator can break figures down by it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ...atomic import write_text_atomic
from ...errors import KocrDataError

Poly = list[tuple[float, float]]


def _check_poly(value: Any) -> Any:
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise ValueError("poly must be 4 points [[x, y], [x, y], [x, y], [x, y]]")
    for point in value:
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            raise ValueError("each point of poly must be [x, y]")
    return value


class EvalChar(BaseModel):
    """One character's quad and text (spaces have none)."""

    model_config = ConfigDict(extra="allow")

    text: str = ""
    poly: Poly

    _poly = field_validator("poly", mode="before")(_check_poly)


class EvalWord(BaseModel):
    """A word of ground truth or of a prediction.

    ``ignore`` marks a "don't care" region (ICDAR's ``###``): it is neither a hit nor a miss,
    and a prediction lying mostly inside it is dropped rather than counted as a false positive.
    """

    model_config = ConfigDict(extra="allow")

    text: str = ""
    poly: Poly
    script: str | None = None
    chars: list[EvalChar] = Field(default_factory=list)
    ignore: bool = False

    _poly = field_validator("poly", mode="before")(_check_poly)


class EvalPage(BaseModel):
    """One page: its image (a path relative to the JSONL file's folder), words and fields."""

    model_config = ConfigDict(extra="allow")

    image: str
    words: list[EvalWord] = Field(default_factory=list)
    fields: dict[str, Any] = Field(default_factory=dict)

    @property
    def meta(self) -> dict[str, Any]:
        """The page's extra keys (layout, font, source, seconds ...)."""
        return dict(self.model_extra or {})

    def to_record(self) -> dict[str, Any]:
        """The JSON object of this page as written in a JSONL line (defaults left out)."""
        record: dict[str, Any] = {"image": self.image, "words": [_word_record(w) for w in self.words]}
        if self.fields:
            record["fields"] = self.fields
        record.update(self.meta)
        return record


def _word_record(word: EvalWord) -> dict[str, Any]:
    record: dict[str, Any] = {"text": word.text, "poly": [[_num(x), _num(y)] for x, y in word.poly]}
    if word.script is not None:
        record["script"] = word.script
    if word.chars:
        record["chars"] = [
            {"text": c.text, "poly": [[_num(x), _num(y)] for x, y in c.poly], **(c.model_extra or {})}
            for c in word.chars
        ]
    if word.ignore:
        record["ignore"] = True
    record.update(word.model_extra or {})
    return record


def _num(v: float) -> float | int:
    """Whole-pixel coordinates stay integers in the file, so converted datasets diff cleanly."""
    return int(v) if float(v).is_integer() else round(float(v), 2)


def parse_page(line: str, where: str) -> EvalPage:
    """One JSONL line as a page; ``where`` (``file:line``) prefixes every error message."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise KocrDataError(f"{where}: not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(data, dict):
        raise KocrDataError(f"{where}: a line must be a JSON object (one page), got {type(data).__name__}")
    try:
        return EvalPage.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'page'}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise KocrDataError(f"{where}: not a page of the evaluation format: {problems}") from None


def iter_pages(path: str | Path) -> Iterator[EvalPage]:
    """Pages of a JSONL file one at a time; blank lines are skipped."""
    path = Path(path)
    if not path.is_file():
        raise KocrDataError(f"{path}: no such file")
    with path.open(encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                yield parse_page(line, f"{path}:{number}")


def read_pages(path: str | Path, limit: int | None = None) -> list[EvalPage]:
    """The first ``limit`` pages (all when None) of a JSONL file."""
    pages = []
    for page in iter_pages(path):
        if limit is not None and len(pages) >= limit:
            break
        pages.append(page)
    return pages


def dumps_page(page: EvalPage | dict[str, Any]) -> str:
    """One page as a JSONL line (with its newline); Hangul is written as is, not escaped."""
    record = page.to_record() if isinstance(page, EvalPage) else EvalPage.model_validate(page).to_record()
    return json.dumps(record, ensure_ascii=False) + "\n"


def write_pages(path: str | Path, pages: Iterable[EvalPage | dict[str, Any]]) -> int:
    """Write pages to ``path`` as JSONL (parents created, written atomically); returns the count."""
    lines = [dumps_page(page) for page in pages]
    write_text_atomic(path, "".join(lines))
    return len(lines)
