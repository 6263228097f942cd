"""``kocr synth``: write synthetic datasets (images + one ``gt.jsonl``) for training and evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ...cli.common import note, progress
from ...atomic import write_text_atomic

KINDS = ("lines", "pages", "forms", "receipts")


def _generator(kind: str, split: str, seed: int, font_dirs: tuple[str, ...], template_dirs: tuple[str, ...] = (),
               options: dict[str, Any] | None = None):
    options = options or {}
    if kind == "lines":
        from ..synth.crops import CropGenerator

        return CropGenerator(split=split, seed=seed, font_dirs=font_dirs, **options)
    if kind == "pages":
        from ..synth.pages import PageGenerator

        return PageGenerator(split=split, seed=seed, font_dirs=font_dirs, **options)
    if kind == "receipts":
        from ..synth.receipts import ReceiptGenerator

        lang = options.pop("lang", "mixed")
        return ReceiptGenerator(split=split, seed=seed, font_dirs=font_dirs, lang=lang, **options)
    from ..synth.forms import FormGenerator

    return FormGenerator(split=split, seed=seed, template_dirs=list(template_dirs) or None, **options)


def _options(items: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs, each value read as YAML (``fax_prob=0.5``, ``layouts=[prose, invoice]``)."""
    import yaml

    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--set")
        options[key.strip()] = yaml.safe_load(value)
    return options


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
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="A generator option (a field of CropConfig for lines, PageConfig for pages, forms and receipts; "
                   "receipts also take lang=ko|en|mixed), value as YAML: --set typewriter_prob=1 "
                   "--set 'layouts=[prose, invoice]' (repeatable).")
@click.option("-q", "--quiet", is_flag=True)
def synth(kind: str, count: int, out: Path, seed: int, split: str, font_dirs: tuple[str, ...],
          template_dirs: tuple[str, ...], settings: tuple[str, ...], quiet: bool) -> None:
    """Render KIND (lines | pages | forms | receipts) into OUT/: PNG images and gt.jsonl (a sample a line).

    The same seed gives byte-identical files. Re-running into the same directory rewrites it.
    --set changes how samples look, as a training config's ``data:`` block does, e.g.
    typewritten, faxed pages: ``kocr synth pages --n 5 --out d --set typewriter_prob=1 --set fax_prob=1``.
    """
    import cv2
    from pydantic import ValidationError

    if template_dirs and kind != "forms":
        raise click.UsageError("--template-dir applies to forms only")
    try:
        gen = _generator(kind, split, seed, font_dirs, template_dirs, _options(settings))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '?'}: {e['msg']}" for e in exc.errors())
        raise click.BadParameter(problems, param_hint="--set") from None
    except ValueError as exc:  # a receipt language that is none of ko, en, mixed
        raise click.BadParameter(str(exc), param_hint="--set") from None
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
