"""Measuring kocr (and its peers) on pages with ground truth: ``kocr eval``.

One JSONL format (:mod:`.format`) carries ground truth and predictions alike; :mod:`.matching`
pairs words one-to-one at IoU >= 0.5; :mod:`.metrics` turns pairs into counts and figures;
:mod:`.runner` produces predictions with the Engine or pairs those of any other tool;
:mod:`.loaders` converts public datasets; :mod:`.report` prints and writes the result.
docs/evaluation.md defines every figure.
"""

from .format import EvalChar, EvalPage, EvalWord, KocrDataError, iter_pages, read_pages, write_pages
from .loaders import load_funsd, load_icdar15
from .matching import Matching, match_polygons, polygon_iou
from .metrics import PageResult, Tally, figures, score_page
from .report import EvalReport
from .runner import Predictions, evaluate, pair_predictions, run_engine
from ...vocabulary.scripts import script_of

__all__ = [
    "EvalChar", "EvalPage", "EvalWord", "KocrDataError", "iter_pages", "read_pages", "write_pages",
    "load_funsd", "load_icdar15", "Matching", "match_polygons", "polygon_iou",
    "PageResult", "Tally", "figures", "score_page", "EvalReport",
    "Predictions", "evaluate", "pair_predictions", "run_engine", "script_of",
]
