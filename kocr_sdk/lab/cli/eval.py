"""``kocr eval``: score predictions, or the installed engine, against a ground-truth JSONL file."""

from __future__ import annotations

from pathlib import Path

import click

from ...cli.common import note, progress


def _keys(value: str | None) -> list[str] | None:
    if value is None:
        return None
    if value.strip().lower() in ("", "none"):
        return []
    return [k.strip() for k in value.split(",") if k.strip()]


@click.command("eval")
@click.argument("gt", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pred", type=click.Path(dir_okay=False, path_type=Path),
              help="Predictions in the same JSONL format (e.g. from `kocr read --format jsonl`). "
                   "Without it, the engine reads the ground-truth images.")
@click.option("--images", type=click.Path(file_okay=False, path_type=Path),
              help="Folder the ground truth's image paths are relative to (default: the GT file's folder).")
@click.option("--by", help="Comma-separated page keys to break figures down by (e.g. layout,font); "
                           "default: every page key with 2-30 distinct values; 'none' for no breakdown.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the JSON report here.")
@click.option("--limit", type=click.IntRange(min=1), help="Score only the first N ground-truth pages.")
@click.option("--crops/--no-crops", default=None,
              help="Also read every ground-truth word crop with the recogniser (default: on without --pred).")
@click.option("--gt-scripts", is_flag=True, help="Read ground-truth crops with the recogniser of the GT script "
                                                 "instead of the script identifier's choice.")
@click.option("--iou", type=click.FloatRange(0.0, 1.0, min_open=True), default=0.5, show_default=True,
              help="IoU a predicted quad needs with a ground-truth quad to match it.")
@click.option("--config", type=click.Path(dir_okay=False), help="Engine config YAML (engine mode).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Override the config's device.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar; print only the table.")
def eval_cmd(gt, pred, images, by, out, limit, crops, gt_scripts, iou, config, device, quiet) -> None:
    """Score OCR against ground truth: detection, end-to-end, CER, char F1, fields, speed.

    GT and predictions are JSONL files, one page a line (docs/evaluation.md). With --pred the
    predictions are scored as they are; without it the installed engine reads every image.
    """
    from ..eval.format import read_pages
    from ..eval.runner import Predictions, evaluate, pair_predictions, run_engine

    gt_pages = read_pages(gt, limit)
    image_root = images or gt.parent
    if crops is None:
        crops = pred is None
    sources = {"gt": str(gt)}
    predictions: Predictions
    if pred is not None:
        predictions = pair_predictions(gt_pages, read_pages(pred), subset=limit is not None)
        sources["pred"] = str(pred)
    if pred is None or crops:
        from ...cli.main import _engine

        engine = _engine(config, device, None)
        sources["engine"] = ", ".join(f"{k}={v}" for k, v in engine.describe().items())
        ran = run_engine(
            engine, gt_pages, image_root, pages=pred is None, crops=crops, gt_scripts=gt_scripts,
            progress=lambda items, n: progress(items, n, "evaluating", quiet),
        )
        if pred is None:
            predictions = ran
        else:
            predictions.crop_texts = ran.crop_texts
            predictions.notes += ran.notes
            if "recognizer" in ran.missing_stages:  # only the crop figures depend on it here
                predictions.notes.append(f"ground-truth crops were not read: {ran.missing_stages['recognizer']}")
    report = evaluate(gt_pages, predictions, by=_keys(by), threshold=iou, sources=sources)
    report.print()
    if out is not None:
        report.write(out)
        if not quiet:
            note(f"report written to {out}")
