"""Crops cut from photographed pages, read before and after a fine-tune: docs/training.md's picture.

    python benchmarks/page_crops_figure.py CROPS BEFORE.safetensors [AFTER.safetensors]
                                           [--n 18] [--seed 0] [--out docs/img/page-crops.png]

``CROPS`` is a labelled crop folder as ``kocr train recognizer --labelled-pages`` cuts it (or
``kocr_sdk.lab.training.page_crops.cut_labelled_crops`` of held-out pages); ``BEFORE`` and
``AFTER`` are recogniser weights of one script (``AFTER`` defaults to the shipped weights of
that script). ``--n`` crops are drawn at random (``--seed``), not picked for where the fine-tune
helped: each row shows the crop as the engine cut it, its true text, and each weights' greedy
reading (no word-list correction), green where it is right and red where it is not.

Why: a word accuracy says how often; the picture shows what the recogniser is handed on a
photographed receipt — faded print, a box cut short, a neighbour's edge — and what each model
makes of it.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np

GREEN, RED, GREY = (20, 140, 60), (210, 30, 40), (90, 90, 90)


def read_with(weights: Path, crops: list[np.ndarray]) -> list[str]:
    """Greedy readings of grey crops by the recogniser in ``weights`` (torch, fp32, no lexicon)."""
    import torch

    from kocr_sdk.recognition.architectures import create_model
    from kocr_sdk.recognition.charset import CHARSETS
    from kocr_sdk.recognition.preprocess import HEIGHT, batch_tensors, normalise
    from kocr_sdk.recognition.vitstr import greedy_decode
    from kocr_sdk.weights_file import read_checkpoint

    payload = read_checkpoint(weights, "recogniser weights")
    charset = CHARSETS[payload["meta"]["charset"]]()
    model = create_model(payload["meta"]["arch"], len(charset))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in payload["model"].items()})
    model.eval()
    x, widths = batch_tensors([normalise(c, HEIGHT, int(payload["meta"].get("max_width", 256))) for c in crops])
    with torch.no_grad():
        return [text for text, _, _ in greedy_decode(model(x, widths), model.frames(widths), charset)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("crops", type=Path)
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path, nargs="?")
    ap.add_argument("--n", type=int, default=18)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("docs/img/page-crops.png"))
    args = ap.parse_args()

    from PIL import Image, ImageDraw, ImageFont

    from kocr_sdk.lab.training.page_crops import LabelledCrops
    from kocr_sdk.weights_file import read_meta

    after = args.after
    if after is None:
        script = read_meta(args.before, "recogniser weights")["charset"]
        after = Path(__file__).resolve().parents[1] / "kocr_sdk" / "weights" / f"vitstr-tiny-{script}.safetensors"
    source = LabelledCrops(args.crops)
    picks = random.Random(args.seed).sample(range(len(source)), min(args.n, len(source)))
    crops, truths = zip(*(source.item(i) for i in picks))
    readings = {"before": read_with(args.before, list(crops)), "after": read_with(after, list(crops))}

    from kocr_sdk.visualize import overlay_font

    found = overlay_font()  # a font with Hangul, as kocr's own overlays use
    font = ImageFont.truetype(found[0], 22, index=found[1]) if found else ImageFont.load_default()
    row_h, crop_w, col_w = 44, 300, 230
    sheet = Image.new("RGB", (crop_w + 3 * col_w + 30, row_h * (len(crops) + 1) + 10), "white")
    draw = ImageDraw.Draw(sheet)
    for k, title in enumerate(("crop as cut", "truth", "before", "after")):
        draw.text((10 + (0 if k == 0 else crop_w + (k - 1) * col_w), 8), title, fill=GREY, font=font)
    for r, (crop, truth) in enumerate(zip(crops, truths)):
        y = row_h * (r + 1) + 4
        image = Image.fromarray(crop).convert("RGB")
        scale = min(36 / image.height, (crop_w - 20) / image.width)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
        sheet.paste(image, (10, y))
        draw.text((crop_w, y + 4), truth, fill="black", font=font)
        for k, name in enumerate(("before", "after")):
            text = readings[name][r]
            draw.text((crop_w + (k + 1) * col_w, y + 4), text or "∅", fill=GREEN if text == truth else RED, font=font)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, optimize=True)
    right = {name: sum(t == g for t, g in zip(texts, truths)) for name, texts in readings.items()}
    print(f"{args.out}: {len(crops)} crops; right before {right['before']}, after {right['after']}")


if __name__ == "__main__":
    main()
