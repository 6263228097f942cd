"""Field types: turning printed values into what software keys on, and checking them.

A template field's ``type`` names one of these normalisers. Each takes the value's text as read
and returns a :class:`Normalized`: a JSON value (so a Document round-trips losslessly) and
whether the value is *valid* — a real calendar date, a business registration number whose check
digit agrees. Validation is what lets the matcher flag a misread digit instead of passing it on
(``needs_review``); ``valid=None`` means the type has nothing to check (free text, a masked ID).

Forms write the same thing many ways (``2021년 3월 5일``, ``2021.03.05``, ``21.03.05``,
``Mar 5, 2021``; ``1,234,000원``, ``₩1,234``, ``일금 일백이십만원정``, ``$12.50``), so each
normaliser searches for the first thing of its kind inside the text rather than requiring the
whole text to be exactly one format.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Callable

from pydantic import JsonValue

from ..ids import biz_reg_no_check_digit, days_in_month, rrn_is_valid

__all__ = [
    "Normalized", "NORMALIZERS", "normalize", "normalize_date", "normalize_amount", "normalize_biz_reg_no",
    "normalize_phone", "normalize_rrn", "normalize_number", "normalize_text", "parse_korean_number",
]


@dataclass(frozen=True)
class Normalized:
    """A normaliser's answer: ``value`` (JSON) or None when nothing of the type was found."""

    value: JsonValue
    valid: bool | None

    @classmethod
    def fail(cls) -> "Normalized":
        return cls(None, False)


def _clean(text: str) -> str:
    """NFKC (full-width digits and ``：`` become ASCII) with runs of whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


# ----------------------------------------------------------------------------------- dates
_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                           "nov", "dec"))}
_MON = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_TIME = re.compile(r"^[\sT]*(?:\([^)]*\)\s*)?(\d{1,2}):(\d{2})(?::(\d{2}))?")
# (regex, order of its groups: y/m/d/M for month name)
_DATE_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(\d{4}|\d{2})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일"), "ymd"),
    (re.compile(r"(?<!\d)(\d{4})\s*[.\-/]\s*(\d{1,2})\s*[.\-/]\s*(\d{1,2})(?!\d)\.?"), "ymd"),
    (re.compile(r"(?<!\d)(\d{1,2})\s*[.\-/]\s*(\d{1,2})\s*[.\-/]\s*(\d{4})(?!\d)"), "mdy"),
    (re.compile(r"(?<![\d.])(\d{2})\s*[.\-/]\s*(\d{1,2})\s*[.\-/]\s*(\d{1,2})(?![\d])\.?"), "ymd"),
    (re.compile(_MON + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", re.I), "Mdy"),
    (re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[\s\-]+" + _MON + r"[\s\-,]+(\d{4})", re.I), "dMy"),
    (re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"), "ymd"),
)


def _year(text: str) -> int:
    """Four digits as written; two digits by the POSIX ``%y`` pivot (69–99 → 1900s, 00–68 → 2000s)."""
    y = int(text)
    if len(text) == 2:
        y += 1900 if y >= 69 else 2000
    return y


def normalize_date(text: str) -> Normalized:
    """The first date in ``text`` as ISO 8601: ``2021-03-05``, or ``2021-03-05T14:30`` with a time.

    ``03/05/2021`` is read month first (the English convention) unless the first number cannot
    be a month. A date that does not exist (``2021.02.30``) is found but invalid.
    """
    text = _clean(text)
    best: tuple[int, re.Match[str], str] | None = None
    for pattern, order in _DATE_FORMS:
        m = pattern.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), m, order)
    if best is None:
        return Normalized.fail()
    _, m, order = best
    parts = dict(zip(order, m.groups()))
    try:
        year = _year(parts["y"])
        month = _MONTHS[parts["M"].lower()[:3]] if "M" in parts else int(parts["m"])
        day = int(parts["d"])
    except (KeyError, ValueError):
        return Normalized.fail()
    if order == "mdy" and month > 12 >= day:
        month, day = day, month
    if not (1 <= month <= 12 and 1 <= day <= days_in_month(month, year)):
        return Normalized(None, False)
    iso = _dt.date(year, month, day).isoformat()
    t = _TIME.match(text[m.end():])
    if t:
        hh, mm, ss = int(t.group(1)), int(t.group(2)), int(t.group(3) or 0)
        if hh < 24 and mm < 60 and ss < 60:
            iso += f"T{hh:02d}:{mm:02d}" + (f":{ss:02d}" if t.group(3) else "")
    return Normalized(iso, True)


# ----------------------------------------------------------------------------------- amounts
_CURRENCIES = {"₩": "KRW", "￦": "KRW", "원": "KRW", "krw": "KRW", "$": "USD", "usd": "USD", "달러": "USD",
               "€": "EUR", "eur": "EUR", "¥": "JPY", "jpy": "JPY", "엔": "JPY", "£": "GBP", "gbp": "GBP"}
_CUR = r"(₩|￦|\$|€|¥|£|KRW|USD|EUR|JPY|GBP)"
_AMOUNT = re.compile(
    r"(?P<neg>[-−(])?\s*" + _CUR.replace("(", "(?P<pre>", 1) + r"?\s*(?P<neg2>-)?\s*"
    r"(?P<num>\d{1,3}(?:,[ \t]?\d{3}(?!\d))+|\d+)(?:\.(?P<frac>\d+))?\s*"
    r"(?P<post>원|KRW|USD|EUR|JPY|GBP|달러|엔)?", re.I)
_KO_DIGITS = {c: i for i, c in enumerate("영일이삼사오육칠팔구")}
_KO_SMALL = {"십": 10, "백": 100, "천": 1000}
_KO_BIG = {"만": 10_000, "억": 100_000_000, "조": 1_000_000_000_000}
_KO_AMOUNT = re.compile(r"(?:일금|금)?\s*([영일이삼사오육칠팔구십백천만억조]+)\s*원\s*정?")


def parse_korean_number(text: str) -> int | None:
    """Sino-Korean numerals as amounts are spelled (``일백이십만`` → 1200000); None if not one."""
    total = section = digit = 0
    seen = False
    for ch in text:
        if ch in _KO_DIGITS:
            digit, seen = _KO_DIGITS[ch], True
        elif ch in _KO_SMALL:
            section += (digit or 1) * _KO_SMALL[ch]
            digit, seen = 0, True
        elif ch in _KO_BIG:
            total += (section + digit or 1) * _KO_BIG[ch]
            section = digit = 0
            seen = True
        else:
            return None
    return total + section + digit if seen else None


def _json_number(value: Decimal) -> int | float:
    """An exact integer when there is no fraction (won never has one), else a float: JSON has no decimal."""
    return int(value) if value == value.to_integral_value() else float(value)


def normalize_amount(text: str) -> Normalized:
    """The first amount in ``text``: ``{"value": 1234000, "currency": "KRW"}``.

    ``value`` is an integer when the amount has no fraction and a float otherwise (``$12.50`` →
    12.5); ``currency`` is an ISO 4217 code from the symbol or unit, or None when the text has
    neither. Parentheses or a minus make it negative; ``일금 일백이십만원정`` is read too. A space
    after a thousands comma (``12, 562, 804``: a detector that split the number at its commas)
    does not end the amount.
    """
    text = _clean(text)
    m = _AMOUNT.search(text)
    if m is None:
        k = _KO_AMOUNT.search(text)
        value = parse_korean_number(k.group(1)) if k else None
        return Normalized({"value": value, "currency": "KRW"}, True) if value is not None else Normalized.fail()
    try:
        value = Decimal(re.sub(r"[,\s]", "", m.group("num")) + (f".{m.group('frac')}" if m.group("frac") else ""))
    except InvalidOperation:  # pragma: no cover - the regex admits only digits
        return Normalized.fail()
    if m.group("neg") or m.group("neg2"):
        value = -value
    unit = (m.group("pre") or m.group("post") or "").lower()
    return Normalized({"value": _json_number(value), "currency": _CURRENCIES.get(unit)}, True)


# ----------------------------------------------------------------------------------- numbers and IDs
def normalize_biz_reg_no(text: str) -> Normalized:
    """The ten digits of a business registration number; valid when its check digit agrees.

    Digits are taken from the first run of digits and dashes that holds ten of them, so a label
    glued to the number or a space inside it does not matter; anything else is invalid.
    """
    for m in re.finditer(r"\d[\d\-\s]*\d", _clean(text)):
        digits = re.sub(r"\D", "", m.group(0))
        if len(digits) == 10:
            return Normalized(digits, int(digits[9]) == biz_reg_no_check_digit(digits[:9]))
    digits = re.sub(r"\D", "", text)
    return Normalized(digits or None, False)


def normalize_rrn(text: str) -> Normalized:
    """A resident registration number as ``YYMMDD-NNNNNNN``, masking (``*``) kept.

    Valid when the check digit agrees; a masked number cannot be checked beyond its birth date,
    so it is ``valid=None`` when that date exists and invalid when it does not.
    """
    m = re.search(r"(\d{6})\s*-?\s*([\d*]{7})(?![\d*])", _clean(text))
    if m is None:
        return Normalized.fail()
    value = f"{m.group(1)}-{m.group(2)}"
    if "*" not in value:
        return Normalized(value, rrn_is_valid(value))
    month, day = int(value[2:4]), int(value[4:6])
    return Normalized(value, None if 1 <= month <= 12 and 1 <= day <= days_in_month(month) else False)


def normalize_phone(text: str) -> Normalized:
    """Digits of a phone number (``+`` kept for an international one): ``02-123-4567`` → ``021234567``.

    Valid when it has the length of a Korean number (9–11 digits from a leading 0, or an
    8-digit ``15xx``/``16xx``/``18xx`` company number) or of an international one (8–15 digits
    after ``+``).
    """
    m = re.search(r"\+?\(?\d[\d\s\-.()]{5,}\d", _clean(text))
    if m is None:
        return Normalized.fail()
    raw = m.group(0)
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+"):
        return Normalized("+" + digits, 8 <= len(digits) <= 15)
    ok = (digits.startswith("0") and 9 <= len(digits) <= 11) or (len(digits) == 8 and digits[:2] in ("15", "16", "18"))
    return Normalized(digits, ok)


def normalize_number(text: str) -> Normalized:
    """The first number in ``text`` (thousands separators allowed), as an integer or a float."""
    m = re.search(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?", _clean(text))
    if m is None:
        return Normalized.fail()
    return Normalized(_json_number(Decimal(m.group(0).replace(",", ""))), True)


def normalize_text(text: str) -> Normalized:
    """Free text with whitespace collapsed; nothing to validate."""
    cleaned = _clean(text)
    return Normalized(cleaned or None, None)


NORMALIZERS: dict[str, Callable[[str], Normalized]] = {
    "text": normalize_text,
    "date": normalize_date,
    "amount": normalize_amount,
    "biz_reg_no": normalize_biz_reg_no,
    "phone": normalize_phone,
    "rrn": normalize_rrn,
    "number": normalize_number,
}


def normalize(field_type: str, text: str) -> Normalized:
    """Normalise ``text`` as ``field_type`` (one of the template format's field types)."""
    return NORMALIZERS[field_type](text)
