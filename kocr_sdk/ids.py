"""Korean identification numbers: check digits and validation.

Template normalisers (``type: biz_reg_no``, ``type: rrn``) reject a misread digit only through the
check digit, and the synthetic data generator (:mod:`kocr_sdk.lab.synth.ids`) must make numbers that
pass the very same check; both import it from here, so that the core never depends on the
generator. Nothing here needs numpy or fonts.

- 사업자등록번호 (business registration number) ``NNN-NN-NNNNN``: tax-office code, type code,
  serial, and a check digit over the first nine digits with weights ``1 3 7 1 3 7 1 3 5`` plus
  the tens digit of ``9th digit × 5``.
- 주민등록번호 (resident registration number) ``YYMMDD-GNNNNNC``: birth date, a century/sex digit,
  and a mod-11 check digit with weights ``2 3 4 5 6 7 8 9 2 3 4 5``. (Numbers issued since
  October 2020 no longer carry the check; documents and forms still overwhelmingly show the old
  kind.)
"""

from __future__ import annotations

import re

__all__ = [
    "biz_reg_no_check_digit", "biz_reg_no_is_valid", "format_biz_reg_no",
    "rrn_check_digit", "rrn_is_valid", "days_in_month", "luhn_check_digit", "luhn_is_valid",
]

_BIZ_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)
_RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
_BIZ_RE = re.compile(r"^\d{3}-?\d{2}-?\d{5}$")
_RRN_RE = re.compile(r"^\d{6}-?\d{7}$")


def biz_reg_no_check_digit(first9: str) -> int:
    """The tenth digit of a business registration number, from its first nine digits."""
    if len(first9) != 9 or not first9.isdigit():
        raise ValueError(f"need the first 9 digits of a business registration number, got {first9!r}")
    d = [int(c) for c in first9]
    total = sum(a * w for a, w in zip(d, _BIZ_WEIGHTS)) + (d[8] * 5) // 10
    return (10 - total % 10) % 10


def biz_reg_no_is_valid(text: str) -> bool:
    """Whether ``text`` is ``NNN-NN-NNNNN`` (dashes optional) with a correct check digit.

    >>> biz_reg_no_is_valid("124-81-00998"), biz_reg_no_is_valid("124-81-00997")
    (True, False)
    """
    text = text.strip()
    if not _BIZ_RE.match(text):
        return False
    digits = text.replace("-", "")
    return int(digits[9]) == biz_reg_no_check_digit(digits[:9])


def format_biz_reg_no(digits: str) -> str:
    """``1248100998`` → ``124-81-00998``."""
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def rrn_check_digit(first12: str) -> int:
    """The last digit of a resident registration number, from its first twelve digits."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"need the first 12 digits of a resident registration number, got {first12!r}")
    total = sum(int(c) * w for c, w in zip(first12, _RRN_WEIGHTS))
    return (11 - total % 11) % 10


def rrn_is_valid(text: str) -> bool:
    """Whether ``text`` is ``YYMMDD-NNNNNNN`` (dash optional) with a real date and a correct check digit."""
    text = text.strip()
    if not _RRN_RE.match(text):
        return False
    digits = text.replace("-", "")
    month, day = int(digits[2:4]), int(digits[4:6])
    if not (1 <= month <= 12 and 1 <= day <= days_in_month(month)):
        return False
    return int(digits[12]) == rrn_check_digit(digits[:12])


def days_in_month(month: int, year: int = 2000) -> int:
    """Days in ``month`` of ``year`` (a leap year by default, so 29 February is accepted without one)."""
    if month == 2:
        return 29 if (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def luhn_check_digit(body: str) -> int:
    """The Luhn check digit that completes ``body`` (card numbers: the last of 16 digits)."""
    if not body.isdigit():
        raise ValueError(f"need digits to compute a Luhn check digit, got {body!r}")
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def luhn_is_valid(text: str) -> bool:
    """Whether the digits of ``text`` (spaces and dashes ignored) pass the Luhn check (card numbers).

    >>> luhn_is_valid("4539 1488 0343 6467"), luhn_is_valid("4539 1488 0343 6468")
    (True, False)
    """
    digits = text.replace(" ", "").replace("-", "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        return False
    return int(digits[-1]) == luhn_check_digit(digits[:-1])
