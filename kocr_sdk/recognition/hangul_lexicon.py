"""Lexicon correction of Hangul words: an unsure syllable that keeps a reading out of Korean is changed.

Why: on thermal receipts and phone photos the Hangul recogniser loses a stroke of one jamo —
``사업자번호`` reads ``사업자밴호``, ``감사합니다`` ``강사합니다``, ``승인번호`` ``충인번호``,
``수량`` ``수탕`` — and a user copying a label, or a template looking for one, gets it wrong. As
with English (:mod:`.lexicon`), the recogniser usually knows which syllable it was unsure of, so
a word is corrected only where (a) it is not Korean as the word list knows it, (b) changing one
or two syllables read with confidence under ``max_confidence`` makes it so, and (c) the
recogniser's own CTC likelihood of the changed word on the crop's frames falls at most
``margin`` nats below what it read. Syllables read with confidence never move, so names and
places outside the list stay as read.

Korean writes compounds and particles without spaces (``사업자번호`` is ``사업자`` + ``번호``,
``결제금액은`` ``결제`` + ``금액`` + ``은``), and no list holds every compound. The shipped list
(``ko.txt.gz``, built by ``python -m kocr_sdk.lab.lexicon``) holds Korean's commonest words and
morphemes by wordfreq, and a word is Korean when it splits into at most :data:`_MAX_PIECES`
pieces, each a listed word of two or more syllables — the last may also be one of the commonest
single syllables (tier 1: particles, endings and counters such as ``은``, ``명``, ``원``). A single
syllable elsewhere, or one of the rest of the list, is usually a fragment the morpheme analyser
cut, and would let almost any misreading pass as Korean (``수랑`` as ``수`` + ``랑``, ``카드면호``
as ``카드`` + ``면`` + ``호``). Three-syllable words after a common surname are left as read:
they are mostly names (:func:`_name_like`).

The same list takes out a space the recogniser was unsure of inside a Korean word (``승인일 자``,
``NH농 협``): where one side is a lone syllable or not Korean and both together are, and the
joined reading is within ``margin`` nats; the engine would otherwise cut the box in two there.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..interfaces import Reading
from .lexicon import Lexicon, load_lexicon

__all__ = ["HangulLexicon", "correct_hangul", "has_hangul", "load_hangul_lexicon"]

#: A word's Hangul core, with what surrounds it (digits, punctuation, Latin) kept as read.
_CORE = re.compile(r"^([^가-힣]*)([가-힣]+)([^가-힣]*)$")
_HANGUL = re.compile(r"[가-힣]+")
#: A word is Korean when it splits into at most this many listed pieces.
_MAX_PIECES = 3
#: Listed words of more syllables than this are not indexed for changes (the list has a handful).
_MAX_INDEXED = 6
#: Single syllables of this tier or commoner are pieces of their own (particles, endings, counters).
_SINGLE_TIER = 1
#: A word with more unsure syllables than this is left as read: too little of it is known. (On
#: thermal receipts five-syllable labels often have four or five syllables under 0.99; at 3 the
#: tuning sets' Hangul crops had 304, 79 and 116 words put right, at 5 356, 96 and 139, two more
#: broken; at 6 hardly more.)
_MAX_UNSURE = 5
#: At most two syllables change in one word, and this many jamo in all: of the misread words on
#: generated scans whose truth is a change of two unsure syllables, 144 of 148 are one or two
#: jamo from it, while a budget of four jamo makes ~580 spellings to score a word, not ~36.
_MAX_JAMO_CHANGES = 2
#: The commonest Korean surnames: a three-syllable word after one is left as read (:func:`_name_like`).
_SURNAMES = frozenset("김이박최정강조윤장임한오서신권황안송류홍고")
#: Words whose verdict is remembered (a long batch reads millions).
_KNOWN_CACHE = 100_000
#: Words of fewer syllables stay as read: a lone syllable is one jamo from dozens of others.
HANGUL_MIN_SYLLABLES = 2


@dataclass(frozen=True)
class HangulLexicon:
    """The Hangul words of a :class:`.Lexicon`, indexed for the syllable changes this module tries.

    ``patterns`` maps a listed word with one or two of its syllables replaced by ``?`` to the
    syllables that fill them (one string: a syllable per wildcard per fill, fill after fill), so
    the changes worth scoring are found by lookup rather than by trying all 11,172 syllables at
    each unsure position."""

    tiers: dict[str, int]
    patterns: dict[str, str] = field(default_factory=dict, repr=False)
    _known: dict[str, bool] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, lexicon: Lexicon) -> HangulLexicon:
        tiers = {w: t for w, t in lexicon.tiers.items() if _HANGUL.fullmatch(w)}
        patterns: defaultdict[str, set[str]] = defaultdict(set)
        for word in tiers:  # plain string slicing: this runs once a process, on the first Korean page
            n = len(word)
            if not 2 <= n <= _MAX_INDEXED:
                continue
            for i in range(n):
                patterns[word[:i] + "?" + word[i + 1:]].add(word[i])
            for i, j in itertools.combinations(range(n) if n > 2 else (), 2):  # "??" alone is never asked
                patterns[word[:i] + "?" + word[i + 1:j] + "?" + word[j + 1:]].add(word[i] + word[j])
        # Each key's fills as one string (a set of one-syllable strings a key weighs ~10x more).
        return cls(tiers, {key: "".join(sorted(fills)) for key, fills in patterns.items()})

    def piece(self, text: str) -> bool:
        """Whether ``text`` may be one piece of a Korean word."""
        tier = self.tiers.get(text)
        return tier is not None and (len(text) > 1 or tier <= _SINGLE_TIER)

    def known(self, word: str) -> bool:
        """Whether ``word`` splits into at most :data:`_MAX_PIECES` pieces of the list."""
        if word not in self._known:  # a page asks about the same few hundred words again and again
            if len(self._known) > _KNOWN_CACHE:
                self._known.clear()
            self._known[word] = _splits_into(word, self, _MAX_PIECES)
        return self._known[word]


@functools.lru_cache(maxsize=4)
def load_hangul_lexicon(extra_words: tuple[str, ...] = ()) -> HangulLexicon:
    """The shipped Korean list plus the words in ``extra_words`` files, indexed (0.1–0.2 s and
    8 MB, once a process: the stage asks for it at its first Hangul word)."""
    return HangulLexicon.of(load_lexicon("ko", extra_words))


def has_hangul(text: str) -> bool:
    """Whether ``text`` holds a Hangul syllable: the only readings :func:`correct_hangul` looks
    at, asked first so that a page without Korean never loads the list."""
    return _HANGUL.search(text) is not None


def _splits_into(word: str, lexicon: HangulLexicon, pieces: int) -> bool:
    if lexicon.piece(word):
        return True
    if pieces <= 1:
        return False
    # Only the last piece may be a single syllable: particles, endings and counters follow a word.
    return any(lexicon.piece(word[:i]) and _splits_into(word[i:], lexicon, pieces - 1) for i in range(2, len(word)))


def _name_like(word: str) -> bool:
    """Whether ``word`` may be a person's name: three syllables after one of the commonest
    surnames. Names are in no list, and one syllable from a listed compound as often as not
    (``장현주`` → ``장한`` + ``주``)."""
    return len(word) == 3 and word[0] in _SURNAMES


@functools.lru_cache(maxsize=None)
def _jamo(syllable: str) -> tuple[int, int, int]:
    """A syllable's (initial, medial, final) jamo indices (final 0: none)."""
    i = ord(syllable) - 0xAC00
    return i // 588, (i % 588) // 28, i % 28


@functools.lru_cache(maxsize=1 << 16)
def _jamo_changes(a: str, b: str) -> int:
    """How many of two syllables' three jamo differ. The recogniser emits jamo, and a misread
    syllable keeps most of them (``밴``/``번``, ``강``/``감``, ``충``/``승``, ``톡``/``록``): a
    change to an unrelated syllable is a guess the frames rarely back."""
    return sum(x != y for x, y in zip(_jamo(a), _jamo(b)))


def _fills(core: str, positions: tuple[int, ...], lexicon: HangulLexicon, budget: int) -> set[str]:
    """Syllables for ``positions`` (one or two; a string of one a position) that some listed word
    spanning them puts there, the rest of its span as read, changing at most ``budget`` jamo of
    those read there."""
    read = "".join(core[i] for i in positions)
    found: set[str] = set()
    seen: set[str] = set()
    lo, hi = min(positions), max(positions)
    for a in range(max(0, hi - _MAX_INDEXED + 1), lo + 1):
        # A span of nothing but the changed syllables says nothing about them: every word fits it.
        for b in range(max(hi + 1, a + len(positions) + 1), min(len(core), a + _MAX_INDEXED) + 1):
            key = "".join("?" if a + i in positions else c for i, c in enumerate(core[a:b]))
            fills = lexicon.patterns.get(key, "")
            for k in range(0, len(fills), len(positions)):
                fill = fills[k:k + len(positions)]
                if fill not in seen:
                    seen.add(fill)
                    if sum(map(_jamo_changes, read, fill)) <= budget:
                        found.add(fill)
    return found


def _candidates(core: str, unsure: Sequence[int], lexicon: HangulLexicon) -> set[str]:
    """Korean words made from ``core`` by changing one or two of its ``unsure`` syllables."""
    singles = {i: _fills(core, (i,), lexicon, _MAX_JAMO_CHANGES) for i in unsure}
    changes: list[tuple[tuple[int, ...], set[str]]] = [((i,), fills) for i, fills in singles.items()]
    for i, j in itertools.combinations(sorted(unsure), 2):
        # Both in one listed word, or each in its own: the jamo budget shared.
        fills = _fills(core, (i, j), lexicon, _MAX_JAMO_CHANGES)
        fills |= {x + y for x in singles[i] if _jamo_changes(core[i], x) == 1
                  for y in singles[j] if _jamo_changes(core[j], y) == 1}
        changes.append(((i, j), fills))
    found: set[str] = set()
    for positions, fills in changes:
        for fill in fills:
            chars = list(core)
            for i, c in zip(positions, fill):
                chars[i] = c
            word = "".join(chars)
            if lexicon.known(word):
                found.add(word)
    return found


def correct_hangul(reading: Reading, lexicon: HangulLexicon, score: Callable[[list[str]], Sequence[float]],
                   max_confidence: float, margin: float, min_syllables: int = HANGUL_MIN_SYLLABLES) -> Reading:
    """``reading`` with each space-separated word's Hangul core corrected as the module docstring
    says. ``score(texts)`` is the recogniser's CTC log-likelihood of each whole reading on the
    crop's frames; readings without per-character confidences are never changed. A changed
    syllable keeps the confidence of the one it replaces."""
    text, confs = reading.text, reading.char_confidences
    if confs is None or len(confs) != len(text) or min(confs, default=1.0) >= max_confidence:
        return reading
    reading = _joined(reading, lexicon, score, max_confidence, margin)
    text, confs = reading.text, reading.char_confidences
    assert confs is not None
    pieces = text.split(" ")
    start = 0
    new_pieces: list[str] = []
    base: float | None = None
    for k, piece in enumerate(pieces):
        new_pieces.append(piece)
        m = _CORE.match(piece)
        if m is not None and len(m[2]) >= min_syllables and not lexicon.known(m[2]) and not _name_like(m[2]):
            head, core, tail = m.groups()
            off = start + len(head)
            unsure = [i for i in range(len(core)) if confs[off + i] < max_confidence]
            if unsure and len(unsure) <= _MAX_UNSURE:
                words = sorted(_candidates(core, unsure, lexicon))
                if words:
                    texts = [" ".join(pieces[:k] + [head + w + tail] + pieces[k + 1:]) for w in words]
                    if base is None:
                        *scores, base = score(texts + [text])
                    else:
                        scores = list(score(texts))
                    allowed = [(float(s), w) for s, w in zip(scores, words) if float(s) >= base - margin]
                    if allowed:
                        new_pieces[k] = head + max(allowed)[1] + tail
        start += len(piece) + 1
    if new_pieces == pieces:
        return reading
    # Same length word by word: every confidence stays where it was.
    return reading.model_copy(update={"text": " ".join(new_pieces)})


def _joined(reading: Reading, lexicon: HangulLexicon, score: Callable[[list[str]], Sequence[float]],
            max_confidence: float, margin: float) -> Reading:
    """``reading`` with one space it holds inside a Korean word taken out: a space read with
    confidence under ``max_confidence`` between two Hangul words, one of them a lone syllable or
    not Korean, that together make a Korean word (``승인일 자`` → ``승인일자``, ``카드 번호`` stays),
    when the joined reading is within ``margin`` nats of it on the frames."""
    text, confs = reading.text, reading.char_confidences
    assert confs is not None
    pieces = text.split(" ")
    joins: list[tuple[int, int]] = []  # (piece, position of the space after it)
    at = -1
    for k in range(len(pieces) - 1):
        at += len(pieces[k]) + 1
        left, right = _CORE.match(pieces[k]), _CORE.match(pieces[k + 1])
        if left is None or right is None or left[3] or right[1] or confs[at] >= max_confidence:
            continue
        a, b = left[2], right[2]
        if ((len(a) == 1 or len(b) == 1 or not lexicon.known(a) or not lexicon.known(b))
                and lexicon.known(a + b) and not _name_like(a + b)):
            joins.append((k, at))
    if not joins:
        return reading
    texts = [" ".join(pieces[:k] + [pieces[k] + pieces[k + 1]] + pieces[k + 2:]) for k, _ in joins]
    *scores, base = score(texts + [text])
    best = max((float(sc), -at, t) for sc, (_, at), t in zip(scores, joins, texts))
    if best[0] < float(base) - margin:
        return reading
    space = -best[1]
    return reading.model_copy(update={"text": best[2], "char_confidences": list(confs[:space]) + list(confs[space + 1:])})
