"""The lexicon correction on ground-truth word crops: words it fixes, words it breaks, per setting.

    python benchmarks/lexicon_correction.py GT.jsonl [--recognizer vitstr-tiny-latin]
        [--confidence 0.95,0.99] [--margin 3,5,8] [--min-letters 3,4,5] [--out results.json]

Every ground-truth word of a Latin script (``latin``, ``digits``) is cut out as the evaluation
cuts it (``kocr eval --crops``) and read once by the recogniser with the correction off; then
the correction (``kocr_sdk.recognition.lexicon``) is applied to the same frames for each
setting (``lexicon_confidence``, ``lexicon_margin``, shortest word changed). Reported per
setting: words read exactly before and after, words fixed (wrong → right), broken (right →
wrong) and changed wrong → wrong.

The shipped defaults (0.99, 5 nats, 4 letters: the most fixed with nothing broken on both)
were chosen on two sets that no model trained on and no other figure uses::

    kocr synth pages --n 40 --seed 21 --split heldout --set capture=scan --out TUNE-SCANS
    kocr synth receipts --n 60 --seed 21 --split heldout --out TUNE-RECEIPTS

Real scans (FUNSD) are only measured with them, never used to choose them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gt", type=Path)
    ap.add_argument("--recognizer", default="vitstr-tiny-latin")
    ap.add_argument("--confidence", default="0.99")
    ap.add_argument("--margin", default="5")
    ap.add_argument("--min-letters", default="4", help="comma-separated: shortest words corrected")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    import numpy as np

    from kocr_sdk.engine import CROP_HEIGHT
    from kocr_sdk.geometry import crop_quad, scale_quad
    from kocr_sdk.io import iter_pages
    from kocr_sdk.lab.eval.format import read_pages
    from kocr_sdk.lab.eval.runner import resolve_image
    from kocr_sdk.recognition.lexicon import correct_reading, load_lexicon
    from kocr_sdk.recognition.ctc import scorer
    from kocr_sdk.recognition.stage import _log_probs, recognizers_in
    from kocr_sdk.recognition.vitstr.decode import greedy_decode
    from kocr_sdk.interfaces import Reading
    from kocr_sdk.resources import WEIGHTS_DIR
    from kocr_sdk.config import EngineConfig

    stage_cls = next(c for c in recognizers_in(WEIGHTS_DIR) if c.name == args.recognizer)
    stage = stage_cls(runtime="onnx", lexicon=None)
    margin = EngineConfig().recognition.crop_margin
    pages = read_pages(args.gt, args.limit)
    crops, truths = [], []
    for gt in pages:
        pim = next(iter(iter_pages(resolve_image(gt, args.gt.parent))))
        for w in gt.words:
            if (w.script or "") in ("latin", "digits"):
                crops.append(crop_quad(pim.image, scale_quad(w.poly, pim.scale), CROP_HEIGHT, margin))
                truths.append(w.text)
    print(f"{len(crops)} Latin-script word crops from {len(pages)} pages")

    from kocr_sdk.recognition.preprocess import HEIGHT, normalise

    images = [normalise(c, HEIGHT, stage.max_width) for c in crops]
    order = sorted(range(len(images)), key=lambda i: images[i].shape[1])
    read: list[tuple[Reading, np.ndarray] | None] = [None] * len(images)
    for s in range(0, len(order), 64):
        idx = order[s:s + 64]
        logits, frames = stage._logits([images[i] for i in idx])
        log_probs = _log_probs(logits)
        for b, (i, (text, conf, char_conf)) in enumerate(zip(idx, greedy_decode(logits, frames, stage.charset))):
            read[i] = (Reading(text=text, confidence=float(conf), char_confidences=list(char_conf)),
                       log_probs[b, :int(frames[b])])

    lexicon = load_lexicon("en")
    before = sum(r.text == t for (r, _), t in zip(read, truths))  # type: ignore[misc]
    rows = []
    settings = [(c, m, n) for n in (int(x) for x in args.min_letters.split(","))
                for c in (float(x) for x in args.confidence.split(",")) for m in (float(x) for x in args.margin.split(","))]
    for conf, m, min_letters in settings:
        fixed = broken = other = 0
        examples: list[list[str]] = []
        for (reading, lp), truth in zip(read, truths):  # type: ignore[misc]
            new = correct_reading(reading, lexicon, scorer(stage.charset, lp), conf, m, min_letters)
            if new.text == reading.text:
                continue
            if new.text == truth:
                fixed += 1
            elif reading.text == truth:
                broken += 1
                if len(examples) < 12:
                    examples.append([truth, new.text])
            else:
                other += 1
        row = {"confidence": conf, "margin": m, "min_letters": min_letters, "fixed": fixed, "broken": broken, "wrong_to_wrong": other,
               "exact_before": round(before / len(truths), 4),
               "exact_after": round((before + fixed - broken) / len(truths), 4), "broken_examples": examples}
        rows.append(row)
        print(f"confidence {conf:.2f} margin {m:.1f} min letters {min_letters}: fixed {fixed}, broken {broken}, wrong->wrong {other}; "
              f"exact {row['exact_before']:.4f} -> {row['exact_after']:.4f}")
    if args.out:
        args.out.write_text(json.dumps({"gt": str(args.gt), "recognizer": args.recognizer, "words": len(truths),
                                        "pages": len(pages), "settings": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
