"""``kocr synth``: write synthetic datasets (images + one ``gt.jsonl``) for training and evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import note, progress
from ..atomic import write_text_atomic

KINDS = ("lines", "pages", "forms")


def _generator(kind: str, split: str, seed: int, font_dirs: tuple[str, ...], template_dirs: tuple[str, ...] = ()):
    if kind == "lines":
        from ..synth.crops import CropGenerator

        return CropGenerator(split=split, seed=seed, font_dirs=font_dirs)
    if kind == "pages":
        from ..synth.pages import PageGenerator

        return PageGenerator(split=split, seed=seed, font_dirs=font_dirs)
    from ..synth.forms import FormGenerator

    return FormGenerator(split=split, seed=seed, template_dirs=list(template_dirs) or None)


def _record(kind: str, index: int, image, label: dict) -> dict:
    if kind != "lines":
        return label
    h, w = image.shape[:2]
    return {"image": f"{index:06d}.png", "width": w, "height": h, "kind": label["kind"], "font": label["font"],
            "words": [{"text": label["text"], "poly": [[0, 0], [w, 0], [w, h], [0, h]], "script": label["script"]}]}


@click.command()
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--n", "count", type=click.IntRange(min=1), required=True, help="How many samples.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output directory.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--split", type=click.Choice(["train", "heldout", "all"]), default="train", show_default=True,
              help="Which fonts: training fonts, held-out fonts (for evaluation), or all.")
@click.option("--font-dir", "font_dirs", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Extra directory of fonts (repeatable).")
@click.option("--template-dir", "template_dirs", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="forms: render these directories' templates instead of the shipped ones (repeatable).")
@click.option("-q", "--quiet", is_flag=True)
def synth(kind: str, count: int, out: Path, seed: int, split: str, font_dirs: tuple[str, ...],
          template_dirs: tuple[str, ...], quiet: bool) -> None:
    """Render KIND (lines | pages | forms) into OUT/: PNG images and gt.jsonl (a sample a line).

    The same seed gives byte-identical files. Re-running into the same directory rewrites it.
    """
    import cv2

    if template_dirs and kind != "forms":
        raise click.UsageError("--template-dir applies to forms only")
    gen = _generator(kind, split, seed, font_dirs, template_dirs)
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in progress(range(count), count, f"synth {kind}", quiet):
        image, label = gen.sample(i)
        record = _record(kind, i, image, label)
        path = out / record["image"]
        ok, buf = cv2.imencode(".png", image if image.ndim == 2 else image[:, :, ::-1])
        tmp = path.with_suffix(".png.tmp")
        tmp.write_bytes(buf.tobytes())
        tmp.replace(path)
        lines.append(json.dumps(record, ensure_ascii=False))
    write_text_atomic(out / "gt.jsonl", "\n".join(lines) + "\n")
    if not quiet:
        note(f"wrote {count} {kind} and {out / 'gt.jsonl'}")
