"""Which script a word is written in, decided from its text alone.

Ground truth and predictions must be labelled by the *same* rule, or per-script figures compare
different things; this is that rule for text that came without a label (converted datasets,
peers such as Tesseract that do not say). It matches the labels of ``shared/data`` (FUNSD:
``latin`` = has a letter, ``digits`` = digits and punctuation only, ``other`` = neither) and
adds the scripts kocr reads: a word with any Hangul is ``hangul`` (``(주)``, ``2019년``), since
it is the Korean recogniser that must read it.
"""

from __future__ import annotations

import unicodedata

#: Every label :func:`script_of` returns, in the order it tests them.
SCRIPTS = ("hangul", "latin", "han", "kana", "digits", "other")


def _char_script(ch: str) -> str | None:
    code = ord(ch)
    if 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F or 0xA960 <= code <= 0xA97F:
        return "hangul"
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9D:
        return "kana"
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x2FA1F:
        return "han"
    category = unicodedata.category(ch)
    if category.startswith("L"):
        return "latin"  # any other letter: the README's rule is "has a letter"
    if category == "Nd" or ch.isdigit():
        return "digits"
    return None


def script_of(text: str) -> str:
    """``hangul`` > ``latin`` > ``han`` > ``kana`` > ``digits`` > ``other``: the first the word has.

    >>> script_of("(주)"), script_of("No."), script_of("1,000"), script_of("※")
    ('hangul', 'latin', 'digits', 'other')
    """
    found = {s for s in map(_char_script, text) if s is not None}
    for script in SCRIPTS[:-1]:
        if script in found:
            return script
    return "other"


def has_script(text: str, script: str) -> bool:
    """Whether any character of ``text`` is of ``script`` (``hangul``, ``latin``, ``han``, ``kana``, ``digits``).

    >>> has_script("2019년", "hangul"), has_script("001", "hangul")
    (True, False)
    """
    return any(_char_script(ch) == script for ch in text)
