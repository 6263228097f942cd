"""``kocr batch``: many files through the engine, resumable, on a process pool or Ray."""

from __future__ import annotations

import sys

import click

from .common import fail, note


class _RichReporter:
    """A rich progress bar (pages, pages/s, ETA) on stderr, and one line per failed input."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = None
        self.task = None

    def start(self, total_pages: int, skipped_pages: int) -> None:
        if self.quiet or total_pages == 0:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
        from rich.text import Text

        class Speed(ProgressColumn):
            def render(self, task):
                return Text(f"{task.speed:.2f} pages/s" if task.speed else "… pages/s")

        self.bar = Progress(TextColumn("pages"), BarColumn(), MofNCompleteColumn(), Speed(), TextColumn("ETA"),
                            TimeRemainingColumn(), console=Console(stderr=True), transient=False,
                            disable=not sys.stderr.isatty())
        self.bar.start()
        self.task = self.bar.add_task("pages", total=total_pages)

    def advance(self, pages: int) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, pages)

    def input_done(self, item, error) -> None:
        if error is not None and not self.quiet:
            first = error.splitlines()[0] if error else ""
            self.note(f"failed: {first}" if first.startswith(item.path) else f"failed: {item.path}: {first}")

    def chunk(self, result) -> None:
        pass

    def note(self, message: str) -> None:
        if self.bar is not None:
            self.bar.console.print(f"kocr: {message}", highlight=False, markup=False)
        else:
            note(message)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", required=True, metavar="DIR|URL",
              help="Folder for one output per input, _done.jsonl and _failures.jsonl; or an fsspec URL "
                   "(s3://bucket/prefix, gs://..., with the protocol's package installed).")
@click.option("--format", "formats", type=click.Choice(["json", "hocr"]), multiple=True, default=("json",),
              show_default=True, help="Output format; repeat for several.")
@click.option("--workers", type=click.IntRange(1), help="Worker processes (Ray: actors). Default: one per core.")
@click.option("--threads", type=click.IntRange(1), help="torch threads per worker. Default: cores / workers.")
@click.option("--chunk-pages", type=click.IntRange(1), default=4, show_default=True,
              help="Pages a task: long PDFs are spread over the workers this many at a time.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="Run on Ray Data; with no ADDRESS a local Ray instance is started (extra [ray]).")
@click.option("--dpi", type=click.FloatRange(18, 1200), help="PDF rasterisation dpi (default: the config's, 150).")
@click.option("--pdf-text-layer", type=click.Choice(["report", "use"]),
              help="Pages with their own text layer: mark them (report) or take their words as they are (use).")
@click.option("--runtime", type=click.Choice(["auto", "torch", "onnx"]), help="Run the built-in models on torch or onnxruntime (default auto: onnxruntime on a CPU).")
@click.option("--redo", is_flag=True, help="Read every input again, even those already done.")
@click.option("--wait", is_flag=True, help="If another kocr batch run holds OUT, wait for it to end (default: refuse).")
@click.option("--recursive", "-r", is_flag=True, help="Search directories recursively.")
@click.option("--config", type=click.Path(dir_okay=False), help="Engine config YAML.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Override the config's device.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no notes; the summary only.")
def batch(inputs, out, formats, workers, threads, chunk_pages, ray_address, dpi, pdf_text_layer, runtime, redo,
          wait, recursive, config, device, quiet) -> None:
    """Read many files (images, multi-page TIFFs, PDFs; directories and globs) into OUT.

    One output per input, written atomically (inputs with the same name in different folders
    get their folders: OUT/a/x.png.json, OUT/b/x.png.json). Re-running skips inputs already
    done (by content hash: a changed file is redone); failed inputs go to OUT/_failures.jsonl
    and the rest go on; Ctrl-C stops cleanly and the same command resumes. One run at a time
    on OUT; workers end with the run, however it ends.
    """
    from ..batch import BatchOptions, EngineSpec, run_batch
    from ..config import EngineConfig

    overrides = {k: v for k, v in {"device": device, "pdf_dpi": dpi, "pdf_text_layer": pdf_text_layer,
                                   "runtime": runtime}.items() if v is not None}
    spec = EngineSpec(EngineConfig.load(config, **overrides))
    options = BatchOptions(out=out, formats=list(dict.fromkeys(formats)), workers=workers, threads=threads,
                           chunk_pages=chunk_pages, redo=redo, recursive=recursive, wait=wait,
                           backend="ray" if ray_address else "auto",
                           ray_address=None if ray_address in (None, "local") else ray_address)
    reporter = _RichReporter(quiet)
    try:
        summary = run_batch(inputs, options, spec, reporter)
    finally:
        reporter.stop()
    rate = f"{summary.pages_per_second:.2f} pages/s" if summary.pages else "no pages read"
    click.echo(
        f"kocr batch: {summary.done} inputs written, {summary.skipped} already done, {summary.failed} failed; "
        f"{summary.pages} pages in {summary.seconds:.1f} s ({rate}; {summary.backend}, "
        f"{summary.workers} worker{'s' if summary.workers != 1 else ''} × {summary.threads} "
        f"thread{'s' if summary.threads != 1 else ''}) → {summary.out}",
        err=True,
    )
    if summary.failed:
        click.echo(f"kocr batch: failures are listed in {str(summary.out).rstrip('/')}/_failures.jsonl", err=True)
    if summary.interrupted:
        fail("interrupted; run the same command again to resume", code=130)
    if summary.failed:
        sys.exit(1)
