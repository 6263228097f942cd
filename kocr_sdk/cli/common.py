"""Pieces every ``kocr`` command shares: error reporting, progress bars, atomic writes."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NoReturn, TypeVar

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


#: Entry-point group of commands other distributions add to ``kocr`` (kocr's own lab among them:
#: ``kocr train``, ``kocr synth``, ``kocr eval``).
COMMANDS_GROUP = "kocr.commands"


class KocrCli(KocrGroup):
    """The top-level ``kocr`` group: the reading commands, plus the commands declared under the
    ``kocr.commands`` entry-point group, each imported only when it runs.

    This is how the training, data-generation and evaluation commands reach the CLI without the
    reading path importing them: they live in :mod:`kocr_sdk.lab`, which needs the ``[train]``
    extra, and a plugin distribution can add its own commands the same way.
    """

    def _declared(self) -> dict[str, metadata.EntryPoint]:
        return {ep.name: ep for ep in metadata.entry_points(group=COMMANDS_GROUP)}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._declared()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        entry = self._declared().get(name)
        if entry is None:
            return None
        try:
            return entry.load()
        except ImportError as exc:
            dist = entry.dist.name if entry.dist else "its distribution"
            extra = " (pip install 'kocr-sdk[train]')" if dist == "kocr-sdk" else ""
            fail(f"`kocr {name}` from {dist} cannot start: {exc}; install what it needs{extra}")


def fail(message: str, code: int = 1) -> NoReturn:
    first, *rest = message.splitlines() or [""]
    click.echo(f"kocr: error: {first}", err=True)
    for line in rest:
        click.echo(f"  {line}", err=True)
    sys.exit(code)


def output_names(paths: list[Path]) -> dict[Path, str]:
    """The name each input's outputs are written under: its stem, unless another input shares it.

    ``scan.png`` → ``scan`` (``scan.json``, ``scan.overlay.png``). Inputs whose stems collide —
    ``a/x.png``, ``b/x.png`` and ``a/x.jpg`` — keep their file suffix and their path below the
    folder they share (``a/x.png``, ``b/x.png``, ``a/x.jpg``), so that no output overwrites
    another's; the same file named twice is read twice into the same name.
    """
    by_stem: dict[str, list[Path]] = {}
    for p in dict.fromkeys(p.resolve() for p in paths):
        by_stem.setdefault(p.stem, []).append(p)
    names: dict[Path, str] = {}
    for stem, group in by_stem.items():
        if len(group) == 1:
            names[group[0]] = stem
            continue
        root = Path(os.path.commonpath([p.parent for p in group]))
        for p in group:
            names[p] = p.relative_to(root).as_posix()
    return {p: names[p.resolve()] for p in paths}


def output_path(source: Path, name: str, out_dir: Path | None, suffix: str) -> Path:
    """Where an output of ``source`` goes: ``<out_dir>/<name><suffix>``, or beside the input.

    Beside the input only the last part of ``name`` is used (``x.png`` for ``a/x.png``): that
    is enough to keep ``x.png`` and ``x.jpg`` of one folder apart.
    """
    if out_dir is None:
        return source.parent / (Path(name).name + suffix)
    target = out_dir / (name + suffix)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def page_image_path(source: Path, name: str, out_dir: Path | None, page_index: int, n_pages: int, kind: str) -> Path:
    """``scan.png`` → ``scan.<kind>.png`` (``scan.p2.<kind>.png`` for a page of a multi-page file),
    in ``out_dir`` or beside the input: the images ``kocr read`` writes next to its text output."""
    suffix = f".p{page_index}" if n_pages > 1 else ""
    return output_path(source, name, out_dir, f"{suffix}.{kind}.png")


def note(message: str) -> None:
    click.echo(f"kocr: {message}", err=True)


def _interactive() -> bool:
    """Whether progress may be drawn: stderr is a terminal (not a log file or a pipe)."""
    return sys.stderr.isatty()


def _bar(transient: bool = True) -> Any:
    """A rich progress bar drawn on stderr, so that it never mixes with output sent to stdout."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    return Progress(*columns, transient=transient, console=Console(stderr=True))


def progress(items: Iterable[T], total: int, description: str, quiet: bool = False) -> Iterator[T]:
    """A rich progress bar on stderr when it is a terminal and there is more than one item."""
    if quiet or total <= 1 or not _interactive():
        yield from items
        return
    with _bar() as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)


class PageProgress:
    """Progress over the pages of several files: hand :meth:`reading` to ``Engine.read(progress=)``.

    Inactive (every method does nothing) when there is no bar to draw.
    """

    def __init__(self, bar: Any = None, task: Any = None, counts: dict[Path, int] | None = None,
                 description: str = "") -> None:
        self._bar, self._task, self._counts, self._description = bar, task, counts or {}, description
        self._done = 0

    def reading(self, path: Path) -> Callable[[int, int | None, Any], None] | None:
        """The callback for ``Engine.read`` while ``path`` is read (None when inactive)."""
        if self._bar is None:
            return None
        self._bar.update(self._task, description=f"{self._description} {path.name}")
        base = self._done

        def advance(done: int, total: int | None, page: Any) -> None:
            self._bar.update(self._task, completed=base + done)

        return advance

    def finished(self, path: Path) -> None:
        """``path`` is done, read or failed: the bar moves past all the pages it was counted for."""
        if self._bar is not None:
            self._done += self._counts.get(path, 1)
            self._bar.update(self._task, completed=self._done)


@contextmanager
def page_progress(paths: list[Path], description: str, quiet: bool = False) -> Iterator[PageProgress]:
    """A bar over every page of ``paths`` on stderr when it is a terminal, unless ``quiet``.

    Why pages and not files: one 300-page PDF is one file, and a bar that waits on it says
    nothing for minutes. Pages are counted first without decoding (PDF page trees, TIFF frames);
    with one page in all there is no bar.
    """
    if quiet or not _interactive():
        yield PageProgress()
        return
    from ..io.images import count_pages

    counts: dict[Path, int] = {}
    for path in paths:
        try:
            counts[path] = count_pages(path)
        except KocrError:  # reading it reports the problem
            counts[path] = 1
    total = sum(counts.values())
    if total <= 1:
        yield PageProgress()
        return
    with _bar() as bar:
        yield PageProgress(bar, bar.add_task(description, total=total), counts, description)


