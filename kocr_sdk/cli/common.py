"""Pieces every ``kocr`` command shares: error reporting, progress bars, atomic writes."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Iterator, TypeVar

import click

from ..errors import KocrError

T = TypeVar("T")


class KocrGroup(click.Group):
    """A click group that turns every :class:`KocrError` into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KocrError as exc:
            fail(str(exc))


def fail(message: str, code: int = 1) -> "NoReturn":  # type: ignore[name-defined]  # noqa: F821
    first, *rest = message.splitlines() or [""]
    click.echo(f"kocr: error: {first}", err=True)
    for line in rest:
        click.echo(f"  {line}", err=True)
    sys.exit(code)


def note(message: str) -> None:
    click.echo(f"kocr: {message}", err=True)


def progress(items: Iterable[T], total: int, description: str, quiet: bool = False) -> Iterator[T]:
    """A rich progress bar on stderr when it is a terminal and there is more than one item."""
    if quiet or total <= 1 or not sys.stderr.isatty():
        yield from items
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader never sees half a file (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
