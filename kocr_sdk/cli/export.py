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
              help="Recogniser weights; repeat for several (default: every shipped vitstr-*.safetensors).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for <weights name>.onnx files. Default: the cache `runtime: onnx` reads "
                   "($KOCR_ONNX_CACHE or ~/.cache/kocr/onnx).")
@click.option("--ner", "ner", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="NER model directory (Hugging Face token classifier; default: the shipped one, when present).")
@click.option("--quantize", is_flag=True,
              help="Also write the int8 versions: the recognisers' and NER's (dynamic) and the detector's "
                   "(static, calibrated on generated pages). Unset `quantize` options use them where the "
                   "CPU has an int8 dot product (VNNI).")
def export_onnx(detector, script_id, recognizers, ner, out, quantize) -> None:
    """Export the detector, script identifier, recognisers and NER model to ONNX (extra [onnx])."""
    from ..detection import detector as det
    from ..ner import recognizer as ner_stage
    from ..recognition.vitstr import recognizer as rec
    from ..runtime.onnx import export_weights_file, int8_quantizer
    from ..script_id import identifier as sid

    jobs: list[tuple[str, Path]] = []
    explicit = bool(detector or script_id or recognizers or ner)
    if detector or (not explicit and det.WEIGHTS_PATH.exists()):
        jobs.append(("detector", detector or det.WEIGHTS_PATH))
    if script_id or (not explicit and sid.WEIGHTS_PATH.exists()):
        jobs.append(("script-id", script_id or sid.WEIGHTS_PATH))
    for path in recognizers or ([] if explicit else sorted(rec.WEIGHTS_DIR.glob("vitstr-*.safetensors"))):
        jobs.append(("recognizer", path))
    if ner or (not explicit and (ner_stage.WEIGHTS_DIR / "config.json").is_file()):
        jobs.append(("ner", ner or ner_stage.WEIGHTS_DIR))
    if not jobs:
        fail("no weights to export: none ship with this installation; pass --detector/--script-id/--recognizer/--ner")
    for kind, path in jobs:
        target = out / (path.stem + ".onnx") if out else None
        if kind == "ner":  # a model directory, not a weights file
            from ..ner.onnx import onnx_path

            written = [onnx_path(path, out=target)] + ([onnx_path(path, quantize=True, out=target)] if quantize else [])
        else:
            written = export_weights_file(kind, path, target, int8_quantizer(kind, path) if quantize else None)
        for k, file in enumerate(written):
            click.echo(f"{kind:10s} {path} → {file}{' (int8)' if k else ''}")
