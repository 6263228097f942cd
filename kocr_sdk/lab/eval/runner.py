"""Running an evaluation: pair predictions with ground truth, or produce them with the Engine.

Two modes, one scorer. With a predictions file, pages are paired by image name and scored as
they are (any tool can be evaluated this way). Without one, the Engine reads every ground-truth
image here, timed page by page, and its Document is converted to the same JSONL records
``kocr read --format jsonl`` writes — so the two modes measure the same thing.

A stage the engine could not run (no detector installed, no recogniser for a script ...) is not
scored as zeros: its figures are reported as not measured, with the engine's own reason.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ...errors import KocrInputError
from .errors import tally_errors
from .format import EvalPage
from .matching import IOU_THRESHOLD
from .metrics import PageResult, figures, score_page, total
from .report import EvalReport

if TYPE_CHECKING:  # pragma: no cover
    from ...engine import Engine

#: Figures that need each stage; when the stage is missing they are reported as not measured.
NEEDS: dict[str, tuple[str, ...]] = {
    "detector": (
        "word_precision", "word_recall", "word_hmean", "e2e_precision", "e2e_recall", "e2e_hmean", "cer",
        "char_f1_precision", "char_f1_recall", "char_f1", "word_accuracy", "script_accuracy",
        "char_precision", "char_recall", "char_hmean", "pages_per_second", "seconds_per_page",
    ),
    "recognizer": (
        "e2e_precision", "e2e_recall", "e2e_hmean", "cer", "char_f1_precision", "char_f1_recall", "char_f1",
        "word_accuracy", "crop_accuracy", "crop_cer",
    ),
    "script_identifier": ("script_accuracy",),
    "template_matcher": ("field_exact_match",),
}

#: Page keys never offered as a breakdown: they name or time a page rather than group pages.
NOT_GROUPS = {"image", "words", "fields", "seconds", "source", "id", "width", "height"}


@dataclass
class Predictions:
    """Predicted pages aligned with the ground truth (None where a page has no prediction)."""

    pages: list[EvalPage | None]
    seconds: list[float | None] = field(default_factory=list)
    crop_texts: list[list[str | None] | None] = field(default_factory=list)
    missing_stages: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def pair_predictions(
    gt_pages: list[EvalPage], pred_pages: Iterable[EvalPage], *, subset: bool = False
) -> Predictions:
    """Align predicted pages with ground-truth pages by ``image``, falling back to the file name.

    ``kocr read`` writes only the file name of each image, while ground truth may hold a path
    relative to its folder (``images/001.png``); both are accepted, ambiguity is not guessed at.
    ``subset`` says the ground truth was cut short (``--limit``), so unpaired predictions are expected.
    """
    by_image: dict[str, EvalPage] = {}
    by_name: dict[str, list[EvalPage]] = {}
    for page in pred_pages:
        by_image.setdefault(page.image, page)
        by_name.setdefault(Path(page.image).name, []).append(page)
    used: set[int] = set()
    aligned: list[EvalPage | None] = []
    for gt in gt_pages:
        pred = by_image.get(gt.image)
        if pred is None:
            candidates = by_name.get(Path(gt.image).name, [])
            pred = candidates[0] if len(candidates) == 1 else None
        aligned.append(pred)
        if pred is not None:
            used.add(id(pred))
    notes = []
    missing = sum(p is None for p in aligned)
    if missing:
        example = next(g.image for g, p in zip(gt_pages, aligned) if p is None)
        notes.append(f"{missing} of {len(gt_pages)} ground-truth pages have no prediction (e.g. {example}); "
                     "they are scored as empty predictions")
    extra = sum(1 for pages in by_name.values() for p in pages if id(p) not in used)
    if extra and not subset:
        notes.append(f"{extra} predicted pages match no ground-truth page and are left out")
    return Predictions(pages=aligned, seconds=[None] * len(aligned), crop_texts=[None] * len(aligned), notes=notes)


def resolve_image(page: EvalPage, image_root: Path) -> Path:
    """Where a page's image is: its path as given when absolute, else under ``image_root``."""
    path = Path(page.image)
    path = path if path.is_absolute() else image_root / path
    if not path.exists():
        raise KocrInputError(
            f"{path}: image of a ground-truth page not found; image paths are relative to the ground-truth "
            "file's folder unless --images DIR says where they are"
        )
    return path


def run_engine(
    engine: "Engine",
    gt_pages: list[EvalPage],
    image_root: Path,
    *,
    pages: bool = True,
    crops: bool = True,
    gt_scripts: bool = False,
    progress: Callable[[Iterable[Any], int], Iterable[Any]] | None = None,
) -> Predictions:
    """Read every ground-truth image with ``engine``; optionally read the ground-truth crops too.

    ``pages`` runs the whole pipeline (timed per page, image decoding excluded); ``crops`` cuts
    each ground-truth quad out with :func:`kocr_sdk.geometry.crop_quad` and reads it with
    :meth:`Engine.read_crops` — the recogniser measured apart from the detector — passing the
    ground-truth scripts when ``gt_scripts`` (otherwise the script identifier chooses).
    """
    from ... import __version__
    from ...document import Document
    from ...engine import CROP_HEIGHT
    from ...export import document_to_jsonl_records
    from ...geometry import crop_quad, scale_quad
    from ...io import iter_pages

    out = Predictions(pages=[], seconds=[], crop_texts=[])
    stages = engine.describe()
    unread: Counter = Counter()
    items = list(enumerate(gt_pages))
    for index, gt in (progress(items, len(items)) if progress else items):
        path = resolve_image(gt, image_root)
        pims = list(iter_pages(path, engine.config.input.max_side, engine.config.input.max_pixels))
        pim = pims[0]  # a multi-page file is one ground-truth page only when it has one page
        if pages:
            start = time.perf_counter()
            page = engine.read_page(pim, index)
            out.seconds.append(time.perf_counter() - start)
            for record in page.missing_stages:
                out.missing_stages.setdefault(record.stage, record.message or "missing")
            doc = Document(kocr_version=__version__, pages=[page])
            record = document_to_jsonl_records(doc)[0]
            record["image"] = gt.image
            out.pages.append(EvalPage.model_validate(record))
        else:
            out.pages.append(None)
            out.seconds.append(None)
        if crops and stages.get("recognizer") != "missing":
            polys = [scale_quad(w.poly, pim.scale) for w in gt.words]
            images = [crop_quad(pim.image, q, CROP_HEIGHT, engine.config.recognition.crop_margin) for q in polys]
            scripts = [w.script or "other" for w in gt.words] if gt_scripts else None
            readings = engine.read_crops(images, scripts) if images else []
            texts: list[str | None] = []
            for word, r in zip(gt.words, readings):
                texts.append(r.reading.text if r.reading is not None else None)
                if r.reading is None:
                    unread[r.script or word.script or "?"] += 1
            out.crop_texts.append(texts)
        else:
            out.crop_texts.append(None)
    if crops and stages.get("recognizer") == "missing":
        out.missing_stages.setdefault("recognizer", "no recogniser is installed")
    if unread:
        detail = ", ".join(f"{n} {s}" for s, n in unread.most_common())
        read = sum(1 for texts in out.crop_texts if texts for t in texts if t is not None)
        if read == 0:  # nothing could be read at all: not a score of zero, a missing recogniser
            out.missing_stages.setdefault("recognizer", f"no installed recogniser reads these crops ({detail})")
        else:
            out.notes.append(f"ground-truth crops no installed recogniser could read ({detail}) count as wrong")
    return out


def group_keys(gt_pages: list[EvalPage], max_values: int = 30) -> list[str]:
    """Page keys worth a breakdown when none are asked for: scalar values, 2 to ``max_values`` of them."""
    values: dict[str, set] = {}
    for page in gt_pages:
        for key, value in page.meta.items():
            if key in NOT_GROUPS:
                continue
            if isinstance(value, (str, int, bool)) or value is None:
                values.setdefault(key, set()).add(value)
            else:
                values.setdefault(key, set()).add(object())  # not groupable: make it fail the count
    return [k for k, v in values.items() if 2 <= len(v) <= max_values]


def _group_value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, (str, int, float, bool)):
        return str(value)
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def evaluate(
    gt_pages: list[EvalPage],
    predictions: Predictions,
    *,
    by: list[str] | None = None,
    threshold: float = IOU_THRESHOLD,
    sources: dict[str, str] | None = None,
) -> EvalReport:
    """Score aligned predictions against ground truth: overall, per script, and per page key."""
    results: list[PageResult] = []
    for i, gt in enumerate(gt_pages):
        results.append(
            score_page(
                gt,
                predictions.pages[i] if i < len(predictions.pages) else None,
                crop_texts=predictions.crop_texts[i] if i < len(predictions.crop_texts) else None,
                seconds=predictions.seconds[i] if i < len(predictions.seconds) else None,
                threshold=threshold,
            )
        )
    missing = dict(predictions.missing_stages)
    if not any(gt.fields for gt in gt_pages):
        missing.pop("template_matcher", None)  # nothing to match: its absence changes no figure
    unmeasured = {name for stage in missing for name in NEEDS.get(stage, ())}

    def fig(tally) -> dict[str, Any]:
        values = figures(tally)
        return {k: (None if k in unmeasured else v) for k, v in values.items()}

    keys = group_keys(gt_pages) if by is None else by
    breakdowns: dict[str, dict[str, dict[str, Any]]] = {}
    for key in keys:
        groups: dict[str, list[PageResult]] = {}
        for gt, result in zip(gt_pages, results):
            groups.setdefault(_group_value(gt.meta.get(key)), []).append(result)
        breakdowns[key] = {value: fig(total(rs)) for value, rs in sorted(groups.items())}
    scripts = sorted({s for r in results for s in r.scripts()})
    notes = list(predictions.notes)
    for stage, why in sorted(missing.items()):
        if stage not in NEEDS:
            continue  # clustering, NER: no figure of kocr eval depends on them
        figs = ", ".join(sorted(set(NEEDS.get(stage, ())))) or "none"
        notes.insert(0, f"stage {stage!r} did not run ({why}); not measured: {figs}")
    misses, extras = tally_errors(results)
    dropped = sum(r.dropped_pred for r in results)
    if dropped:
        notes.append(f"{dropped} predictions lying inside \"don't care\" regions were left out")
    return EvalReport(
        sources=sources or {},
        iou_threshold=threshold,
        overall=fig(total(results)),
        by_script={s: fig(total(results, s)) for s in scripts},
        by=breakdowns,
        missing_stages=missing,
        detection_errors={"misses": misses, "extras": extras},
        notes=notes,
    )
