"""OCR-like noise for NER training text: what a recogniser does to a line it reads.

A model trained on typed text breaks on recognised text, whose errors are not typos: shapes are
confused (``0``/``O``, ``1``/``l``, ``5``/``S``; Hangul syllables that differ by one stroke or
one jamo, ``서``/``시``, ``을``/``울``), spaces between words vanish when the detector merges
two boxes, and a wide letter-spaced word is split in two. Noise is applied character by
character while every character keeps the id of the entity it belongs to, so entity spans stay
exact after characters are replaced, removed or inserted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

_S_BASE, _S_END = 0xAC00, 0xD7A3
_N_MEDIAL, _N_FINAL = 21, 28

# Latin, digit and punctuation shapes recognisers confuse (both directions listed where both happen).
_GLYPH_CONFUSIONS: dict[str, str] = {
    "0": "OoD", "O": "0Q", "o": "0", "1": "lI|7", "l": "1I", "I": "1l", "5": "S", "S": "5", "8": "B3", "B": "8",
    "2": "Z", "Z": "2", "6": "bG", "9": "g", "g": "9", "7": "1", "3": "8", "4": "A", "-": "~_", ".": ",", ",": ".",
    ":": ";", ";": ":", "(": "[", ")": "]", "c": "e", "e": "c", "u": "v", "@": "a",
    "/": "l", "₩": "W",
}
_MULTI_CONFUSIONS: dict[str, tuple[str, ...]] = {"m": ("rn",), "㈜": ("(주)",), "원": ("윈", "월")}
# Jamo indices (Unicode syllable arithmetic) that differ by one short stroke.
_INITIAL_SWAPS = {0: (15,), 15: (0,), 3: (16,), 16: (3,), 7: (17,), 17: (7, 6), 12: (14,), 14: (12,), 6: (7, 11), 11: (6,),
                  9: (12,), 2: (5,), 5: (2,)}
_MEDIAL_SWAPS = {0: (2, 20), 2: (0,), 4: (6, 20), 6: (4,), 8: (12, 18), 12: (8,), 13: (17, 18), 17: (13,), 1: (5,),
                 5: (1,), 20: (0, 4), 18: (13, 8)}
_FINAL_SWAPS = {21: (16, 0), 16: (21, 17), 4: (8, 0), 8: (4, 0), 1: (0,), 17: (16,), 0: (4, 8, 21)}


class NoiseConfig(BaseModel):
    """How often each kind of recognition error happens (per character, space or word)."""

    model_config = ConfigDict(extra="forbid")

    char_confusion: float = Field(0.03, ge=0, le=1, description="Per character: replaced by a look-alike.")
    char_drop: float = Field(0.004, ge=0, le=1, description="Per character: lost.")
    space_drop: float = Field(0.12, ge=0, le=1, description="Per space: two words read as one.")
    word_split: float = Field(0.03, ge=0, le=1, description="Per word of 2+ characters: a space inserted in it.")


def hangul_lookalike(ch: str, rng: random.Random) -> str:
    """A syllable one jamo away from ``ch`` by a short stroke (``서``→``시``, ``을``→``울``), or ``ch``."""
    code = ord(ch)
    if not _S_BASE <= code <= _S_END:
        return ch
    index = code - _S_BASE
    initial, medial, final = index // (_N_MEDIAL * _N_FINAL), (index // _N_FINAL) % _N_MEDIAL, index % _N_FINAL
    choices = [("i", v) for v in _INITIAL_SWAPS.get(initial, ())]
    choices += [("m", v) for v in _MEDIAL_SWAPS.get(medial, ())]
    choices += [("f", v) for v in _FINAL_SWAPS.get(final, ())]
    if not choices:
        return ch
    part, value = rng.choice(choices)
    if part == "i":
        initial = value
    elif part == "m":
        medial = value
    else:
        final = value
    return chr(_S_BASE + (initial * _N_MEDIAL + medial) * _N_FINAL + final)


@dataclass
class _Char:
    text: str
    entity: int  # index into the spans, -1 outside entities


def add_ocr_noise(
    text: str, spans: list[tuple[int, int, str]], rng: random.Random, cfg: NoiseConfig | None = None
) -> tuple[str, list[tuple[int, int, str]]]:
    """``text`` as a recogniser might have read it, and its entity spans moved to match.

    A span whose characters were all dropped disappears; spans keep their order and labels.
    """
    cfg = cfg or NoiseConfig()
    owner = [-1] * len(text)
    for k, (start, end, _) in enumerate(spans):
        for i in range(start, end):
            owner[i] = k
    chars: list[_Char] = []
    word_len = 0
    for i, ch in enumerate(text):
        ent = owner[i]
        if ch == " ":
            word_len = 0
            if rng.random() < cfg.space_drop and chars and i + 1 < len(text):
                continue
            chars.append(_Char(" ", ent))
            continue
        word_len += 1
        if word_len > 1 and rng.random() < cfg.word_split and chars and chars[-1].text != " ":
            chars.append(_Char(" ", ent if ent >= 0 and owner[i - 1] == ent else -1))
        r = rng.random()
        if r < cfg.char_drop:
            continue
        if r < cfg.char_drop + cfg.char_confusion:
            ch = _confuse(ch, rng)
        chars.append(_Char(ch, ent))
    out = "".join(c.text for c in chars)
    new_spans: list[tuple[int, int, str]] = []
    pos = 0
    bounds: dict[int, list[int]] = {}
    for c in chars:
        if c.entity >= 0:
            b = bounds.setdefault(c.entity, [pos, pos])
            b[1] = pos + len(c.text)
        pos += len(c.text)
    for k, (_, _, label) in enumerate(spans):
        if k in bounds:
            start, end = bounds[k]
            while start < end and out[start] == " ":
                start += 1
            while end > start and out[end - 1] == " ":
                end -= 1
            if end > start:
                new_spans.append((start, end, label))
    return out, new_spans


def _confuse(ch: str, rng: random.Random) -> str:
    if ch in _MULTI_CONFUSIONS:
        return rng.choice(_MULTI_CONFUSIONS[ch])
    if "가" <= ch <= "힣":
        return hangul_lookalike(ch, rng)
    alts = _GLYPH_CONFUSIONS.get(ch)
    return rng.choice(alts) if alts else ch
