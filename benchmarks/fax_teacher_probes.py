"""Fax domain: two cheap ways to give SeqFixMatch's teacher more than the student sees,
probed on the shipped ``hangul`` weights before spending a training arm on them.

    python benchmarks/fax_teacher_probes.py views          # read fax crops through cleaning filters
    python benchmarks/fax_teacher_probes.py tent --lr 1e-4 --steps 300

``views``: the shipped weights read 1,000 held-out fax crops (``semi_supervised.heavy_fax``) as
they are and through filters that undo part of a fax (blur, blur then re-stretched contrast,
erosion, …): word accuracy and the acceptance/accuracy a 0.9 threshold would give each, the share
of crops *some* view reads right, and a majority vote over the views.

``tent``: TENT-style test-time adaptation — only the LayerNorm scales and shifts are trained, to
minimise the per-frame entropy of the CTC output on unlabelled fax crops; fax and clean (same
crops, no fax) validation every 100 steps.

Results are appended to ``benchmarks/results/semi_fax_probes.json`` (one row per run).
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from pathlib import Path

import cv2
import numpy as np

RESULTS = Path(__file__).parent / "results" / "semi_fax_probes.json"


def _setup(n: int, weights: Path | None = None):
    import torch

    from semi_supervised import domain_crops, hangul_from, shipped_hangul

    torch.set_num_threads(1)
    model, charset = hangul_from(shipped_hangul(weights))
    fax = domain_crops("fax", n, charset)
    clean = domain_crops("fax", n, charset, clean=True)
    return model, charset, fax, clean


def _blur(sigma: float):
    return lambda img: cv2.GaussianBlur(img, (0, 0), sigma)


def _restretched(fn):
    """``fn``, then ink stretched back to 1 (a blur leaves thin strokes grey)."""
    def apply(img):
        out = fn(img)
        return np.clip(out / max(float(np.percentile(out, 98)), 1e-3), 0.0, 1.0)
    return apply


def _eroded(img):
    return cv2.erode(img, np.ones((2, 2), np.float32))


FILTERS = {
    "none": lambda img: img, "blur 0.5": _blur(0.5), "blur 0.8": _blur(0.8), "blur 1.2": _blur(1.2),
    "blur 0.8, re-stretched": _restretched(_blur(0.8)), "erode": _eroded,
    "erode, blur 0.8": lambda img: _blur(0.8)(_eroded(img)), "blur 1.0, fainter": lambda img: 0.8 * _blur(1.0)(img),
}


def probe_views(args) -> dict:
    from kocr_sdk.lab.training.recognizer import predict

    model, charset, fax, _ = _setup(args.n, args.weights)
    truth = [gt for _, gt, _ in fax]
    readings, rows = {}, {}
    for name, fn in FILTERS.items():
        out = predict(model, charset, [(fn(x).astype(np.float32), gt, kind) for x, gt, kind in fax])
        sure = np.array([conf for _, conf, _ in out]) >= 0.9  # word confidence: its least sure character
        right = np.array([text == gt for (text, _, _), gt in zip(out, truth)])
        readings[name] = [text for text, _, _ in out]
        row = rows[name] = {"word_acc": float(right.mean()), "accepted_at_0.9": float(sure.mean()),
                            "correct_at_0.9": float(right[sure].mean())}
        print(f"{name:24s} word acc {row['word_acc']:.3f}   at 0.9: {row['accepted_at_0.9']:.2f} kept, "
              f"{row['correct_at_0.9']:.3f} right", flush=True)
    votes = [collections.Counter(readings[v][i] for v in FILTERS).most_common(1)[0][0] for i in range(len(truth))]
    record = {"probe": "views", "n": len(truth), "filters": rows,
              "some_view_right": float(np.mean([any(readings[v][i] == truth[i] for v in FILTERS) for i in range(len(truth))])),
              "majority_vote": float(np.mean([v == t for v, t in zip(votes, truth)]))}
    print(f"some view right {record['some_view_right']:.3f}, majority vote {record['majority_vote']:.3f}")
    return record


def probe_tent(args) -> dict:
    import torch

    from kocr_sdk.lab.training.recognizer import evaluate
    from kocr_sdk.lab.training.unlabeled import ViewStream, open_unlabeled
    from kocr_sdk.lab.training.views import weak_view
    from semi_supervised import heavy_fax

    model, charset, fax, clean = _setup(args.n, args.weights)
    curve = []

    def validate(step: int) -> None:
        a, b = evaluate(model, charset, fax)["all"], evaluate(model, charset, clean)["all"]
        curve.append({"step": step, "fax": [a["word_acc"], round(a["cer"], 4)], "clean": [b["word_acc"], round(b["cer"], 4)]})
        print(json.dumps(curve[-1]), flush=True)

    validate(0)
    norms = [p for m in model.modules() if isinstance(m, torch.nn.LayerNorm) for p in (m.weight, m.bias)]
    for p in model.parameters():
        p.requires_grad_(False)
    for p in norms:
        p.requires_grad_(True)
    opt = torch.optim.Adam(norms, lr=args.lr)
    stream = iter(ViewStream(open_unlabeled("synth:100000", data=heavy_fax()), 0, 64, weak_view, weak_view, seed=5))
    model.train()
    for step in range(1, args.steps + 1):
        x, _, widths, _ = next(stream)
        logp = model(x, widths).float().log_softmax(-1)
        valid = (torch.arange(logp.shape[1])[None, :] < model.frames(widths)[:, None]).float()
        entropy = (-(logp.exp() * logp).sum(-1) * valid).sum() / valid.sum()
        opt.zero_grad()
        entropy.backward()
        opt.step()
        if step % 100 == 0:
            validate(step)
    return {"probe": "tent", "n": len(fax), "lr": args.lr, "steps": args.steps, "curve": curve}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("probe", choices=["views", "tent"])
    ap.add_argument("--n", type=int, default=1000, help="Validation crops (fax, and clean for tent).")
    ap.add_argument("--weights", type=Path, default=None,
                    help="Hangul weights to probe (default: the shipped file; an earlier probe used step 19,023's, see "
                    "semi_supervised.py --start-weights).")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args()
    t0 = time.time()
    record = probe_views(args) if args.probe == "views" else probe_tent(args)
    record["minutes"] = round((time.time() - t0) / 60, 1)
    rows = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    RESULTS.write_text(json.dumps(rows + [record], ensure_ascii=False, indent=1))
    print("wrote", RESULTS)


if __name__ == "__main__":
    main()
