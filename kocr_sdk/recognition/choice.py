"""Per-word choice between recognisers: each reads the word, the reading most likely right is kept.

Why: two recognisers trained on different data fail on different words — kocr's ``latin``
weights learnt from generated crops, PP-OCR's from real text — so reading a word with both and
keeping the better reading is right more often than either alone. Their raw confidences are not
on one scale, so each is first mapped to the probability that its reading is right
(``recognition.calibration``, isotonic fits on generated crops, never on evaluation data).
Readings that agree pool their evidence, as in ROVER's word-level voting: the score of a text is
``1 - prod(1 - p)`` over the recognisers that read it. Readings that differ only in spaces agree
(one reader sees the gap in ``DATE: 12/03``, the other not), and the one with the spaces is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..config import ConfidenceMap
from ..interfaces import Reading


def calibrated(confidence: float, mapping: ConfidenceMap | None) -> float:
    """``confidence`` on the common scale: its map's probability, or itself without a map."""
    if mapping is None:
        return float(confidence)
    return float(np.interp(confidence, mapping.confidence, mapping.probability))


def choose(readings: Sequence[tuple[str, Reading]], calibration: Mapping[str, ConfidenceMap]) -> tuple[str, Reading]:
    """The (recogniser name, reading) to keep among one word's ``readings``.

    The kept reading's confidence is its calibrated probability, so that a page's words carry
    confidences on one scale whichever recogniser read them. Ties go to the earlier reading.
    """
    if not readings:
        raise ValueError("choose needs at least one reading")
    probs = [calibrated(r.confidence, calibration.get(name)) for name, r in readings]
    miss: dict[str, float] = {}
    for (_, reading), p in zip(readings, probs):
        key = _letters(reading.text)
        miss[key] = miss.get(key, 1.0) * (1.0 - p)
    best = max(miss, key=lambda key: (1.0 - miss[key], -_first(readings, key)))
    # Among readings of the same letters, the one that sees most word gaps: a space is what
    # splits a box the detector put over two words (kocr_sdk.recognition.spaces).
    k = max((i for i, (_, r) in enumerate(readings) if _letters(r.text) == best),
            key=lambda i: (len(readings[i][1].text.split()), probs[i], -i))
    name, reading = readings[k]
    return name, reading.model_copy(update={"confidence": min(1.0, max(0.0, probs[k]))})


def _letters(text: str) -> str:
    """What two readings must share to agree: their characters, spaces aside."""
    return "".join(text.split())


def _first(readings: Sequence[tuple[str, Reading]], key: str) -> int:
    return next(i for i, (_, r) in enumerate(readings) if _letters(r.text) == key)


def fit(confidences: Sequence[float], correct: Sequence[bool], decimals: int = 4) -> ConfidenceMap:
    """The isotonic map from ``confidences`` to how often readings with them were ``correct``.

    Isotonic regression keeps the map monotone (a more confident reading is never judged less
    likely right) without assuming its shape, which a sigmoid (Platt scaling) would; its
    breakpoints, linearly interpolated, are exactly what ``calibrated`` computes.
    """
    from sklearn.isotonic import IsotonicRegression

    if len(confidences) != len(correct) or not confidences:
        raise ValueError("fit needs as many correctness labels as confidences, and at least one")
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    iso.fit(np.asarray(confidences, dtype=float), np.asarray(correct, dtype=float))
    xs = np.round(np.clip(iso.X_thresholds_, 0.0, 1.0), decimals)
    ys = np.round(np.clip(iso.y_thresholds_, 0.0, 1.0), decimals)
    keep = [0] + [i for i in range(1, len(xs)) if xs[i] != xs[i - 1] or ys[i] != ys[i - 1]]
    # drop points on a flat run between its ends: the same map, a shorter file
    points = [(float(xs[i]), float(ys[i])) for i in keep]
    slim = [p for j, p in enumerate(points)
            if j in (0, len(points) - 1) or not (points[j - 1][1] == p[1] == points[j + 1][1])]
    return ConfidenceMap(confidence=[x for x, _ in slim], probability=[y for _, y in slim])
