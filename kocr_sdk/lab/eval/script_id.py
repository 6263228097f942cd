"""How well a script identifier does, computed the same way in training and in ``benchmarks/``.

The figures follow what the engine needs from the stage:

- ``acc_hld``: accuracy over crops whose true script is ``hangul``, ``latin`` or ``digits`` —
  the scripts kocr's own recognisers read, where a mistake sends a word to the wrong weights;
- ``acc_all``: accuracy over every crop, ``han`` and ``kana`` (routed to plugins) and ``other``
  included;
- ``per_class``: recall of each true script, and ``confusion[true][predicted]`` counts — which
  pairs are confused says more than one accuracy;
- ``unsure``: the share of crops whose top probability is below each threshold, which is the
  extra recognition the engine's ``script_fallback_threshold`` would cost (each such word is
  read by two recognisers), with the accuracy of the remaining, sure ones;
- ``per_font`` (when fonts are given): held-out fonts differ, and the weakest one matters.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Sequence

import numpy as np

#: Scripts kocr's own recognisers read; the headline accuracy is over these.
CORE_SCRIPTS = ("hangul", "latin", "digits")
THRESHOLDS = (0.5, 0.7, 0.9)


def script_metrics(
    truth: Sequence[str], probs: np.ndarray, classes: Sequence[str], fonts: Sequence[str] | None = None
) -> dict[str, Any]:
    """Accuracy figures, per-class recall, confusion and confidence shares (see module doc)."""
    classes = list(classes)
    n = len(truth)
    if n == 0:
        return {"n": 0}
    pred_idx = probs.argmax(1)
    pred = [classes[i] for i in pred_idx]
    top = probs.max(1)
    right = np.array([t == p for t, p in zip(truth, pred)])
    core = np.array([t in CORE_SCRIPTS for t in truth])
    confusion: dict[str, dict[str, int]] = {c: {p: 0 for p in classes} for c in classes}
    for t, p in zip(truth, pred):
        confusion.setdefault(t, {q: 0 for q in classes})[p] += 1
    per_class = {}
    for c in confusion:
        total = sum(confusion[c].values())
        if total:
            per_class[c] = {"n": total, "recall": round(confusion[c].get(c, 0) / total, 4)}
    unsure = {}
    for t in THRESHOLDS:
        sure = top >= t
        unsure[str(t)] = {
            "share": round(float((~sure).mean()), 4),
            "acc_sure": round(float(right[sure].mean()), 4) if sure.any() else None,
        }
    out: dict[str, Any] = {
        "n": n,
        "acc_all": round(float(right.mean()), 4),
        "acc_hld": round(float(right[core].mean()), 4) if core.any() else None,
        "per_class": per_class,
        "confusion": confusion,
        "unsure": unsure,
    }
    if fonts is not None:
        by_font: dict[str, list[bool]] = defaultdict(list)
        for f, ok in zip(fonts, right):
            by_font[f].append(bool(ok))
        out["per_font"] = {f: {"n": len(v), "acc": round(sum(v) / len(v), 4)} for f, v in sorted(by_font.items())}
    return out


def format_confusion(confusion: dict[str, dict[str, int]]) -> str:
    """The confusion matrix as a fixed-width table: rows true, columns predicted."""
    cols = list(next(iter(confusion.values())).keys()) if confusion else []
    width = max([6, *map(len, cols)]) + 1
    lines = ["true\\pred".ljust(10) + "".join(c.rjust(width) for c in cols)]
    for t, row in confusion.items():
        if sum(row.values()):
            lines.append(t.ljust(10) + "".join(str(row.get(c, 0)).rjust(width) for c in cols))
    return "\n".join(lines)
