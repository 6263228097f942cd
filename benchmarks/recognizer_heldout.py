"""A recogniser's weights (ViTSTR or the AS-IS CNN baseline) on held-out synthetic crops, and its speed, fp32 vs int8.

    python benchmarks/recognizer_heldout.py [--weights W] [--n 2000] [--seed 1] [--out results.json]

Quality: ``--n`` crops from ``CropGenerator(split="heldout", seed, profile=<the weights' script>)``
— fonts the recogniser never trained on, a seed training never used (training validates on
seed 10007) — word accuracy and CER overall, by kind of text (Korean word, amount, date, ...)
and by font. Both the fp32 model and the dynamic-int8 one the engine runs on CPU are scored.

Speed: crops/s at batch 64 on 1 and 2 torch threads, fp32 and int8 (wall clock; run on an
otherwise idle machine).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", type=Path)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    import torch
    from rapidfuzz.distance import Levenshtein

    from kocr_sdk.recognition.preprocess import HEIGHT, batch_tensors, normalise
    from kocr_sdk.recognition.vitstr.decode import greedy_decode
    from kocr_sdk.recognition.stage import WEIGHTS_DIR, load_weights
    from kocr_sdk.lab.synth.crops import CropGenerator

    torch.set_num_threads(1)
    weights = args.weights or WEIGHTS_DIR / "vitstr-tiny-hangul.safetensors"
    model, charset, meta = load_weights(weights)
    profile = "latin" if meta["charset"].startswith("latin") else "hangul"
    gen = CropGenerator(split="heldout", seed=args.seed, profile=profile)
    # as the engine does: ViTSTR squeezes to its trained width, the CNN baseline takes any width
    max_width = int(getattr(model, "max_input_width", None) or meta.get("max_width", 256))
    data = []
    i = 0
    while len(data) < args.n:
        image, label = gen.sample(i)
        i += 1
        if not charset.unknown(label["text"]):
            data.append((normalise(image, HEIGHT, max_width), label["text"], label["kind"], label["font"]))
    int8 = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)

    @torch.inference_mode()
    def read(m) -> list[str]:
        order = sorted(range(len(data)), key=lambda k: data[k][0].shape[1])
        out: dict[int, str] = {}
        for s in range(0, len(order), 64):
            idx = order[s:s + 64]
            x, widths = batch_tensors([data[k][0] for k in idx])
            for k, (text, _, _) in zip(idx, greedy_decode(m(x, widths), m.frames(widths), charset)):
                out[k] = text
        return [out[k] for k in range(len(data))]

    def score(preds: list[str], key: int | None) -> dict:
        groups: dict[str, list[tuple[str, str]]] = {}
        for (_, gt, kind, font), p in zip(data, preds):
            name = "all" if key is None else (kind, font)[key]
            groups.setdefault(name, []).append((gt, p))
        return {name: {"n": len(pairs), "word_acc": round(sum(g == p for g, p in pairs) / len(pairs), 4),
                       "cer": round(sum(Levenshtein.distance(g, p) for g, p in pairs) / max(1, sum(len(g) for g, _ in pairs)), 4)}
                for name, pairs in sorted(groups.items())}

    result: dict = {"weights": str(weights), "step": meta.get("step"), "samples_seen": meta.get("samples_seen"),
                    "n": len(data), "seed": args.seed, "arch": meta.get("arch"),
                    "parameters": sum(p.numel() for p in model.parameters()),
                    "weights_mb": round(weights.stat().st_size / 2**20, 2)}
    for name, m in (("fp32", model), ("int8", int8)):
        preds = read(m)
        result[name] = {"overall": score(preds, None)["all"], "by_kind": score(preds, 0), "by_font": score(preds, 1)}
        print(name, result[name]["overall"])
    for kind, s in result["int8"]["by_kind"].items():
        print(f"  {kind:12s} n={s['n']:4d} acc {s['word_acc']:.3f} CER {s['cer']:.3f}")
    for font, s in result["int8"]["by_font"].items():
        print(f"  {font:28s} n={s['n']:4d} acc {s['word_acc']:.3f} CER {s['cer']:.3f}")

    if not args.no_speed:
        batch = [d[0] for d in data[:64]]
        x, widths = batch_tensors(batch)
        speed = {}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            for name, m in (("fp32", model), ("int8", int8)):
                with torch.inference_mode():
                    m(x, widths)
                    t0 = time.perf_counter()
                    for _ in range(5):
                        m(x, widths)
                    speed[f"{name}_{threads}_thread"] = round(5 * len(batch) / (time.perf_counter() - t0), 1)
        result["crops_per_s"] = speed
        print("crops/s (batch 64):", speed)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
