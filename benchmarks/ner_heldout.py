"""The NER model on held-out generated lines, clean and with OCR noise, and its speed.

    python benchmarks/ner_heldout.py [--model DIR] [--n 3000] [--seed 424242] [--errors 20] [--out results.json]

Quality: ``--n`` lines from ``NerGenerator`` with a seed neither training (0) nor its periodic
validation (90001) used; each line is scored twice — as generated (clean), and with OCR noise
applied to every line (look-alike characters including Hangul look-alikes, dropped spaces,
split words, dropped characters; ``NoiseConfig`` defaults, the rates training used on half its
lines). Strict entity-level precision/recall/F1 (label and both character offsets must match),
per label and micro-averaged overall, and per line shape (key–value, bare value, sentence, form).

Speed: OCR lines per second through the whole entity-recogniser stage — lines of ``Page``
objects built from the noisy lines (one word per space-separated token, clustered into lines),
tokenised, tagged in batches, mapped back to words and validated — on each of ``--threads``
torch thread counts (1 and 2 by default), plus the tagger alone over all lines in batches of
64. Wall clock: run on an idle machine (the 1-minute load average is recorded with the figures).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections import defaultdict
from pathlib import Path


def _pages(lines: list[str], per_page: int = 40):
    from kocr_sdk.document import Block, Line, Page, Word
    from kocr_sdk.geometry import quad_from_box

    pages = []
    for p in range(0, len(lines), per_page):
        words, blocks = [], []
        for k, text in enumerate(lines[p:p + per_page]):
            y = 20 + 30 * k
            ids, x = [], 10
            for token in text.split():
                wid = f"p{len(pages)}-w{len(words)}"
                words.append(Word(id=wid, quad=quad_from_box((x, y, x + 12 * len(token), y + 20)), text=token))
                ids.append(wid)
                x += 12 * len(token) + 8
            if ids:
                box = (10, y, max(x, 20), y + 20)
                blocks.append(Block(id=f"b{k}", quad=quad_from_box(box),
                                    lines=[Line(id=f"l{k}", quad=quad_from_box(box), word_ids=ids)]))
        pages.append(Page(index=len(pages), width=2000, height=20 + 30 * per_page + 20, words=words, blocks=blocks))
    return pages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, help="model directory (default: the shipped kocr_sdk/weights/ner-char-bert)")
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=424242)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch thread counts to time")
    ap.add_argument("--errors", type=int, default=0, help="print this many noisy lines with a wrong entity")
    ap.add_argument("--quantize", action="store_true", help="int8 dynamic quantisation of the Linear layers")
    ap.add_argument("--runtime", choices=["torch", "onnx"], default="torch",
                    help="onnx: the cached ONNX export on onnxruntime, tokenizer from `tokenizers`")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    import torch

    from kocr_sdk.lab.synth.ner_lines import NerGenerator
    from kocr_sdk.lab.eval.entities import entity_scores
    from kocr_sdk.ner.recognizer import WEIGHTS_DIR, HuggingFaceEntityRecognizer

    torch.set_num_threads(args.threads[0])
    model_dir = args.model or WEIGHTS_DIR
    stage = HuggingFaceEntityRecognizer(model=model_dir, quantize=args.quantize, runtime=args.runtime)
    tagger = stage.tagger
    gen = NerGenerator(args.seed)
    pairs = [gen.clean_and_noisy(i) for i in range(args.n)]
    results: dict = {"model": str(model_dir), "n_lines": args.n, "seed": args.seed, "quantized": args.quantize,
                     "runtime": args.runtime}
    meta_path = model_dir / "kocr_ner.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        results["model_meta"] = {k: meta.get(k) for k in ("arch", "step", "samples_seen", "minutes", "seed", "val_seed")}
    for name, examples in (("noisy", [p[1] for p in pairs]), ("clean", [p[0] for p in pairs])):
        predicted = [[(s.start, s.end, s.label) for s in spans] for spans in tagger.tag([e.text for e in examples])]
        results[name] = entity_scores([e.spans for e in examples], predicted)
        by_shape = defaultdict(lambda: ([], []))
        for ex, pred in zip(examples, predicted):
            by_shape[ex.shape][0].append(ex.spans)
            by_shape[ex.shape][1].append(pred)
        results[f"{name}_by_shape"] = {k: entity_scores(g, p)["overall"] for k, (g, p) in sorted(by_shape.items())}
        if name == "noisy" and args.errors:
            shown = 0
            for ex, pred in zip(examples, predicted):
                if set(ex.spans) != set(pred) and shown < args.errors:
                    print(f"{ex.text!r}\n   gold {[(ex.text[s:e], lab) for s, e, lab in ex.spans]}\n"
                          f"   pred {[(ex.text[s:e], lab) for s, e, lab in pred]}")
                    shown += 1

    lines = [p[1].text for p in pairs]
    pages = _pages(lines)
    results["speed"] = {"lines": len(lines), "lines_per_page": 40,
                        "mean_chars_per_line": round(sum(map(len, lines)) / len(lines), 1),
                        "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
                        "load_average_1min": round(os.getloadavg()[0], 2), "torch": torch.__version__}
    for threads in args.threads:
        torch.set_num_threads(threads)
        if args.runtime == "onnx":  # an onnxruntime session takes its thread count when it is made
            stage = HuggingFaceEntityRecognizer(model=model_dir, quantize=args.quantize, runtime="onnx")
            tagger = stage.tagger
        stage.recognize(pages[0])  # warm-up
        start = time.perf_counter()
        for page in pages:
            stage.recognize(page)
        stage_s = time.perf_counter() - start
        start = time.perf_counter()
        tagger.tag(lines)
        tagger_s = time.perf_counter() - start
        results["speed"][f"{threads}_threads"] = {"stage_lines_per_s": round(len(lines) / stage_s, 1),
                                                   "tagger_lines_per_s": round(len(lines) / tagger_s, 1)}

    for name in ("noisy", "clean"):
        r = results[name]
        print(f"{name:5s} overall P {r['overall']['precision']:.4f} R {r['overall']['recall']:.4f} F1 {r['overall']['f1']:.4f}")
        print("      " + "  ".join(f"{k} {v['f1']:.3f}" for k, v in r.items() if k != "overall"))
    for threads in args.threads:
        sp = results["speed"][f"{threads}_threads"]
        print(f"speed, {threads} thread(s): {sp['stage_lines_per_s']} lines/s through the stage, "
              f"{sp['tagger_lines_per_s']} lines/s tagger alone (load average {results['speed']['load_average_1min']})")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
