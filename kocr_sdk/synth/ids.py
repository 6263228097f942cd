"""Korean identification numbers: check digits, validation and generation.

The NER model and the form normalisers must learn what a *valid* number looks like, and the
templates' post-processing (see ``templates/*.yaml``: ``type: biz_reg_no``) can reject a misread
digit only if the check digit is right in the data it was trained and tested on. Everything here
is importable without the rest of the generator (no fonts, no numpy), so validators elsewhere in
kocr can use it.

- 사업자등록번호 (business registration number) ``NNN-NN-NNNNN``: tax-office code, type code,
  serial, and a check digit over the first nine digits with weights ``1 3 7 1 3 7 1 3 5`` plus
  the tens digit of ``9th digit × 5``.
- 주민등록번호 (resident registration number) ``YYMMDD-GNNNNNC``: birth date, a century/sex digit,
  and a mod-11 check digit with weights ``2 3 4 5 6 7 8 9 2 3 4 5``. (Numbers issued since
  October 2020 no longer carry the check; documents and forms still overwhelmingly show the old
  kind, and a generator that only makes checked ones is the safe side for a validator.)
"""

from __future__ import annotations

import random
import re

__all__ = [
    "biz_reg_no_check_digit", "biz_reg_no_is_valid", "make_biz_reg_no", "format_biz_reg_no",
    "rrn_check_digit", "rrn_is_valid", "make_rrn",
]

_BIZ_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)
_RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
_BIZ_RE = re.compile(r"^\d{3}-?\d{2}-?\d{5}$")
_RRN_RE = re.compile(r"^\d{6}-?\d{7}$")
# Type codes (4th–5th digits): 01–79 individuals, 80 and 89 non-profits, 81/86/87/88 corporate
# head and branch offices, 82 non-profit corporations, 85 corporate branches.
_BIZ_TYPE_CODES = tuple(range(1, 80)) + (80, 81, 81, 81, 82, 85, 86, 86, 87, 88, 89)


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


def make_biz_reg_no(rng: random.Random, dashes: bool = True) -> str:
    """A random, valid business registration number (plausible office and type codes)."""
    first9 = f"{rng.randint(101, 899):03d}{rng.choice(_BIZ_TYPE_CODES):02d}{rng.randint(1, 9999):04d}"
    digits = first9 + str(biz_reg_no_check_digit(first9))
    return format_biz_reg_no(digits) if dashes else digits


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
    if not (1 <= month <= 12 and 1 <= day <= _days_in_month(month)):
        return False
    return int(digits[12]) == rrn_check_digit(digits[:12])


def make_rrn(rng: random.Random, dash: bool = True) -> str:
    """A random, valid-looking resident registration number (born 1930–2019)."""
    year = rng.randint(1930, 2019)
    month = rng.randint(1, 12)
    day = rng.randint(1, _days_in_month(month, year))
    sex = rng.randint(0, 1)
    century_digit = (1 if year < 2000 else 3) + sex
    first12 = f"{year % 100:02d}{month:02d}{day:02d}{century_digit}{rng.randint(0, 99999):05d}"
    digits = first12 + str(rrn_check_digit(first12))
    return f"{digits[:6]}-{digits[6:]}" if dash else digits


def _days_in_month(month: int, year: int = 2000) -> int:
    if month == 2:
        return 29 if (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)) else 28
    return 30 if month in (4, 6, 9, 11) else 31
