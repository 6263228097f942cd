"""The script identifier's weights on held-out synthetic crops, and its speed.

    python benchmarks/script_id_heldout.py [--weights W] [--n 5000] [--seed 1] [--color] [--out results.json]

Quality: ``--n`` crops from ``CropGenerator(split="heldout", seed, profile="script")`` — fonts
the classifier never trained on (Noto *Serif* CJK for Han and Kana, where training had only the
Sans; UnBatang, UnDotum, Baekmuk Gulim, Nanum Pen for Hangul; Liberation, Carlito and their
twins for Latin), a seed training never used (training renders seed 0 and validates on 20011).
Reported: accuracy over hangul/latin/digits (the scripts kocr's own recognisers read) and over
all classes, recall per class, the confusion matrix, accuracy per font, and the share of crops
below each confidence threshold — what ``script_fallback_threshold`` would cost in extra
recognition. ``--color`` renders RGB crops (ink colours, as page crops have) instead of grey.

Speed: crops/s through the stage's whole ``identify`` path (normalisation included) in calls of
``--batch`` (128) crops, on 1 and 2 torch threads; of the network alone on the same batches; and
of the normalisation alone (wall clock; run on an idle machine).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", type=Path)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--color", action="store_true")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--errors", type=int, default=0, help="print this many misclassified crops' texts")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    import torch

    from kocr_sdk.script_id.batching import prepare, width_batches
    from kocr_sdk.script_id.identifier import WEIGHTS_PATH, CnnScriptIdentifier
    from kocr_sdk.lab.eval.script_id import format_confusion, script_metrics
    from kocr_sdk.lab.synth.crops import CropGenerator

    torch.set_num_threads(1)
    weights = args.weights or WEIGHTS_PATH
    stage = CnnScriptIdentifier(weights=str(weights))
    gen = CropGenerator(split="heldout", seed=args.seed, profile="script", color=args.color)
    crops, truth, fonts, texts = [], [], [], []
    for i in range(args.n):
        image, label = gen.sample(i)
        crops.append(image)
        truth.append(label["script"])
        fonts.append(label["font"])
        texts.append((label["text"], label["kind"]))

    probs = stage.probabilities(crops)
    m = script_metrics(truth, probs, stage.classes, fonts)
    meta = stage.meta
    result: dict = {"weights": str(weights), "arch": meta.get("arch"), "step": meta.get("step"),
                    "samples_seen": meta.get("samples_seen"), "seed": args.seed, "color": args.color, **m}
    print(f"{weights}: step {meta.get('step')}, {meta.get('samples_seen')} samples; n={m['n']} held-out crops")
    print(f"accuracy hangul/latin/digits {m['acc_hld']:.4f}   all classes {m['acc_all']:.4f}")
    for c, s in m["per_class"].items():
        print(f"  {c:8s} n={s['n']:5d} recall {s['recall']:.4f}")
    print(format_confusion(m["confusion"]))
    for t, s in m["unsure"].items():
        print(f"  confidence < {t}: {s['share']:.2%} of crops (accuracy of the rest {s['acc_sure']})")
    for f, s in m["per_font"].items():
        print(f"  {f:30s} n={s['n']:5d} acc {s['acc']:.4f}")
    wrong = [i for i in range(len(truth)) if stage.classes[int(probs[i].argmax())] != truth[i]]
    for i in wrong[: args.errors]:
        print(f"  {truth[i]:>6s} -> {stage.classes[int(probs[i].argmax())]:6s} {probs[i].max():.2f}  "
              f"{texts[i][1]:10s} {texts[i][0]!r}  ({fonts[i]})")

    if not args.no_speed:
        sample = crops[: max(args.batch * 8, 1024)]
        prepared = [prepare(c, stage.max_width) for c in sample]
        batches = [(i, x.contiguous(memory_format=torch.channels_last), w)
                   for s in range(0, len(prepared), args.batch)
                   for i, x, w in width_batches(prepared[s:s + args.batch], stage.sub_batch)]
        speed = {}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            stage.identify(sample[: args.batch])  # warm-up
            t0 = time.perf_counter()
            for s in range(0, len(sample), args.batch):
                stage.identify(sample[s:s + args.batch])
            speed[f"identify_{threads}_thread"] = round(len(sample) / (time.perf_counter() - t0), 1)
            with torch.inference_mode():
                t0 = time.perf_counter()
                for _, x, widths in batches:
                    stage.model(x, widths)
                speed[f"network_{threads}_thread"] = round(len(sample) / (time.perf_counter() - t0), 1)
        t0 = time.perf_counter()
        for c in sample:
            prepare(c, stage.max_width)
        speed["normalise_only"] = round(len(sample) / (time.perf_counter() - t0), 1)
        result["crops_per_s"] = speed
        print(f"crops/s (batch {args.batch}):", speed)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
