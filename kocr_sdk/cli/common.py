"""Pieces every ``kocr`` command shares: error reporting, progress bars, atomic writes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable, Iterator, NoReturn, TypeVar

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


def fail(message: str, code: int = 1) -> NoReturn:
    first, *rest = message.splitlines() or [""]
    click.echo(f"kocr: error: {first}", err=True)
    for line in rest:
        click.echo(f"  {line}", err=True)
    sys.exit(code)


def page_image_path(source: Path, out_dir: Path | None, page_index: int, n_pages: int, kind: str) -> Path:
    """``scan.png`` → ``scan.<kind>.png`` (``scan.p2.<kind>.png`` for a page of a multi-page file),
    in ``out_dir`` or beside the input: the images ``kocr read`` writes next to its text output."""
    directory = out_dir if out_dir is not None else source.parent
    suffix = f".p{page_index}" if n_pages > 1 else ""
    return directory / f"{source.stem}{suffix}.{kind}.png"


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


