"""The CTC likelihood of a text given a crop's frame probabilities (the forward algorithm).

Why here and in numpy: the lexicon correction (:mod:`.lexicon`) compares the recogniser's own
belief in a few candidate spellings of one word, on the onnxruntime path where torch is not
installed. A word has tens of frames and tens of labels, so one candidate costs microseconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["log_likelihood", "log_softmax"]

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
    T = log_probs.shape[0]
    ext = np.full(2 * len(labels) + 1, BLANK, dtype=np.int64)
    ext[1::2] = labels
    S = len(ext)
    if T == 0 or S - 1 > 2 * T:
        return float("-inf")
    # A state may be entered from two back when it is a label different from the one two back.
    skip = np.zeros(S, dtype=bool)
    skip[2:] = (ext[2:] != BLANK) & (ext[2:] != ext[:-2])
    alpha = np.full(S, -np.inf)
    alpha[0] = log_probs[0, ext[0]]
    if S > 1:
        alpha[1] = log_probs[0, ext[1]]
    emit = log_probs[:, ext]  # (T, S)
    for t in range(1, T):
        prev1 = np.concatenate(([-np.inf], alpha[:-1]))
        prev2 = np.where(skip, np.concatenate(([-np.inf, -np.inf], alpha[:-2])), -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, prev1), prev2) + emit[t]
    return float(np.logaddexp(alpha[-1], alpha[-2]) if S > 1 else alpha[-1])
