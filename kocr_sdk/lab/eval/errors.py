"""Why a ground-truth word went unmatched: the kinds of detection error, counted.

A word H-mean says how many words were missed, not why, and the fix differs by cause: a word
*merged* with its neighbour into one box asks for better word grouping (the word centerness and
the gap between words); a word *split* into pieces asks for longer-range regression; a *loose*
box (found, but IoU under the threshold) asks for tighter regression; a word *missed* outright
asks for recall (small, faint, or unusual text). Predictions that matched nothing are sorted the
same way from their side.

Definitions (``COVER`` = 0.5 unless noted), for a ground-truth word left unmatched at IoU ≥ 0.5:

- ``merged``: one prediction covers at least half of it *and* at least half of another
  ground-truth word — one box for two or more words;
- ``split``: two or more predictions each lie mostly (≥ 0.6 of their area) inside it;
- ``loose``: the best IoU with any prediction is at least 0.3 (found, but the box is off);
- ``missed``: none of the above.

For an unmatched prediction: ``merge`` (covers half or more of two ground-truth words),
``fragment`` (≥ 0.6 of its area inside one ground-truth word), ``spurious`` (under 0.3 of
its area on any ground-truth word: text where there is none), ``loose`` otherwise. Words marked
``ignore`` are left out on the ground-truth side, and predictions lying half inside one are not
counted, as in the metrics.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from .matching import Matching, intersection_matrix, match_polygons

if TYPE_CHECKING:
    from .metrics import PageResult

COVER = 0.5
INSIDE = 0.6
LOOSE_IOU = 0.3
MISS_KINDS = ("merged", "split", "loose", "missed")
EXTRA_KINDS = ("merge", "fragment", "loose", "spurious")


def error_kinds(gt: Sequence, pred: Sequence, matching: Matching | None = None) -> tuple[Counter, Counter]:
    """``(misses, extras)``: counts of the kinds above for the unmatched ground-truth words and
    the unmatched predictions of one page."""
    matching = matching or match_polygons(gt, pred)
    misses: Counter = Counter({k: 0 for k in MISS_KINDS})
    extras: Counter = Counter({k: 0 for k in EXTRA_KINDS})
    if not len(gt):
        extras["spurious"] += len(matching.unmatched_pred)
        return misses, extras
    if not len(pred):
        misses["missed"] += len(matching.unmatched_gt)
        return misses, extras
    inter, g_area, p_area = intersection_matrix(gt, pred)
    covers_gt = np.divide(inter, g_area[:, None], out=np.zeros_like(inter), where=g_area[:, None] > 0)
    inside_gt = np.divide(inter, p_area[None, :], out=np.zeros_like(inter), where=p_area[None, :] > 0)
    union = g_area[:, None] + p_area[None, :] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    spans = (covers_gt >= COVER).sum(axis=0)  # ground-truth words each prediction covers half of
    for g in matching.unmatched_gt:
        if ((covers_gt[g] >= COVER) & (spans >= 2)).any():
            misses["merged"] += 1
        elif (inside_gt[g] >= INSIDE).sum() >= 2:
            misses["split"] += 1
        elif iou[g].max() >= LOOSE_IOU:
            misses["loose"] += 1
        else:
            misses["missed"] += 1
    for p in matching.unmatched_pred:
        if spans[p] >= 2:
            extras["merge"] += 1
        elif inside_gt[:, p].max() >= INSIDE:
            extras["fragment"] += 1
        elif inside_gt[:, p].sum() < LOOSE_IOU:
            extras["spurious"] += 1
        else:
            extras["loose"] += 1
    return misses, extras


def tally_errors(results: Iterable["PageResult"]) -> tuple[dict[str, int], dict[str, int]]:
    """``(misses, extras)`` summed over scored pages (:func:`.metrics.score_page` results)."""
    misses: Counter = Counter({k: 0 for k in MISS_KINDS})
    extras: Counter = Counter({k: 0 for k in EXTRA_KINDS})
    for r in results:
        page_misses, page_extras = error_kinds([w.poly for w in r.gt], [w.poly for w in r.pred], r.matching)
        misses.update(page_misses)
        extras.update(page_extras)
    return dict(misses), dict(extras)
