"""``kocr export``: the built-in models in formats other runtimes load."""

from __future__ import annotations

from pathlib import Path

import click

from .common import KocrGroup, fail


@click.group(cls=KocrGroup)
def export() -> None:
    """Export models for other runtimes (ONNX)."""


@export.command("onnx")
@click.option("--detector", "detector", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Detector weights (default: the shipped ones, when present).")
@click.option("--script-id", "script_id", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Script-identifier weights (default: the shipped ones, when present).")
@click.option("--recognizer", "recognizers", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Recogniser weights; repeat for several (default: every shipped vitstr-*.pt).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for <weights name>.onnx files. Default: the cache `runtime: onnx` reads "
                   "($KOCR_ONNX_CACHE or ~/.cache/kocr/onnx).")
@click.option("--quantize", is_flag=True, help="Also write int8 (dynamic) versions of the recognisers.")
def export_onnx(detector, script_id, recognizers, out, quantize) -> None:
    """Export the detector, script identifier and recognisers to ONNX (extra [onnx])."""
    from ..detection import detector as det
    from ..recognition.vitstr import recognizer as rec
    from ..runtime.onnx import export_weights_file
    from ..script_id import identifier as sid

    jobs: list[tuple[str, Path]] = []
    explicit = bool(detector or script_id or recognizers)
    if detector or (not explicit and det.WEIGHTS_PATH.exists()):
        jobs.append(("detector", detector or det.WEIGHTS_PATH))
    if script_id or (not explicit and sid.WEIGHTS_PATH.exists()):
        jobs.append(("script-id", script_id or sid.WEIGHTS_PATH))
    for path in recognizers or ([] if explicit else sorted(rec.WEIGHTS_DIR.glob("vitstr-*.pt"))):
        jobs.append(("recognizer", path))
    if not jobs:
        fail("no weights to export: none ship with this installation; pass --detector/--script-id/--recognizer")
    for kind, path in jobs:
        target = out / (path.stem + ".onnx") if out else None
        written = export_weights_file(kind, path, target)
        click.echo(f"{kind:10s} {path} → {written}")
        if quantize and kind == "recognizer":
            q = export_weights_file(kind, path, target, quantize=True)
            click.echo(f"{kind:10s} {path} → {q} (int8)")
