"""What ``kocr eval`` measures on one page, and how page counts add up to the reported figures.

Every figure is a ratio of *counts summed over pages* (micro-averaged), never a mean of per-page
ratios: a page with three words must not weigh as much as a page with three hundred. A page is
therefore scored into a :class:`Tally` of counts, tallies add, and :func:`figures` turns a sum
of tallies into the figures. Breakdowns (by layout, font, script ...) are sums over a subset of
pages or words, so they are computed exactly like the overall row.

Definitions (docs/evaluation.md has them with examples):

- **word detection** P/R/H: ground-truth and predicted word quads matched one-to-one at
  IoU >= 0.5 (:mod:`.matching`); P = matched / predicted, R = matched / ground truth,
  H = 2PR/(P+R) = 2·matched / (ground truth + predicted).
- **character detection**: the same on character quads, on pages where both sides have them.
- **end-to-end** P/R/H: as word detection, but a pair counts only when the texts are equal.
- **CER** (order-free): the edit distance of every matched pair, plus every character of every
  unmatched ground-truth word (deleted) and of every unmatched prediction (inserted), over the
  number of ground-truth characters. It does not depend on the order words are listed in, and it
  can exceed 1 when a tool invents more text than the page holds.
- **char F1**: the multiset of non-space characters of a page's ground truth against that of
  its predictions, boxes ignored: overlap = Σ_c min(n_gt(c), n_pred(c)); P = overlap / predicted,
  R = overlap / ground truth. This is the figure peers are compared on in shared/data/README.md.
- **word accuracy**: of the matched pairs, the share whose texts are equal (recognition quality
  given detection); **script accuracy**: of matched pairs whose prediction states a script, the
  share equal to the ground truth's.
- **crop accuracy / crop CER**: the recogniser alone, reading each ground-truth quad cropped
  from the image (no detector involved).
- **field exact match**: of the ground truth's fields, the share whose predicted value equals
  it (both as strings, surrounding whitespace stripped); a missing field is a miss.
- **pages/s**: pages over the seconds the predictions took, when they were timed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

from rapidfuzz.distance import Levenshtein

from .format import EvalPage, EvalWord
from .matching import IOU_THRESHOLD, Matching, coverage_matrix, match_polygons
from ...vocabulary.scripts import script_of

#: A prediction lying more than this share inside a "don't care" region is dropped (ICDAR 2015).
IGNORE_COVERAGE = 0.5


@dataclass
class Tally:
    """Counts from one or more pages; ``a + b`` is the tally of both."""

    pages: int = 0
    gt_words: int = 0
    pred_words: int = 0
    det_matched: int = 0
    e2e_matched: int = 0
    edits: int = 0
    gt_text_chars: int = 0
    bag_gt: int = 0
    bag_pred: int = 0
    bag_overlap: int = 0
    char_pages: int = 0
    gt_chars: int = 0
    pred_chars: int = 0
    char_matched: int = 0
    script_pairs: int = 0
    script_correct: int = 0
    crop_words: int = 0
    crop_correct: int = 0
    crop_edits: int = 0
    crop_chars: int = 0
    fields: int = 0
    fields_exact: int = 0
    timed_pages: int = 0
    seconds: float = 0.0

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def figures(t: Tally) -> dict[str, Any]:
    """The reported figures of a tally; ``None`` where a figure has nothing to be measured on."""
    out: dict[str, Any] = {
        "pages": t.pages,
        "gt_words": t.gt_words,
        "pred_words": t.pred_words,
        "word_precision": _ratio(t.det_matched, t.pred_words),
        "word_recall": _ratio(t.det_matched, t.gt_words),
        "word_hmean": _ratio(2 * t.det_matched, t.gt_words + t.pred_words),
        "e2e_precision": _ratio(t.e2e_matched, t.pred_words),
        "e2e_recall": _ratio(t.e2e_matched, t.gt_words),
        "e2e_hmean": _ratio(2 * t.e2e_matched, t.gt_words + t.pred_words),
        "cer": _ratio(t.edits, t.gt_text_chars),
        "char_f1_precision": _ratio(t.bag_overlap, t.bag_pred),
        "char_f1_recall": _ratio(t.bag_overlap, t.bag_gt),
        "char_f1": _ratio(2 * t.bag_overlap, t.bag_gt + t.bag_pred),
        "word_accuracy": _ratio(t.e2e_matched, t.det_matched),
        "script_accuracy": _ratio(t.script_correct, t.script_pairs),
        "char_pages": t.char_pages,
        "char_precision": _ratio(t.char_matched, t.pred_chars) if t.char_pages else None,
        "char_recall": _ratio(t.char_matched, t.gt_chars) if t.char_pages else None,
        "char_hmean": _ratio(2 * t.char_matched, t.gt_chars + t.pred_chars) if t.char_pages else None,
        "crop_words": t.crop_words,
        "crop_accuracy": _ratio(t.crop_correct, t.crop_words),
        "crop_cer": _ratio(t.crop_edits, t.crop_chars),
        "fields": t.fields,
        "field_exact_match": _ratio(t.fields_exact, t.fields),
        "pages_per_second": _ratio(t.timed_pages, t.seconds),
        "seconds_per_page": _ratio(t.seconds, t.timed_pages),
    }
    return out


def _bag(words: list[EvalWord]) -> Counter:
    return Counter(ch for w in words for ch in w.text if not ch.isspace())


def _field_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


@dataclass
class PageResult:
    """One page scored: the words kept on each side, how they matched, and page-level counts.

    Kept rather than reduced to one tally so that any subset of words (one script) or pages
    (one layout) can be tallied afterwards without matching again.
    """

    image: str
    meta: dict[str, Any]
    gt: list[EvalWord]
    pred: list[EvalWord]
    pred_scripts: list[str]
    matching: Matching
    char_matching: Matching | None = None
    gt_char_owner: list[int] = field(default_factory=list)
    pred_char_owner: list[int] = field(default_factory=list)
    crop_texts: list[str | None] | None = None
    fields: int = 0
    fields_exact: int = 0
    seconds: float | None = None
    dropped_pred: int = 0

    @property
    def gt_scripts(self) -> list[str]:
        return [w.script or script_of(w.text) for w in self.gt]

    def scripts(self) -> set[str]:
        """Every script that occurs on the page, on either side."""
        return set(self.gt_scripts) | set(self.pred_scripts)

    def tally(self, script: str | None = None) -> Tally:
        """Counts of the page, or of the words of one ``script`` only.

        For a script, the ground-truth words are those labelled with it, and the predictions are
        those matched to them plus the unmatched ones whose (stated or inferred) script it is:
        a prediction is judged in the group of the word it found, or of what it claims to be.
        Page-level counts (fields, timing) belong to the page and are left out of script rows.
        """
        gt_scripts = self.gt_scripts
        p2g = self.matching.pred_to_gt
        if script is None:
            gsel = set(range(len(self.gt)))
            psel = set(range(len(self.pred)))
        else:
            gsel = {i for i, s in enumerate(gt_scripts) if s == script}
            psel = {
                j for j in range(len(self.pred))
                if (gt_scripts[p2g[j]] if j in p2g else self.pred_scripts[j]) == script
            }
        t = Tally(pages=1, gt_words=len(gsel), pred_words=len(psel))
        matched = [(g, p) for g, p, _ in self.matching.pairs if g in gsel]
        t.det_matched = len(matched)
        for g, p in matched:
            gt_text, pred_text = self.gt[g].text, self.pred[p].text
            t.e2e_matched += gt_text == pred_text
            t.edits += Levenshtein.distance(gt_text, pred_text)
            if self.pred[p].script is not None and self.gt[g].script is not None:
                t.script_pairs += 1
                t.script_correct += self.pred[p].script == self.gt[g].script
        t.edits += sum(len(self.gt[g].text) for g in self.matching.unmatched_gt if g in gsel)
        t.edits += sum(len(self.pred[p].text) for p in self.matching.unmatched_pred if p in psel)
        t.gt_text_chars = sum(len(self.gt[g].text) for g in gsel)
        bag_gt = _bag([self.gt[g] for g in gsel])
        bag_pred = _bag([self.pred[p] for p in psel])
        t.bag_gt, t.bag_pred = sum(bag_gt.values()), sum(bag_pred.values())
        t.bag_overlap = sum((bag_gt & bag_pred).values())
        if self.char_matching is not None:
            t.char_pages = 1
            t.gt_chars = sum(1 for o in self.gt_char_owner if o in gsel)
            t.pred_chars = sum(1 for o in self.pred_char_owner if o in psel)
            t.char_matched = sum(
                1 for g, p, _ in self.char_matching.pairs
                if self.gt_char_owner[g] in gsel and self.pred_char_owner[p] in psel
            )
        if self.crop_texts is not None:
            for g in gsel:
                reading = self.crop_texts[g]
                t.crop_words += 1
                t.crop_chars += len(self.gt[g].text)
                t.crop_correct += reading == self.gt[g].text
                t.crop_edits += Levenshtein.distance(self.gt[g].text, reading or "")
        if script is None:
            t.fields, t.fields_exact = self.fields, self.fields_exact
            if self.seconds is not None:
                t.timed_pages, t.seconds = 1, self.seconds
        return t


def _chars(words: list[EvalWord]) -> tuple[list, list[int]]:
    polys, owner = [], []
    for i, w in enumerate(words):
        for c in w.chars:
            polys.append(c.poly)
            owner.append(i)
    return polys, owner


def score_page(
    gt: EvalPage,
    pred: EvalPage | None,
    *,
    crop_texts: list[str | None] | None = None,
    seconds: float | None = None,
    threshold: float = IOU_THRESHOLD,
) -> PageResult:
    """Match one page's predictions to its ground truth.

    "Don't care" ground-truth words (``ignore``) are removed, and so is every prediction lying
    more than half inside one: text nobody could transcribe is neither to be found nor to be
    punished for finding. ``crop_texts`` are readings of the ground-truth crops, aligned with
    ``gt.words``; ``seconds`` overrides a ``seconds`` key of the prediction page.
    """
    keep = [i for i, w in enumerate(gt.words) if not w.ignore]
    gt_words = [gt.words[i] for i in keep]
    ignored = [w.poly for w in gt.words if w.ignore]
    pred_words = list(pred.words) if pred is not None else []
    dropped = 0
    if ignored and pred_words:
        cover = coverage_matrix(ignored, [w.poly for w in pred_words])
        inside = (cover > IGNORE_COVERAGE).any(axis=0)
        dropped = int(inside.sum())
        pred_words = [w for w, out in zip(pred_words, inside) if not out]
    matching = match_polygons([w.poly for w in gt_words], [w.poly for w in pred_words], threshold)

    char_matching, gt_owner, pred_owner = None, [], []
    if any(w.chars for w in gt_words) and any(w.chars for w in pred_words):
        gt_polys, gt_owner = _chars(gt_words)
        pred_polys, pred_owner = _chars(pred_words)
        char_matching = match_polygons(gt_polys, pred_polys, threshold)

    n_fields = exact = 0
    if gt.fields:
        predicted = pred.fields if pred is not None else {}
        for name, value in gt.fields.items():
            n_fields += 1
            exact += name in predicted and _field_text(predicted[name]) == _field_text(value)

    if seconds is None and pred is not None:
        value = pred.meta.get("seconds")
        seconds = float(value) if isinstance(value, (int, float)) else None
    return PageResult(
        image=gt.image,
        meta={k: v for k, v in gt.meta.items()},
        gt=gt_words,
        pred=pred_words,
        pred_scripts=[w.script or script_of(w.text) for w in pred_words],
        matching=matching,
        char_matching=char_matching,
        gt_char_owner=gt_owner,
        pred_char_owner=pred_owner,
        crop_texts=[crop_texts[i] for i in keep] if crop_texts is not None else None,
        fields=n_fields,
        fields_exact=exact,
        seconds=seconds,
        dropped_pred=dropped,
    )


def total(results: list[PageResult], script: str | None = None) -> Tally:
    """The sum of the pages' tallies (of one script's words, when given)."""
    out = Tally()
    for r in results:
        if script is None or script in r.scripts():
            out = out + r.tally(script)
    return out
