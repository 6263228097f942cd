"""``kocr export``: the built-in models in formats other runtimes load."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import KocrConfigError
from .common import KocrGroup, fail

if TYPE_CHECKING:  # torch and onnx load only when a model is exported
    import torch

    from ..runtime.onnx import Quantizer

KINDS = ("detector", "script-id", "recognizer")


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
                   "(static, calibrated on --calibration's pages). Unset `quantize` options use them where the "
                   "CPU has an int8 dot product (VNNI).")
@click.option("--calibration", type=click.Path(exists=True, path_type=Path),
              help="Images (a folder, or a PDF) the detector's int8 ranges are calibrated on, up to 8 pages: "
                   "your own documents fit them best. Default: the bundled sample page.")
@click.option("--package", is_flag=True,
              help="Write the graphs the onnx runtime runs by default on a CPU, for the shipped weights, into the "
                   "package (kocr_sdk/weights/onnx/, or --out) with their manifest: what lets `runtime: onnx` read "
                   "pages without torch. Run it after retraining any shipped weights.")
def export_onnx(detector, script_id, recognizers, ner, out, quantize, calibration, package) -> None:
    """Export the detector, script identifier, recognisers and NER model to ONNX (extra [onnx])."""
    if package:
        if detector or script_id or recognizers or ner or quantize or calibration:
            fail("--package writes the shipped weights' default graphs; it takes no other option but --out")
        for entry in package_graphs(out):
            click.echo(f"{entry['kind']:10s} {', '.join(entry['sources'])} → {entry['file']}"
                       f"{' (int8)' if entry['int8'] else ''}")
        return
    from ..detection.anchor_free import stage as det
    from ..ner import recognizer as ner_stage
    from ..recognition import stage as rec
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
            written = export_weights_file(kind, path, target, int8_quantizer(kind, path, calibration) if quantize else None)
        for k, file in enumerate(written):
            click.echo(f"{kind:10s} {path} → {file}{' (int8)' if k else ''}")


def load_for_export(kind: str, weights: str | Path) -> torch.nn.Module:
    """The inference-ready torch module of a weights file, as the stage would build it."""
    weights = Path(weights)
    if kind == "detector":
        from ..detection.anchor_free.inference import load_weights

        return load_weights(weights)[0]
    if kind == "script-id":
        from ..script_id.identifier import load_weights as load_script
        from ..script_id.model import fuse_for_inference

        return fuse_for_inference(load_script(weights)[0])
    if kind == "recognizer":
        from ..recognition.stage import load_weights as load_rec

        return load_rec(weights)[0]
    raise KocrConfigError(f"unknown model kind {kind!r}; one of {', '.join(KINDS)}")


def int8_quantizer(kind: str, weights: str | Path, calibration: Path | None = None) -> Quantizer | None:
    """How a model kind is made int8, as its stage does it: the recogniser's MatMuls dynamically,
    the detector's convolutions statically (calibrated, :mod:`kocr_sdk.detection.anchor_free.calibration`);
    None for the script identifier, which stays fp32 (a 105k-parameter CNN: nothing to gain)."""
    if kind == "recognizer":
        from ..runtime.onnx import quantize_int8

        return quantize_int8
    if kind == "detector":
        from ..detection.anchor_free.calibration import detector_quantizer
        from ..weights_file import read_meta

        meta = read_meta(weights, "detector")  # the settings, not a second model (a safetensors header)
        return detector_quantizer(meta.get("inference", {}), calibration)
    return None


def export_weights_file(kind: str, weights: str | Path, out: str | Path | None = None,
                        quantizer: Quantizer | None = None) -> list[Path]:
    """Export a weights file to ``out`` (default: the cache, where ``runtime: onnx`` looks first),
    and its int8 twin beside it with a ``quantizer``; the paths written.

    Into the cache, weights whose fp32 graph ships get their int8 twin made from the shipped
    graph, where the runtime looks for it (:func:`~kocr_sdk.runtime.onnx.graph_path`): so a
    detector calibrated on the user's own pages is the one the runtime then runs."""
    from ..runtime.export import export_detector, export_recognizer, export_script_identifier, weights_key
    from ..runtime.onnx import cache_dir, content_key, int8_cache_path, shipped_graph

    exporters = {"detector": export_detector, "script-id": export_script_identifier, "recognizer": export_recognizer}
    model = load_for_export(kind, weights)
    path = Path(out) if out else cache_dir() / f"{kind}-{weights_key(weights, model)}.onnx"
    exporters[kind](model, path)
    if quantizer is None:
        return [path]
    written = [path, quantizer(path, path.with_name(path.stem + "-int8.onnx"))]
    key = content_key([weights])
    shipped = shipped_graph(key, False)
    if out is None and shipped is not None:
        written.append(quantizer(shipped, int8_cache_path(kind, key)))
    return written


def package_graphs(out: Path | None = None) -> list[dict]:
    """Export the shipped weights' default CPU graphs into ``out`` (default: the package's
    ``weights/onnx``) and write their manifest; the manifest's entries.

    Which graphs: what ``runtime: onnx`` runs on a CPU with every ``quantize`` option unset and
    no int8 dot product — the detector, script identifier and NER model in fp32, the recognisers
    int8 (their CPU default everywhere). A CPU with an int8 dot product derives the detector's
    and NER's int8 graphs from these with onnxruntime alone. Each entry records the sha256 of
    the files the graph came from; the runtime runs a graph only for files of that hash.
    """
    import json
    import tempfile

    import onnxruntime
    import torch

    from ..atomic import atomic_path
    from ..detection.anchor_free import stage as det
    from ..ner import recognizer as ner_stage
    from ..ner.onnx import export_token_classifier, model_sources
    from ..recognition import stage as rec
    from ..resources import WEIGHTS_DIR
    from ..runtime.export import export_detector, export_recognizer, export_script_identifier
    from ..runtime.onnx import MANIFEST, SHIPPED_DIR, content_key, quantize_int8
    from ..script_id import identifier as sid

    out = Path(out or SHIPPED_DIR)
    out.mkdir(parents=True, exist_ok=True)
    entries: list[dict] = []

    def add(kind: str, sources: list[Path], file: str, int8: bool) -> None:
        entries.append({"kind": kind, "file": file, "int8": int8,
                        "sources": [p.relative_to(WEIGHTS_DIR).as_posix() for p in sources],
                        "sha256": content_key(sources)})

    if det.WEIGHTS_PATH.exists():
        export_detector(load_for_export("detector", det.WEIGHTS_PATH), out / "detector-anchor-free.onnx")
        add("detector", [det.WEIGHTS_PATH], "detector-anchor-free.onnx", False)
    if sid.WEIGHTS_PATH.exists():
        export_script_identifier(load_for_export("script-id", sid.WEIGHTS_PATH), out / "script-id.onnx")
        add("script-id", [sid.WEIGHTS_PATH], "script-id.onnx", False)
    for cls in rec.shipped_recognizers():
        path = cls.weights_dir / cls.weights
        if rec.read_meta(path, "recogniser").get("arch") not in rec.vit_config.ARCHS:
            continue  # other architectures run on torch on either runtime
        with tempfile.TemporaryDirectory() as tmp:
            fp32 = export_recognizer(load_for_export("recognizer", path), Path(tmp) / "fp32.onnx")
            quantize_int8(fp32, out / f"{path.stem}-int8.onnx")
        add("recognizer", [path], f"{path.stem}-int8.onnx", True)
    if (ner_stage.WEIGHTS_DIR / "config.json").is_file():
        export_token_classifier(ner_stage.WEIGHTS_DIR, out / f"{ner_stage.WEIGHTS_DIR.name}.onnx")
        add("ner", model_sources(ner_stage.WEIGHTS_DIR), f"{ner_stage.WEIGHTS_DIR.name}.onnx", False)
    for stale in set(out.glob("*.onnx")) - {out / e["file"] for e in entries}:
        stale.unlink()
    manifest = {"opset": 17, "exported_with": {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__},
                "graphs": entries}
    with atomic_path(out / MANIFEST) as tmp:
        Path(tmp).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return entries
