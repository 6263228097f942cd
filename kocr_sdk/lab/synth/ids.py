"""Korean identification numbers for synthetic data: valid random 사업자등록번호 and 주민등록번호.

The check digits and validators live in :mod:`kocr_sdk.ids` (the template normalisers use them
too, and the core must not depend on the generator); they are re-exported here so that data code
keeps one import. Generated numbers pass exactly the check the normalisers apply.
"""

from __future__ import annotations

import random

from ...ids import (
    biz_reg_no_check_digit,
    biz_reg_no_is_valid,
    days_in_month,
    format_biz_reg_no,
    rrn_check_digit,
    rrn_is_valid,
)

__all__ = [
    "biz_reg_no_check_digit", "biz_reg_no_is_valid", "make_biz_reg_no", "format_biz_reg_no",
    "rrn_check_digit", "rrn_is_valid", "make_rrn",
]

# Type codes (4th–5th digits): 01–79 individuals, 80 and 89 non-profits, 81/86/87/88 corporate
# head and branch offices, 82 non-profit corporations, 85 corporate branches.
_BIZ_TYPE_CODES = tuple(range(1, 80)) + (80, 81, 81, 81, 82, 85, 86, 86, 87, 88, 89)


def make_biz_reg_no(rng: random.Random, dashes: bool = True) -> str:
    """A random, valid business registration number (plausible office and type codes)."""
    first9 = f"{rng.randint(101, 899):03d}{rng.choice(_BIZ_TYPE_CODES):02d}{rng.randint(1, 9999):04d}"
    digits = first9 + str(biz_reg_no_check_digit(first9))
    return format_biz_reg_no(digits) if dashes else digits


def make_rrn(rng: random.Random, dash: bool = True) -> str:
    """A random, valid-looking resident registration number (born 1930–2019)."""
    year = rng.randint(1930, 2019)
    month = rng.randint(1, 12)
    day = rng.randint(1, days_in_month(month, year))
    sex = rng.randint(0, 1)
    century_digit = (1 if year < 2000 else 3) + sex
    first12 = f"{year % 100:02d}{month:02d}{day:02d}{century_digit}{rng.randint(0, 99999):05d}"
    digits = first12 + str(rrn_check_digit(first12))
    return f"{digits[:6]}-{digits[6:]}" if dash else digits
