"""Entity-level precision, recall and F1, the strict way (CoNLL ``conlleval``, seqeval's default).

A predicted entity counts only when its label *and* both of its character offsets match a gold
entity; a span off by one character is both a false positive and a false negative. Spans are
compared as ``(start, end, label)`` over the characters of the text, so the score does not
depend on how a tokenizer cut the text.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

Span = tuple[int, int, str]


def entity_scores(gold: Iterable[list[Span]], pred: Iterable[list[Span]]) -> dict[str, dict[str, float]]:
    """Per label and ``overall`` (micro-averaged): precision, recall, f1, support (gold count)."""
    tp: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    for g, p in zip(gold, pred):
        gs, ps = set(g), set(p)
        for s in gs:
            n_gold[s[2]] += 1
        for s in ps:
            n_pred[s[2]] += 1
        for s in gs & ps:
            tp[s[2]] += 1
    out: dict[str, dict[str, float]] = {}
    for label in sorted(set(n_gold) | set(n_pred)):
        out[label] = _prf(tp[label], n_pred[label], n_gold[label])
    out["overall"] = _prf(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values()))
    return out


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "support": n_gold}
