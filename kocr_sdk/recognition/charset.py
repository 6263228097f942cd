"""Charsets: which characters a recogniser's weights read, and how text maps to output classes.

Hangul syllables are not classes of their own here. Each syllable is decomposed into its
initial, medial and (optional) final jamo — U+AC00 + (initial×21 + medial)×28 + final — and the
model emits jamo. 19 + 21 + 27 jamo classes cover all 11,172 syllables, and what the model learns
about ``ㄱ`` in ``가`` it also knows in ``각``, ``그`` and ``곡``: a CPU training budget sees each
of ~2,000 syllable classes only a few hundred times, but each jamo tens of thousands of times
(docs/models.md has the measurement that motivated this). Initial and final consonants are
distinct classes, so the jamo sequence composes back to syllables without ambiguity.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

HANGUL_BASE, HANGUL_LAST = 0xAC00, 0xD7A3
N_INITIAL, N_MEDIAL, N_FINAL = 19, 21, 28  # final 0 = no final consonant

# Symbols seen on Korean documents beyond ASCII.
KOREAN_DOC_SYMBOLS = "㈜₩·※~‧•○●◎□■△▲▽▼◇◆☆★→←↑↓【】「」『』〈〉《》±×÷°℃％＆（）：；，．－＋￦"

PRINTABLE_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))


def is_hangul_syllable(ch: str) -> bool:
    return HANGUL_BASE <= ord(ch) <= HANGUL_LAST


def decompose(ch: str) -> tuple[int, int, int]:
    """(initial, medial, final) indices of a precomposed Hangul syllable; final 0 means none."""
    code = ord(ch) - HANGUL_BASE
    return code // (N_MEDIAL * N_FINAL), (code // N_FINAL) % N_MEDIAL, code % N_FINAL


def compose(initial: int, medial: int, final: int = 0) -> str:
    return chr(HANGUL_BASE + (initial * N_MEDIAL + medial) * N_FINAL + final)


@dataclass
class Charset:
    """Output classes of a recogniser. Class 0 is the CTC blank.

    ``symbols`` are characters read as themselves; with ``hangul=True`` every precomposed Hangul
    syllable is also covered, through jamo classes.
    """

    name: str
    symbols: str
    hangul: bool = False
    tokens: list[str] = field(init=False)
    index: dict[str, int] = field(init=False)
    _special: set[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        symbols = list(dict.fromkeys(" " + unicodedata.normalize("NFC", self.symbols)))
        self.tokens = ["<blank>"] + symbols
        if self.hangul:
            self.tokens += [f"<I{i}>" for i in range(N_INITIAL)]
            self.tokens += [f"<M{i}>" for i in range(N_MEDIAL)]
            self.tokens += [f"<F{i}>" for i in range(1, N_FINAL)]
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self._special = {i for i, t in enumerate(self.tokens) if i == 0 or (len(t) > 2 and t[0] == "<" and t[1] in "IMF")}

    def __len__(self) -> int:
        return len(self.tokens)

    def covers(self, ch: str) -> bool:
        return ch in self.index or (self.hangul and is_hangul_syllable(ch))

    def unknown(self, text: str) -> list[str]:
        """Characters of ``text`` this charset cannot produce (spaces excepted), in order of appearance."""
        text = unicodedata.normalize("NFC", text)
        return list(dict.fromkeys(c for c in text if not c.isspace() and not self.covers(c)))

    def encode(self, text: str) -> list[int]:
        """Class ids for ``text``; raises ValueError naming characters outside the charset.

        Runs of whitespace become one space (a class of its own, for line crops)."""
        text = " ".join(unicodedata.normalize("NFC", text).split())
        bad = self.unknown(text)
        if bad:
            raise ValueError(f"characters outside charset {self.name!r}: {''.join(bad)!r}")
        ids: list[int] = []
        for ch in text:
            if ch in self.index:
                ids.append(self.index[ch])
            else:
                i, m, f = decompose(ch)
                ids.append(self.index[f"<I{i}>"])
                ids.append(self.index[f"<M{m}>"])
                if f:
                    ids.append(self.index[f"<F{f}>"])
        return ids

    def decode(self, ids: list[int], confidences: list[float] | None = None) -> tuple[str, list[float]]:
        """Text from class ids (blanks and CTC repeats already removed), composing jamo back into
        syllables. A syllable's confidence is the minimum of its jamo's. Incomplete jamo runs
        (an initial without a medial) are dropped: they cannot be written as a syllable."""
        confs = confidences if confidences is not None else [1.0] * len(ids)
        out: list[str] = []
        out_conf: list[float] = []
        k = 0
        while k < len(ids):
            tok = self.tokens[ids[k]]
            if tok.startswith("<I") and k + 1 < len(ids) and self.tokens[ids[k + 1]].startswith("<M"):
                ini, med = int(tok[2:-1]), int(self.tokens[ids[k + 1]][2:-1])
                c = min(confs[k], confs[k + 1])
                fin = 0
                step = 2
                if k + 2 < len(ids) and self.tokens[ids[k + 2]].startswith("<F"):
                    fin = int(self.tokens[ids[k + 2]][2:-1])
                    c = min(c, confs[k + 2])
                    step = 3
                out.append(compose(ini, med, fin))
                out_conf.append(c)
                k += step
            elif ids[k] in self._special:
                k += 1  # a stray jamo or a blank: nothing writable
            else:
                out.append(tok)
                out_conf.append(confs[k])
                k += 1
        return "".join(out), out_conf


def hangul_charset() -> Charset:
    """The ``hangul`` weights' charset: all 11,172 syllables (via jamo), ASCII, Korean document symbols."""
    return Charset("hangul", PRINTABLE_ASCII + KOREAN_DOC_SYMBOLS, hangul=True)


def latin_charset() -> Charset:
    """The ``latin`` weights' charset: printable ASCII and common symbols."""
    return Charset("latin", PRINTABLE_ASCII + "€£¥₩°±×÷§©®™·•–—‘’“”…")


def ks_x_1001_syllables() -> str:
    """The 2,350 syllables of KS X 1001 (those EUC-KR encodes in two bytes)."""
    out = []
    for code in range(HANGUL_BASE, HANGUL_LAST + 1):
        try:
            encoded = chr(code).encode("euc-kr")
        except UnicodeEncodeError:
            continue
        if len(encoded) == 2:  # Python's codec writes the other syllables as 8-byte jamo sequences
            out.append(chr(code))
    return "".join(out)


def hangul_syllable_charset() -> Charset:
    """The baseline the jamo charset is measured against: one class per KS X 1001 syllable."""
    return Charset("hangul-syllables", PRINTABLE_ASCII + KOREAN_DOC_SYMBOLS + ks_x_1001_syllables())


CHARSETS = {"hangul": hangul_charset, "latin": latin_charset, "hangul-syllables": hangul_syllable_charset}


#: The scripts each charset's weights read — a property of the charset, so that a weights file
#: without a ``stage`` block still says what it serves (:mod:`.spec`). The hangul charset holds
#: printable ASCII too, so those weights read Latin words and digits as well.
CHARSET_SCRIPTS: dict[str, tuple[str, ...]] = {
    "hangul": ("hangul", "latin", "digits"),
    "hangul-syllables": ("hangul", "latin", "digits"),
    "latin": ("latin", "digits"),
}
