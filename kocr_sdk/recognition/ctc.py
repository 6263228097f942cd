"""The CTC likelihood of a text given a crop's frame probabilities (the forward algorithm).

Why here and in numpy: the lexicon correction (:mod:`.lexicon`) compares the recogniser's own
belief in a few candidate spellings of one word, on the onnxruntime path where torch is not
installed. A word has tens of frames and tens of labels, so one candidate costs microseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["log_likelihood", "log_likelihoods", "log_softmax", "scorer"]

BLANK = 0


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities over the last axis, computed stably."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def log_likelihood(log_probs: np.ndarray, labels: Sequence[int]) -> float:
    """log P(``labels`` | frames) under CTC: the sum over every frame path that collapses to them.

    ``log_probs`` is (T, C) with class 0 the blank; ``labels`` holds no blanks. Returns -inf when
    the frames are too few for the labels (CTC needs a blank between repeated labels).
    """
    return float(log_likelihoods(log_probs, [labels])[0])


def log_likelihoods(log_probs: np.ndarray, label_lists: Sequence[Sequence[int]]) -> np.ndarray:
    """:func:`log_likelihood` of several label sequences on the same frames, in one pass over them.

    Why one pass: a word's candidate spellings are scored together, and the frame loop, not the
    arithmetic, is what costs. Shorter sequences are padded with states that no path can leave
    for a real state, and each sequence's end is read at its own length.
    """
    T = log_probs.shape[0]
    n = len(label_lists)
    S = 2 * max((len(labels) for labels in label_lists), default=0) + 1
    ext = np.zeros((n, S), dtype=np.int64)
    ends = np.empty(n, dtype=np.int64)
    for k, labels in enumerate(label_lists):
        ext[k, 1:2 * len(labels):2] = labels
        ends[k] = 2 * len(labels)
    real = np.arange(S)[None, :] <= ends[:, None]
    # A state may be entered from two back when it is a label different from the one two back.
    skip = np.zeros((n, S), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != BLANK) & (ext[:, 2:] != ext[:, :-2])
    emit = np.where(real[None], log_probs[:, ext], -np.inf) if T else np.empty((0, n, S))  # (T, n, S)
    out = np.full(n, -np.inf)
    if T == 0:
        return out
    alpha = np.full((n, S), -np.inf)
    alpha[:, 0] = emit[0, :, 0]
    if S > 1:
        alpha[:, 1] = emit[0, :, 1]
    ninf1, ninf2 = np.full((n, 1), -np.inf), np.full((n, 2), -np.inf)
    for t in range(1, T):
        prev1 = np.concatenate((ninf1, alpha[:, :-1]), axis=1)
        prev2 = np.where(skip, np.concatenate((ninf2, alpha[:, :-2]), axis=1), -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, prev1), prev2) + emit[t]
    rows = np.arange(n)
    last = alpha[rows, ends]
    before = np.where(ends > 0, alpha[rows, np.maximum(ends - 1, 0)], -np.inf)
    out = np.logaddexp(last, before)
    out[ends > 2 * T] = -np.inf  # more labels than the frames can hold
    return out


def scorer(charset: Any, log_probs: np.ndarray) -> Callable[[list[str]], np.ndarray]:
    """Scores texts by their CTC log-likelihood on one crop's frames (``log_probs``, (T, C), class
    0 the blank); ``charset.encode(text)`` gives a text's class ids and raises ``ValueError`` for a
    character outside the charset, which scores -inf: the recogniser cannot have read it."""
    def score(texts: list[str]) -> np.ndarray:
        labels, readable = [], []
        for text in texts:
            try:
                labels.append(charset.encode(text))
                readable.append(True)
            except ValueError:
                labels.append([])
                readable.append(False)
        return np.where(readable, log_likelihoods(log_probs, labels), -np.inf)

    return score
