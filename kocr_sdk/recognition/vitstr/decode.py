"""Greedy CTC decoding with per-character confidences.

Each frame's most likely class is taken; runs of the same class collapse to one emission and
blanks are dropped. An emission's confidence is the highest probability in its run, a
character's the lowest of its jamo's (see ``Charset.decode``), and the word's the lowest of its
characters' — a word is only as sure as its least sure letter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...runtime.onnx import softmax
from ..charset import Charset


def greedy_decode(logits: Any, frames: Any, charset: Charset) -> list[tuple[str, float, list[float]]]:
    """``logits`` (B, T, C), ``frames`` (B,) valid lengths → [(text, confidence, char confidences)].

    Numpy arrays (the onnx runtime, no torch) or torch tensors (the torch runtime: its own
    softmax, as trained and measured); the decoding after the softmax is one code path."""
    if isinstance(logits, np.ndarray):
        probs = softmax(logits)
        conf, best = probs.max(-1), probs.argmax(-1)
        lengths = np.asarray(frames).tolist()
    else:
        probs = logits.detach().float().softmax(-1)
        conf, best = probs.max(-1)
        lengths = frames.tolist()
    # Python lists, not tensor indexing: one ``best[b, t]`` costs about a microsecond, and a page's
    # crops hold tens of thousands of frames
    conf_rows, best_rows = conf.tolist(), best.tolist()
    out = []
    for b in range(logits.shape[0]):
        n = int(lengths[b])
        ids: list[int] = []
        confs: list[float] = []
        prev = -1
        for k, c in zip(best_rows[b][:n], conf_rows[b][:n]):
            if k == prev:
                if k != 0 and c > confs[-1]:
                    confs[-1] = c
                continue
            prev = k
            if k != 0:
                ids.append(k)
                confs.append(c)
        text, char_conf = charset.decode(ids, confs)
        word_conf = min(char_conf) if char_conf else 0.0
        out.append((text, word_conf, char_conf))
    return out
