"""Format checks for entities whose format has one, and what a failed check does to confidence.

A tagger decides *what kind* of text a span is; a check digit decides whether the digits were
read right. The checks are those the template normalisers use (:mod:`kocr_sdk.ids`), so an
entity and a template field built on the same words agree on ``valid``:

- ``BIZ_REG_NO``: ``NNN-NN-NNNNN`` with its check digit;
- ``RRN``: a real birth date and the mod-11 check digit; a masked number (``900101-1******``)
  is checked as far as its digits go (the date), and a number issued since October 2020 fails
  the digit though it is genuine — hence ``valid=False`` flags a value for review, it does not
  delete it;
- ``CARD``: the Luhn check, when the number is not masked.

A span that fails keeps its label and has its confidence multiplied by ``invalid_factor``; one
that passes has its confidence raised towards 1, since a tagger rarely mistakes a number that
satisfies a check digit for something else.
"""

from __future__ import annotations

import re
from typing import Callable

from ..ids import biz_reg_no_is_valid, days_in_month, luhn_is_valid, rrn_is_valid

INVALID_FACTOR = 0.5
VALID_BOOST = 0.5  # confidence moves this share of the way to 1 when the check passes

_RRN_MASKED = re.compile(r"^(\d{6})-?(\d)?[*xX●]+$|^(\d{6})-?(\d[\d*xX●]{6})$")


def _digits_and_dashes(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("–", "-").replace("—", "-")


def check_biz_reg_no(text: str) -> bool:
    return biz_reg_no_is_valid(_digits_and_dashes(text))


def check_rrn(text: str) -> bool:
    t = _digits_and_dashes(text)
    if rrn_is_valid(t):
        return True
    m = _RRN_MASKED.match(t)
    if not m or not any(c in t for c in "*xX●"):
        return False
    birth = m.group(1) or m.group(3)
    month, day = int(birth[2:4]), int(birth[4:6])
    return 1 <= month <= 12 and 1 <= day <= days_in_month(month)


def check_card(text: str) -> bool | None:
    t = _digits_and_dashes(text).replace("-", "")
    if any(c in t for c in "*xX●"):
        return None  # masked: nothing to check
    return luhn_is_valid(t)


VALIDATORS: dict[str, Callable[[str], bool | None]] = {
    "BIZ_REG_NO": check_biz_reg_no,
    "RRN": check_rrn,
    "CARD": check_card,
}


def validate(label: str, text: str, confidence: float) -> tuple[bool | None, float]:
    """(valid, adjusted confidence) of an entity; ``valid`` is None where no check applies."""
    check = VALIDATORS.get(label)
    if check is None:
        return None, confidence
    ok = check(text)
    if ok is None:
        return None, confidence
    if ok:
        return True, confidence + (1.0 - confidence) * VALID_BOOST
    return False, confidence * INVALID_FACTOR
