"""Upside-down check: decide between a page's orientation and its 180° opposite by reading.

Why this exists: the detector tells the *axis* of text reliably (horizontal lines vs vertical
ones) but its per-word 0°/180° (and 90°/270°) call is weak — a stride-4 map sees strokes, not
whole words, and an upside-down Hangul syllable is made of the same strokes. A recogniser, on
the other hand, is confident on upright words and lost on flipped ones. So the engine reads a
few probe words both ways round and lets the recogniser's confidence pick the direction — the
same idea as the 0°/180° text-direction classifiers of other OCR pipelines, but with no extra
model: whatever recogniser is installed does the voting.

The decision is per page (a page is printed one way up), then applied to every word: words the
detector put at the page's opposite orientation are turned to match it, words on the other axis
(vertical labels in a table) are left alone — unless their box is about square: a lone syllable
(a letter-spaced title's `사 업 자 등 록 증` cut into single letters) has no line to tell its axis
by, the detector's per-word call on it is a guess, and read sideways it becomes Latin nonsense
(`등` → `ulo`). Such words take the page's orientation.

Words on the other axis that are long enough to have one get a vote of their own
(:func:`settle_other_axis`): the page's direction says nothing about whether a vertical word
reads bottom to top or top to bottom (a form's document number printed up its margin, a
rotated table header), and the detector's call on it is as weak as on any word, so each is read
both ways round and the more confident reading's direction kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .document import Word
from .geometry import Quad

# Only words whose crops are at least this many times wider than tall take part: a single
# syllable such as 응 or 므 reads (almost) the same both ways up and would only add noise.
MIN_PROBE_ASPECT = 1.8
# Probes are cut to at most this many heights of width (the same pixels are read both ways up,
# so a character cut at the edge costs both readings alike): a long line would otherwise cost as
# much as several words, and a few characters are enough to tell which way up they are.
MAX_PROBE_ASPECT = 6.0
# A word on the other axis whose box is at most this much longer one way than the other has no
# axis of its own (a single glyph): it is read at the page's orientation.
SQUARE_ASPECT = 1.45
# A word on the other axis is turned only when its turned reading is at least this confident:
# on receipts most such "words" are specks, barcode bars and creases, which read as nonsense
# both ways round (turned confidences up to 0.57 on generated thermal receipts), while real
# vertical words read turned at 0.77-0.96 on generated scans (sets no figure uses).
MIN_TURNED_CONFIDENCE = 0.7


def quad_orientation(quad: Sequence[Sequence[float]]) -> int:
    """The reading direction of ``quad`` (points in reading order) as 0/90/180/270 degrees.

    0 is text read left to right; 90 is text rotated counter-clockwise (reading bottom to top),
    matching the page orientations the detector reports.
    """
    q = np.asarray(quad, dtype=float)
    dx, dy = (q[1] - q[0]) + (q[2] - q[3])
    angle = np.degrees(np.arctan2(-dy, dx)) % 360  # image y grows downwards
    return int(round(angle / 90.0)) % 4 * 90


def turn_quad(quad: Sequence[Sequence[float]], steps: int) -> Quad:
    """The same four points, read from ``steps`` corners on (1: the text turned 90°; 2: 180°)."""
    q = [tuple(map(float, p)) for p in quad]
    k = steps % 4
    return tuple(q[k:] + q[:k])  # type: ignore[return-value]


def flip_quad(quad: Sequence[Sequence[float]]) -> Quad:
    """The same four points, read from the opposite corner: the quad of the text turned 180°."""
    return turn_quad(quad, 2)


def _aspect(quad: Sequence[Sequence[float]]) -> float:
    q = np.asarray(quad, dtype=float)
    a = np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])
    b = np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])
    return float(max(a, b) / max(min(a, b), 1e-6))


def turn_word(word: Word, steps: int) -> Word:
    """``word`` with its quad and its characters' quads read ``steps`` corners on; turned round
    (2 steps) its characters also read in the opposite order, each keeping its position's id."""
    chars = [c.model_copy(update={"quad": turn_quad(c.quad, steps)}) for c in word.chars]
    if steps % 4 == 2:
        chars = [c.model_copy(update={"id": old.id}) for c, old in zip(reversed(chars), word.chars)]
    return word.model_copy(update={"quad": turn_quad(word.quad, steps), "chars": chars})


def flip_word(word: Word) -> Word:
    """``word`` with its quad and its characters' quads turned 180°, characters in new reading order."""
    return turn_word(word, 2)


def turn_word_to(word: Word, crop: np.ndarray, orientation: int) -> tuple[Word, np.ndarray]:
    """``word`` (and its upright crop) re-read at ``orientation``: quads start from another
    corner, the crop turns with them (starting one corner on puts the old right edge on top)."""
    steps = next((k for k in (1, 2, 3) if quad_orientation(turn_quad(word.quad, k)) == orientation), 0)
    if not steps:
        return word, crop
    return turn_word(word, steps), np.ascontiguousarray(np.rot90(crop, steps))


@dataclass
class OrientationVote:
    """The outcome of the check: whether to flip, and the evidence for it."""

    flip: bool
    probes: int  # probe words read (fewer than offered when the first ones settled it)
    margin: float  # mean (flipped − upright) recogniser confidence over the probes
    confidence: float  # share of probes that agree with the decision
    gains: tuple[float, ...] = ()  # each probe's (flipped − upright) confidence, in reading order

    @property
    def ran(self) -> bool:
        return self.probes > 0


def choose_probes(words: Sequence[Word], crops: Sequence[np.ndarray], orientation: int, limit: int) -> list[int]:
    """Indices of up to ``limit`` words to read both ways: at the page's orientation, elongated
    enough to be several characters, the most confidently detected first."""
    candidates = []
    for i, (word, crop) in enumerate(zip(words, crops)):
        h, w = crop.shape[:2]
        if quad_orientation(word.quad) != orientation or w < MIN_PROBE_ASPECT * h:
            continue
        candidates.append((-(word.confidence or 0.0), -w / max(h, 1), i))
    return [i for *_, i in sorted(candidates)[:limit]]


def vote(crops: Sequence[np.ndarray], read_confidences: Callable[[list[np.ndarray]], list[float]],
         min_margin: float = 0.0, first: int = 0, sure_margin: float = 0.0) -> OrientationVote:
    """Read each crop as it is and turned 180°, and decide whether the flipped reading wins.

    ``read_confidences`` maps crops to the recogniser's word confidences (both ways of a round
    in one batched call). The page flips when the mean confidence gain from flipping exceeds
    ``min_margin``.

    With ``first`` > 0 the check reads in two rounds: the first ``first`` probes, and the rest
    only when those leave doubt — when they disagree, or their mean gain is within
    ``sure_margin`` of zero. An upright word reads at ~0.9 one way round and ~0.1 the other,
    so on a typical page four probes settle it and the other twelve would only repeat them.
    """
    if not crops:
        return OrientationVote(False, 0, 0.0, 0.0)
    crops = [c[:, : max(1, int(MAX_PROBE_ASPECT * c.shape[0]))] for c in crops]
    rounds = [crops[:first], crops[first:]] if 0 < first < len(crops) else [crops]
    gains: list[float] = []
    for part in rounds:
        both = list(part) + [np.ascontiguousarray(c[::-1, ::-1]) for c in part]
        conf = np.asarray(read_confidences(both), dtype=float)
        gains.extend((conf[len(part):] - conf[: len(part)]).tolist())
        g = np.asarray(gains)
        if len(gains) < len(crops) and abs(g.mean()) > sure_margin and ((g > 0).all() or (g <= 0).all()):
            break
    g = np.asarray(gains)
    flip = bool(g.mean() > min_margin)
    agree = float(np.mean(g > 0) if flip else np.mean(g <= 0))
    return OrientationVote(flip, len(gains), float(g.mean()), agree, tuple(gains))


def apply(words: Sequence[Word], crops: Sequence[np.ndarray], page_orientation: int,
          flip_page: bool) -> tuple[list[Word], list[np.ndarray], int]:
    """Words, crops and page orientation after the check.

    The page's orientation becomes its opposite when ``flip_page``; then every word the detector
    set at the opposite of the (new) page orientation is turned round, with its crop, and every
    about-square word on the other axis (:data:`SQUARE_ASPECT`) is turned to the page's.
    """
    orientation = (page_orientation + 180) % 360 if flip_page else page_orientation % 360
    opposite = (orientation + 180) % 360
    out_words, out_crops = [], []
    for word, crop in zip(words, crops):
        own = quad_orientation(word.quad)
        if own == opposite or (own != orientation and _aspect(word.quad) <= SQUARE_ASPECT):
            word, crop = turn_word_to(word, crop, orientation)
        out_words.append(word)
        out_crops.append(crop)
    return out_words, out_crops, orientation


def other_axis_words(words: Sequence[Word], orientation: int) -> list[int]:
    """Indices of the words on the other axis than the page's ``orientation`` long enough to be
    several characters (:data:`MIN_PROBE_ASPECT`, as the page's probes): they have a direction to
    settle, where a mark or a lone letter reads about the same both ways."""
    return [i for i, word in enumerate(words)
            if quad_orientation(word.quad) % 180 != orientation % 180 and _aspect(word.quad) >= MIN_PROBE_ASPECT]


def settle_other_axis(words: Sequence[Word], crops: Sequence[np.ndarray], orientation: int,
                      read_confidences: Callable[[list[np.ndarray]], list[float]],
                      ) -> tuple[list[Word], list[np.ndarray], int, int]:
    """Words and crops with every word on the other axis (:func:`other_axis_words`) turned 180°
    where its turned crop reads more confidently than the crop as cut, and at least at
    :data:`MIN_TURNED_CONFIDENCE`; how many such words were read, and how many turned. All
    those crops, both ways round, are read in one call."""
    out_words, out_crops = list(words), list(crops)
    indices = other_axis_words(words, orientation)
    if not indices:
        return out_words, out_crops, 0, 0
    turned = [np.ascontiguousarray(crops[i][::-1, ::-1]) for i in indices]
    conf = np.asarray(read_confidences([crops[i] for i in indices] + turned), dtype=float)
    flips = 0
    for k, i in enumerate(indices):
        if conf[len(indices) + k] > conf[k] and conf[len(indices) + k] >= MIN_TURNED_CONFIDENCE:
            out_words[i], out_crops[i] = flip_word(words[i]), turned[k]
            flips += 1
    return out_words, out_crops, len(indices), flips


__all__ = ["OrientationVote", "apply", "choose_probes", "flip_quad", "flip_word", "other_axis_words", "quad_orientation",
           "settle_other_axis", "turn_quad", "turn_word", "turn_word_to", "vote"]
