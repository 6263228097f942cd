"""``kocr``: read pages, inspect plugins and templates, export the schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .. import __version__
from ..errors import KocrError
from .common import KocrCli, KocrGroup, fail, note, output_names, output_path, page_progress
from ..atomic import write_text_atomic

FORMATS = ("json", "text", "hocr", "alto", "markdown", "pdf", "jsonl")
SUFFIX = {"json": ".json", "text": ".txt", "hocr": ".hocr", "alto": ".xml", "markdown": ".md", "pdf": ".pdf",
          "jsonl": ".jsonl"}


@click.group(cls=KocrCli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kocr")
def cli() -> None:
    """kocr — Korean-first document understanding: page images in, typed Documents out."""


def _engine(config: str | None, device: str | None, template: str | None):
    from ..engine import Engine

    overrides = {}
    if device:
        overrides["device"] = device
    if template:
        overrides["template"] = template
    return Engine(config, **overrides)


def _render(doc, fmt: str) -> str:
    if fmt == "json":
        return doc.model_dump_json(indent=2) + "\n"
    if fmt == "text":
        return doc.text + "\n"
    if fmt == "hocr":
        return doc.to_hocr()
    if fmt == "alto":
        return doc.to_alto()
    if fmt == "markdown":
        return doc.to_markdown()
    from ..export import document_to_jsonl_records

    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in document_to_jsonl_records(doc))


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True,
              help="Output format. pdf writes a searchable PDF file per input (<name>.pdf, in --out or beside "
                   "the input): the page images with the text read as an invisible, selectable layer.")
@click.option("--template", help="Use only this template: an id from `kocr templates list`, or a YAML path.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Write one file per input here instead of stdout.")
@click.option("--config", type=click.Path(dir_okay=False), help="Engine config YAML.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Override the config's device.")
@click.option("--redact", "redact", metavar="LABELS",
              help="Mask these entities (e.g. PERSON,RRN,PHONE): a copy of each image with their words "
                   "filled black (<name>.redacted.png, in --out or beside the input) and their text masked.")
@click.option("--overlay", is_flag=True,
              help="Also write a picture of what was read (<name>.overlay.png, in --out or beside the input): "
                   "word boxes coloured by script and template fields on the page, the recognised text beside it.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no notes on stderr.")
def read(files, fmt, template, out, config, device, redact, overlay, quiet) -> None:
    """Read page images (files or directories) into Documents."""
    from ..io.images import iter_input_files

    if fmt == "pdf":  # before reading anything: say now if the PDF writer is not installed
        from ..export.pdf import require_fpdf

        require_fpdf()
    labels = None
    if redact is not None:
        from ..ner.redact import parse_labels

        labels = parse_labels(redact)
    engine = _engine(config, device, template)
    paths = iter_input_files(files)
    names = output_names(paths)
    failures = 0
    missing_noted = False
    bar = click.get_current_context().with_resource(page_progress(paths, "reading", quiet))
    for path in paths:
        try:
            doc = engine.read(path, progress=bar.reading(path))
        except KocrError as exc:
            failures += 1
            click.echo(f"kocr: error: {str(exc).splitlines()[0]}", err=True)
            continue
        finally:
            bar.finished(path)
        if not quiet and not missing_noted:
            missing = {r.stage: r.message for p in doc.pages for r in p.missing_stages}
            for stage, msg in missing.items():
                note(f"note: stage {stage!r} did not run: {msg}")
            missing_noted = True
        if labels is not None:
            from .redact import redact_outputs

            doc = redact_outputs(doc, path, labels, out, engine.config.input.max_pixels, quiet, engine.config.recognition.crop_margin,
                                 names[path])
        if overlay:
            from .overlay import write_overlays

            write_overlays(doc, path, out, engine.config.input.max_pixels, quiet, labels, engine.config.recognition.crop_margin, names[path])
        if fmt == "pdf":
            from .pdf import write_pdf

            write_pdf(doc, path, out, engine.config.input.max_pixels, engine.config.pdf.dpi, quiet, labels,
                      engine.config.recognition.crop_margin, names[path])
            continue
        text = _render(doc, fmt)
        if out is not None:
            write_text_atomic(output_path(path, names[path], out, SUFFIX[fmt]), text)
        else:
            sys.stdout.write(text)
    if failures:
        fail(f"{failures} of {len(paths)} inputs could not be read")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins(as_json: bool) -> None:
    """List every loaded plugin, its distribution and version, the hooks it implements and what it registers.

    Template folders that do not exist or hold no YAML are warned about (on stderr, and in each
    plugin's "warnings" with --json): a plugin installed without its package data looks like that.
    """
    from ..plugins import load_registry

    registry = load_registry()
    warnings = registry.template_warnings()
    rows = [
        {"plugin": p.name, "distribution": p.distribution, "version": p.version, "hooks": registry.hooks_of(p),
         "registers": registry.registered_by(p),
         "warnings": [line for owner, line in warnings if owner == p]}
        for p in registry.plugins
    ]
    for _owner, line in warnings:
        note(f"warning: {line}")
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        version = f" {row['version']}" if row["version"] else ""
        click.echo(f"{row['plugin']}  ({row['distribution']}{version})")
        click.echo(f"    hooks: {', '.join(row['hooks']) or '(none)'}")
        for item in row["registers"]:
            click.echo(f"    {item}")
    empty = [stage for stage, regs in registry.stages.items() if not regs]
    if empty:
        click.echo("\nstages with no implementation installed: " + ", ".join(empty))


@cli.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the schema to this file.")
def schema(out: Path | None) -> None:
    """Print the JSON Schema of the Document kocr produces."""
    from ..document import Document

    text = json.dumps(Document.json_schema(), indent=2, ensure_ascii=False) + "\n"
    if out:
        write_text_atomic(out, text)
    else:
        sys.stdout.write(text)


@cli.group(cls=KocrGroup)
def templates() -> None:
    """Form templates: list the registered ones, validate YAML files."""


@templates.command("list")
def templates_list() -> None:
    """List registered templates (id, name, version, file)."""
    from ..plugins import load_registry
    from ..templates import discover_templates

    registry = load_registry()
    for _owner, line in registry.template_warnings():
        note(f"warning: {line}")
    found = discover_templates(d for d, _ in registry.template_dirs)
    if not found:
        click.echo("no templates registered")
    for t in found:
        click.echo(f"{t.id}\t{t.name}\tv{t.version}\t{t.source}")


@templates.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def templates_validate(paths) -> None:
    """Validate template YAML files (or directories of them): the format, unknown keys (with the key
    meant), entity labels (kocr's and those installed entity recognisers declare) and language codes."""
    from ..plugins import load_registry
    from ..templates import load_template

    labels = load_registry().entity_labels()
    files = [q for p in paths for q in (sorted(p.glob("*.y*ml")) if p.is_dir() else [p])]
    bad = 0
    for f in files:
        try:
            t = load_template(f, labels)
            click.echo(f"ok  {f}  ({t.id}, {len(t.fields)} fields)")
        except KocrError as exc:
            bad += 1
            click.echo(str(exc), err=True)
    if bad:
        fail(f"{bad} of {len(files)} templates are invalid")


from .batch import batch  # noqa: E402
from .config import config  # noqa: E402
from .export import export  # noqa: E402
from .models import models  # noqa: E402

cli.add_command(batch)
cli.add_command(config)
cli.add_command(export)
cli.add_command(models)


def main() -> None:
    """Console-script entry point."""
    try:
        cli(prog_name="kocr")
    except KocrError as exc:  # raised outside a command's invoke (e.g. while loading plugins)
        fail(str(exc))


if __name__ == "__main__":
    main()
