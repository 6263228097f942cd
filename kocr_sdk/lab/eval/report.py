"""The evaluation report: one JSON document for machines, one table for people.

The JSON keeps every figure and count (``None`` where nothing could be measured, never a zero
standing in for "not run"), so that benchmark scripts and docs/benchmarks.md can quote it; the
table shows the figures a reader compares tools on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

#: Table columns: (figure key, header, how to format).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("pages", "pages", "int"),
    ("gt_words", "words", "int"),
    ("word_precision", "det P", "ratio"),
    ("word_recall", "det R", "ratio"),
    ("word_hmean", "det H", "ratio"),
    ("char_hmean", "char det H", "ratio"),
    ("e2e_hmean", "e2e H", "ratio"),
    ("cer", "CER", "ratio"),
    ("char_f1", "char F1", "ratio"),
    ("word_accuracy", "word acc", "ratio"),
    ("script_accuracy", "script acc", "ratio"),
    ("crop_accuracy", "crop acc", "ratio"),
    ("field_exact_match", "field EM", "ratio"),
    ("pages_per_second", "pages/s", "speed"),
)


class EvalReport(BaseModel):
    """Figures overall, per script, and per value of each page key asked for."""

    sources: dict[str, str] = Field(default_factory=dict, description="What was scored against what.")
    iou_threshold: float
    overall: dict[str, Any]
    by_script: dict[str, dict[str, Any]] = Field(default_factory=dict)
    by: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)
    missing_stages: dict[str, str] = Field(default_factory=dict)
    detection_errors: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Why words went unmatched, over all pages: 'misses' (ground-truth "
        "words: merged / split / loose / missed) and 'extras' (predictions), as kocr_sdk.lab.eval.errors defines them.")
    notes: list[str] = Field(default_factory=list)

    def rows(self) -> list[tuple[str, dict[str, Any]]]:
        """(label, figures) for every row of the table: overall, scripts, then each breakdown."""
        rows = [("all", self.overall)]
        rows += [(f"script={s}", f) for s, f in self.by_script.items()]
        for key, groups in self.by.items():
            rows += [(f"{key}={v}", f) for v, f in groups.items()]
        return rows

    def to_json(self) -> str:
        return json.dumps(self.model_dump(), indent=2, ensure_ascii=False) + "\n"

    def write(self, path: str | Path) -> None:
        from ...atomic import write_text_atomic

        write_text_atomic(path, self.to_json())

    def table(self):
        """A rich Table of the rows; columns nothing was measured for are left out."""
        from rich.table import Table

        rows = self.rows()
        columns = [c for c in COLUMNS if c[2] == "int" or any(f.get(c[0]) is not None for _, f in rows)]
        table = Table(title=f"kocr eval (IoU ≥ {self.iou_threshold:g})", title_justify="left")
        table.add_column("", no_wrap=True)
        for _, header, _ in columns:
            table.add_column(header, justify="right")
        for i, (label, figs) in enumerate(rows):
            table.add_row(label, *(_format(figs.get(key), kind) for key, _, kind in columns),
                          end_section=i == 0 or (i == len(self.by_script) and bool(self.by)))
        return table

    def print(self, console=None) -> None:
        """The table, then the notes (missing stages first), to ``console`` (stdout by default)."""
        from rich.console import Console

        if console is None:
            console = Console()
            if not console.is_terminal:  # a pipe or a file: no terminal width to respect
                console = Console(width=160)
        console.print(self.table())
        misses, extras = self.detection_errors.get("misses"), self.detection_errors.get("extras")
        if misses and sum(misses.values()):
            console.print("unmatched words: " + ", ".join(f"{k} {v}" for k, v in misses.items())
                          + "; unmatched predictions: " + ", ".join(f"{k} {v}" for k, v in (extras or {}).items()),
                          highlight=False)
        for note in self.notes:
            console.print(f"note: {note}", style="yellow", highlight=False)


def _format(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "int":
        return str(value)
    if kind == "speed":
        return f"{value:.2f}"
    return f"{value:.3f}"
