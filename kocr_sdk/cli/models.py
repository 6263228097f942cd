"""``kocr models``: the weights kocr reads with, as their files describe themselves.

Why a command: a weights file carries settings the code does not show — the detector's scaling
and decoding (``inference``), a recogniser's name, scripts and crop width (``stage``), the step it
was trained to and its validation figures — and these, not the code's defaults, are what a read
uses. This prints them, and whether each file's shipped ONNX graph still matches it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import KocrError
from ..resources import WEIGHTS_DIR

_KINDS = (("targets", "detector"), ("classes", "script identifier"), ("charset", "recogniser"))


def describe(path: Path, graphs: list[dict[str, Any]]) -> dict[str, Any]:
    """What one weights file says of itself: kind, architecture, step, size, its settings, its graph."""
    from ..runtime.onnx import content_key
    from ..weights_file import read_meta

    meta = read_meta(path, "model")
    kind = next((name for key, name in _KINDS if key in meta), "weights")
    key = content_key([path])
    shipped = [g["file"] for g in graphs if g.get("sha256") == key]
    info: dict[str, Any] = {"file": path.name, "kind": kind, "arch": meta.get("arch"), "step": meta.get("step"),
                            "megabytes": round(path.stat().st_size / 1e6, 2), "onnx": shipped}
    for name in ("inference", "stage", "classes", "charset", "max_width"):
        if name in meta:
            info[name] = meta[name]
    return info


def _flat(prefix: str, value: Any) -> list[str]:
    if isinstance(value, dict):
        return [line for k, v in value.items() for line in _flat(f"{prefix}.{k}" if prefix else str(k), v)]
    return [f"{prefix}: {value}"]


@click.command("models")
@click.option("--dir", "directory", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A folder of weights files (default: the ones kocr ships).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
def models(directory: Path | None, as_json: bool) -> None:
    """The weights files and what each says of itself: kind, architecture, training step, the
    settings it brings (the detector's scaling and decoding, a recogniser's scripts), its ONNX graph."""
    from ..runtime.onnx import SHIPPED_DIR, read_manifest
    from .common import fail

    folder = directory or WEIGHTS_DIR
    graphs = read_manifest(SHIPPED_DIR).get("graphs", []) if directory is None else []
    found = []
    for path in sorted(folder.glob("*.safetensors")):
        try:
            found.append(describe(path, graphs))
        except KocrError as exc:
            found.append({"file": path.name, "error": str(exc)})
    if not found:
        fail(f"{folder}: no weights files (*.safetensors)")
    if as_json:
        click.echo(json.dumps(found, indent=1, ensure_ascii=False))
        return
    for info in found:
        if "error" in info:
            click.echo(f"{info['file']}: {info['error']}")
            continue
        graph = ", ".join(info["onnx"]) if info["onnx"] else "none shipped (exported with torch on first use)"
        click.echo(f"{info['file']}  {info['kind']}, {info['arch']}, step {info['step']}, {info['megabytes']} MB; "
                   f"ONNX: {graph}")
        for name in ("stage", "inference"):
            for line in _flat("", info.get(name)) if name in info else []:
                click.echo(f"    {name}.{line}")
