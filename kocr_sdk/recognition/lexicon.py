"""Lexicon correction: an unsure letter that keeps a reading out of the dictionary is changed.

Why: on worn scans and faxes a recogniser trained on generated text loses strokes — ``e``
without its bar reads ``c`` (``thc``, ``mcssage``, ``Ncvember``), ``i`` reads ``l`` — and
these are the commonest substitutions kocr makes on real English forms. The recogniser
usually knows: the character it got wrong is one it was unsure of. So a word is corrected
only where (a) its letters are not an English word, (b) changing or dropping one or two
letters the recogniser was unsure of (character confidence below ``max_confidence``), or
adding one after such a letter, makes one, and (c) the recogniser itself finds that
spelling nearly as likely as what it read: the CTC likelihood of the whole reading on the
crop's frames (:mod:`.ctc`) may fall at most ``margin`` nats, the prior that a word on a
page is a word; among several spellings the likeliest wins. Names, codes and words read
with confidence are left as read: the recogniser's certainty, not the dictionary, decides
which letters may move.

A second correction puts back spaces the recogniser missed (``ofthis``, ``NAMEOF``): a word of
four or more letters that is not in the list but splits into two or three common words (the
first two tiers, or the user's; a piece of two or three letters only from the first tier, the
language's commonest words: a dictionary's other short words are abbreviations such as ``re``
and ``tot`` that would cut names in two) is split when the spaced reading is at most
``space_margin`` nats less likely on the frames. Why: on typewritten forms the gap between two
words can be as narrow as a letter gap, the detector then boxes both words as one, and the
recogniser, unsure, leaves the space out; a spaced reading is what lets the engine cut the box
in two (:mod:`.spaces`). The margin is separate from the letters' because the two are different
errors: a missed space is not an unsure letter, and the frames at a narrow gap give the space a
low but telling probability.

The word lists (``kocr_sdk/data/lexicons/<language>.txt.gz``: one ``word<TAB>tier`` a line,
lower tiers the commoner words, which break ties) are built by ``python -m kocr_sdk.lab.lexicon``
from SCOWL's English lists; users add their own words (company names, product codes) with
the recogniser's ``lexicon_words`` option.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import re
import string
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz.distance.Levenshtein import opcodes as _opcodes

from ..errors import KocrError
from ..interfaces import Reading
from ..resources import DATA_DIR

__all__ = ["LEXICON_CONFIDENCE", "LEXICON_DIR", "LEXICON_MARGIN", "LEXICON_SPACE_MARGIN", "Lexicon", "lexicon_path",
           "load_lexicon", "correct_reading"]

LEXICON_DIR = DATA_DIR / "lexicons"
#: Largest word-list file read from a user (a list of a million words is ~10 MB).
MAX_WORDS_FILE_BYTES = 32 * 1024 * 1024
#: A word's core: letters only, with what surrounds them (quotes, punctuation, digits) kept as
#: read. Words with a hyphen or an apostrophe inside (``e-mail``, ``don't``) are not matched:
#: the list holds neither, and dropping the mark would make one of a word that was right.
_CORE = re.compile(r"^([^A-Za-z]*)([A-Za-z]+)([^A-Za-z]*)$")
_LETTERS = string.ascii_lowercase
#: Letters the recogniser was less sure of than this may change (the stage's ``lexicon_confidence``).
LEXICON_CONFIDENCE = 0.99
#: How far (nats of CTC log-likelihood) a dictionary spelling may fall below what was read and
#: still replace it (the stage's ``lexicon_margin``): the prior that a word on a page is a word.
LEXICON_MARGIN = 5.0
#: How far (nats) a reading with spaces put back may fall below what was read (the stage's
#: ``lexicon_space_margin``).
LEXICON_SPACE_MARGIN = 10.0
#: A missed space splits a word into at most this many words.
_MAX_PIECES = 3
#: Words of one letter a split may make: other single letters are initials or codes.
_ONE_LETTER_WORDS = frozenset({"a", "i"})
#: The least common tier a split may make a word of two or three letters from, and a longer one.
_SHORT_PIECE_TIER, _PIECE_TIER = 1, 2
#: Shorter words stay as read: three letters are mostly abbreviations (``GST``, ``SDN``, ``QTY``)
#: one change away from some English word, and a dictionary knows too little about them.
LEXICON_MIN_LETTERS = 4
#: A word with more unsure letters than this is left as read: too little of it is known. (At 3 the
#: tuning scans, receipts and generated lines had 40, 30 and 46 words put right; at 5 41, 39 and
#: 52, none broken on any.)
_MAX_UNSURE = 5
#: At most this many letters change in one word: the candidates grow ~53-fold with each.
_MAX_CHANGES = 2


@dataclass(frozen=True)
class Lexicon:
    """Words (lower case) with their tier: 1 the commonest, higher less common, 0 added by the user
    (always preferred)."""

    tiers: dict[str, int]

    def __contains__(self, word: str) -> bool:
        return word.lower() in self.tiers


def _read_words_file(path: Path) -> Iterator[tuple[str, int]]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        if path.stat().st_size > MAX_WORDS_FILE_BYTES:
            raise KocrError(f"word list {path} is larger than {MAX_WORDS_FILE_BYTES // (1024 * 1024)} MB")
        with opener(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                word, _, tier = line.strip().partition("\t")
                if word:
                    yield word, int(tier) if tier.isdigit() else 0
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise KocrError(f"cannot read word list {path}: {exc}") from None


def lexicon_path(language: str) -> Path:
    """The shipped word list of ``language``; a :class:`KocrError` naming those shipped if none."""
    path = LEXICON_DIR / f"{language}.txt.gz"
    if not path.is_file():
        shipped = sorted(p.name.split(".")[0] for p in LEXICON_DIR.glob("*.txt.gz"))
        raise KocrError(f"no word list for language {language!r}: kocr ships {', '.join(shipped) or 'none'}")
    return path


@functools.lru_cache(maxsize=8)
def load_lexicon(language: str, extra_words: tuple[str, ...] = ()) -> Lexicon:
    """The shipped word list of ``language`` plus the words in ``extra_words`` files (one a line)."""
    path = lexicon_path(language)
    tiers = {w.lower(): t for w, t in _read_words_file(path)}
    for extra in extra_words:
        for word, _ in _read_words_file(Path(extra)):
            tiers[word.lower()] = 0
    return Lexicon(tiers)


def _edits(core: str, unsure: Sequence[int]) -> Iterator[str]:
    """Every word made from ``core`` by a change at each of one or two unsure positions: the
    letter replaced or dropped, or (one change only) a letter added right after it. Two changes
    with additions would be four times as many words to look up, for a kind of error (two
    letters lost in one word) the recogniser rarely makes."""
    def at(word: str, i: int, add: bool) -> Iterator[str]:
        for c in _LETTERS:
            if c != word[i]:
                yield word[:i] + c + word[i + 1:]
            if add:
                yield word[:i + 1] + c + word[i + 1:]
        yield word[:i] + word[i + 1:]

    # Right to left, so a change never shifts a position still to be changed.
    for n in range(1, min(len(unsure), _MAX_CHANGES) + 1):
        for chosen in itertools.combinations(sorted(unsure, reverse=True), n):
            words = [core]
            for i in chosen:
                words = [w for base in words for w in at(base, i, add=n == 1)]
            yield from words


def _cased(new: str, old: str) -> str:
    """``new`` in ``old``'s case: all capitals, a capital first, or letter by letter where aligned."""
    if old.isupper() and len(old) > 1:
        return new.upper()
    if len(new) == len(old):
        return "".join(n.upper() if o.isupper() else n for o, n in zip(old, new))
    return new[0].upper() + new[1:] if old[0].isupper() else new


def correct_reading(reading: Reading, lexicon: Lexicon, score: Callable[[list[str]], Sequence[float]], max_confidence: float,
                    margin: float, min_letters: int = LEXICON_MIN_LETTERS, space_margin: float | None = None) -> Reading:
    """``reading`` with each of its space-separated words corrected as the module docstring says.

    ``score(texts)`` gives the recogniser's log-likelihood of each whole reading
    (:func:`.ctc.log_likelihoods` over the crop's frames); a dictionary spelling replaces what was read when its score is at
    most ``margin`` (nats) below the reading's, a split into common words when it is at most
    ``space_margin`` below (``None``: words are never split). Readings without per-character
    confidences are never changed, nor are words with digits inside or shorter than
    ``min_letters`` letters. A changed letter carries the confidence of the letter it replaces
    (an added one, or an added space, that of the letter before it).
    """
    text, confs = reading.text, reading.char_confidences
    if confs is None or len(confs) != len(text):
        return reading
    old_pieces = text.split(" ")
    pieces = list(old_pieces)
    starts = [0]
    for piece in old_pieces[:-1]:
        starts.append(starts[-1] + len(piece) + 1)
    base: float | None = None
    for k, piece in enumerate(old_pieces):
        candidates = [(c, tier, margin) for c, tier in
                      _candidates(piece, confs[starts[k]:starts[k] + len(piece)], lexicon, max_confidence, min_letters)]
        if space_margin is not None:
            candidates += [(c, 1, space_margin) for c in _splits(piece, lexicon, min_letters)]
        if not candidates:
            continue
        texts = [" ".join(pieces[:k] + [c] + pieces[k + 1:]) for c, _, _ in candidates]
        if base is None:
            *scores, base = score(texts + [text])
        else:
            scores = list(score(texts))
        allowed = [(float(sc), -tier, c) for sc, (c, tier, m) in zip(scores, candidates) if float(sc) >= base - m]
        if allowed:
            pieces[k] = max(allowed)[2]
    if pieces == old_pieces:
        return reading
    new_confs: list[float] = []
    for k, (old, new) in enumerate(zip(old_pieces, pieces)):
        if k:
            new_confs.append(float(confs[starts[k] - 1]))
        new_confs.extend(_aligned_confidences(old, new, confs[starts[k]:starts[k] + len(old)]))
    return reading.model_copy(update={"text": " ".join(pieces), "char_confidences": new_confs})


def _unknown_core(text: str, lexicon: Lexicon, min_letters: int) -> tuple[str, str, str] | None:
    """``(head, core, tail)`` of ``text`` (:data:`_CORE`) when its letters are a word of at least
    ``min_letters`` not in ``lexicon``: the only words either correction looks at."""
    m = _CORE.match(text)
    if m is None:
        return None
    head, core, tail = m.groups()
    if len(core) < min_letters or core in lexicon:
        return None
    return head, core, tail


def _splits(text: str, lexicon: Lexicon, min_letters: int) -> list[str]:
    """``text`` with spaces put back between common words, two or three of them, every letter
    kept as read; none for a word in the list or shorter than ``min_letters``."""
    parts = _unknown_core(text, lexicon, min_letters)
    if parts is None:
        return []
    head, core, tail = parts
    low = core.lower()

    def common(word: str) -> bool:
        if len(word) == 1:
            return word in _ONE_LETTER_WORDS
        tier = lexicon.tiers.get(word)
        return tier is not None and tier <= (_SHORT_PIECE_TIER if len(word) <= 3 else _PIECE_TIER)

    found: list[str] = []

    def extend(start: int, cuts: list[int]) -> None:
        for end in range(start + 1, len(low) + 1):
            if not common(low[start:end]):
                continue
            if end == len(low):
                if cuts:
                    bounds = [0, *cuts, end]
                    found.append(head + " ".join(core[a:b] for a, b in zip(bounds, bounds[1:])) + tail)
            elif len(cuts) + 1 < _MAX_PIECES:
                extend(end, cuts + [end])

    extend(0, [])
    return found


def _candidates(text: str, confs: Sequence[float], lexicon: Lexicon, max_confidence: float,
                min_letters: int) -> list[tuple[str, int]]:
    """Dictionary spellings of ``text`` reached by changing only its unsure letters: (text, tier)."""
    if not confs or min(confs) >= max_confidence:  # the common case, decided before any parsing
        return []
    parts = _unknown_core(text, lexicon, min_letters)
    if parts is None:
        return []
    head, core, tail = parts
    core_confs = confs[len(head):len(head) + len(core)]
    unsure = sorted((i for i, c in enumerate(core_confs) if c < max_confidence), key=lambda i: core_confs[i])
    if not unsure or len(unsure) > _MAX_UNSURE:
        return []
    found: dict[str, int] = {}
    for word in _edits(core.lower(), unsure):
        tier = lexicon.tiers.get(word)
        if tier is not None and len(word) >= min_letters:
            found.setdefault(head + _cased(word, core) + tail, tier)
    return list(found.items())


def _aligned_confidences(old: str, new: str, confs: Sequence[float]) -> list[float]:
    """One confidence per letter of ``new``: kept letters keep theirs, a replaced letter takes
    the lowest of those it replaces, an added one that of the letter before it."""
    out: list[float] = []
    for tag, i1, i2, j1, j2 in _opcodes(old.lower(), new.lower()):
        if tag == "equal":
            out.extend(float(c) for c in confs[i1:i2])
        elif tag == "replace":
            out.extend([float(min(confs[i1:i2]))] * (j2 - j1))
        elif tag == "insert":
            out.extend([float(confs[max(0, i1 - 1)])] * (j2 - j1))
    return out
