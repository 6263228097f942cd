"""Field types: turning printed values into what software keys on, and checking them.

A template field's ``type`` names one of these normalisers. Each takes the value's text as read
and returns a :class:`Normalized`: a JSON value (so a Document round-trips losslessly) and
whether the value is *valid* — a real calendar date, a business registration number whose check
digit agrees. Validation is what lets the matcher flag a misread digit instead of passing it on
(``needs_review``); ``valid=None`` means the type has nothing to check (free text, a masked ID).

Forms write the same thing many ways (``2021년 3월 5일``, ``2021.03.05``, ``21.03.05``,
``Mar 5, 2021``, ``20/03/2018``, a ``2512262008`` approval stamp; ``1,234,000원``, ``₩1,234``,
``RM 9.00``, ``3,980-``, ``일금 일백이십만원정``, ``$12.50``), so each normaliser searches for the
first thing of its kind inside the text rather than requiring the whole text to be exactly one
format. :func:`find_spans` says *where* values of a type lie in a line of text: the matcher cuts
a value to them and searches a whole page with them (``position: anywhere``).
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Callable, Collection

from pydantic import JsonValue

from ..ids import biz_reg_no_check_digit, days_in_month, luhn_is_valid, rrn_is_valid

__all__ = [
    "Normalized", "NORMALIZERS", "normalize", "normalize_date", "normalize_amount", "normalize_biz_reg_no",
    "normalize_phone", "normalize_rrn", "normalize_card", "normalize_number", "normalize_text",
    "parse_korean_number", "find_spans", "repair_biz_reg_no", "DIGIT_CONFUSIONS",
]


@dataclass(frozen=True)
class Normalized:
    """A normaliser's answer: ``value`` (JSON) or None when nothing of the type was found.

    ``note`` says what the normaliser changed beyond formatting (a repaired digit), so that a
    reviewer sees it next to the value.
    """

    value: JsonValue
    valid: bool | None
    note: str | None = None

    @classmethod
    def fail(cls) -> "Normalized":
        return cls(None, False)


def _clean(text: str) -> str:
    """NFKC (full-width digits and ``：`` become ASCII) with runs of whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _same_length(text: str) -> str:
    """NFKC character by character where that keeps one character (``２`` → ``2``), so that
    offsets into the result are offsets into ``text``; ``㈜`` and the like stay as they are."""
    out = []
    for ch in text:
        n = unicodedata.normalize("NFKC", ch)
        out.append(n if len(n) == 1 else ch)
    return "".join(out)


# ----------------------------------------------------------------------------------- dates
_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                           "nov", "dec"))}
_MON = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_TIME = re.compile(r"^[\sT]*(?:\(\s*[^)\d\s]{1,3}\s*\)?\s*)?(\d{1,2}):(\d{2})(?::(\d{2}))?(?!\d)"
                   r"(?:\s*([AaPp])\.?[Mm]\.?(?![A-Za-z]))?")
_WEEKDAY = re.compile(r"^\s*\(\s*[^)\d\s]{1,3}\s*\)")
# (regex, order of its groups: y/m/d/M for a month name, s for the separator, H/I for hour/minute)
_DATE_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(\d{4}|\d{2})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일"), "ymd"),
    (re.compile(r"(?<!\d)(\d{4})\s*[.\-/]\s*(\d{1,2})\s*[.\-/]\s*(\d{1,2})(?!\d)\.?"), "ymd"),
    (re.compile(r"(?<!\d)(\d{1,2})\s*[.\-/]\s*(\d{1,2})\s*[.\-/]\s*(\d{4})(?!\d)"), "mdy"),
    (re.compile(r"(?<![\d.])(\d{2})\s*([.\-/])\s*(\d{1,2})\s*[.\-/]\s*(\d{1,2})(?![\d])\.?"), "ysmd"),
    (re.compile(r"(?<![A-Za-z])" + _MON + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?!\d)", re.I), "Mdy"),
    (re.compile(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?[\s\-]*" + _MON + r"[\s\-,]*(\d{4})(?!\d)", re.I), "dMy"),
    (re.compile(r"(?<![^\W_])(\d{4})(\d{2})(\d{2})(?!\d)"), "ymd"),
    # a card terminal's approval stamp: YYMMDDhhmm (ten digits exactly: a 12-digit tax ID is no date)
    (re.compile(r"(?<![^\W_])(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?!\d)"), "ymdHI"),
)


@dataclass(frozen=True)
class _DateHit:
    start: int
    end: int  # after the time, when one follows
    iso: str | None  # None: the date does not exist


def _year(text: str) -> int:
    """Four digits as written; two digits by the POSIX ``%y`` pivot (69–99 → 1900s, 00–68 → 2000s)."""
    y = int(text)
    if len(text) == 2:
        y += 1900 if y >= 69 else 2000
    return y


def _date_of(m: re.Match[str], order: str, text: str, day_first: bool | None) -> _DateHit:
    groups = m.groups()
    if order == "ysmd":
        y, sep, a, b = groups
        # 25.10.18 is year first (Korean receipts); 20/03/18 with day_first is day first (dd/mm/yy)
        parts = {"d": y, "m": a, "y": b} if day_first and sep == "/" else {"y": y, "m": a, "d": b}
        order = "ymd"
    else:
        parts = dict(zip(order, groups))
    try:
        year = _year(parts["y"])
        month = _MONTHS[parts["M"].lower()[:3]] if "M" in parts else int(parts["m"])
        day = int(parts["d"])
    except (KeyError, ValueError):
        return _DateHit(m.start(), m.end(), None)
    if not 1900 <= year <= 2099:  # 59290916 is a bill number, not 16 September 5929
        return _DateHit(m.start(), m.end(), None)
    if order == "mdy" and (day_first or month > 12) and day <= 12:
        month, day = day, month
    if not (1 <= month <= 12 and 1 <= day <= days_in_month(month, year)):
        return _DateHit(m.start(), m.end(), None)
    iso = _dt.date(year, month, day).isoformat()
    end = m.end()
    if order == "ymdHI":
        hh, mi = int(parts["H"]), int(parts["I"])
        if hh >= 24 or mi >= 60:
            return _DateHit(m.start(), m.end(), None)
        return _DateHit(m.start(), end, f"{iso}T{hh:02d}:{mi:02d}")
    t = _TIME.match(text[end:])
    if t:
        hh, mi, ss = int(t.group(1)), int(t.group(2)), int(t.group(3) or 0)
        if t.group(4) and 1 <= hh <= 12:
            hh = hh % 12 + (12 if t.group(4).lower() == "p" else 0)
        if hh < 24 and mi < 60 and ss < 60:
            iso += f"T{hh:02d}:{mi:02d}" + (f":{ss:02d}" if t.group(3) else "")
            end += t.end()
    else:
        w = _WEEKDAY.match(text[end:])
        if w:
            end += w.end()
    return _DateHit(m.start(), end, iso)


def _dates(text: str, day_first: bool | None = None) -> list[_DateHit]:
    """Every date in ``text``, earliest first, overlaps resolved to the earliest then longest."""
    hits: list[_DateHit] = []
    for pattern, order in _DATE_FORMS:
        for m in pattern.finditer(text):
            hits.append(_date_of(m, order, text, day_first))
    hits.sort(key=lambda h: (h.start, -(h.end - h.start), h.iso is None))
    out: list[_DateHit] = []
    for h in hits:
        if not out or h.start >= out[-1].end:
            out.append(h)
    return out


def normalize_date(text: str, day_first: bool | None = None) -> Normalized:
    """The first date in ``text`` as ISO 8601: ``2021-03-05``, or ``2021-03-05T14:30`` with a time.

    ``03/05/2021`` is read month first (the English convention) unless the first number cannot
    be a month or ``day_first`` is set (``20/03/2018``, as receipts in Malaysia or the UK print
    it; ``day_first`` also reads ``20/03/18`` as day, month, year). A date that does not exist
    (``2021.02.30``) is found but invalid.
    """
    hits = _dates(_clean(text), day_first)
    if not hits:
        return Normalized.fail()
    return Normalized(hits[0].iso, hits[0].iso is not None)


# ----------------------------------------------------------------------------------- amounts
_CURRENCIES = {"₩": "KRW", "￦": "KRW", "원": "KRW", "krw": "KRW", "$": "USD", "usd": "USD", "달러": "USD",
               "€": "EUR", "eur": "EUR", "¥": "JPY", "jpy": "JPY", "엔": "JPY", "£": "GBP", "gbp": "GBP",
               "rm": "MYR", "myr": "MYR", "s$": "SGD", "sgd": "SGD"}
_CUR = r"(RM|S\$|₩|￦|\$|€|¥|£|KRW|USD|EUR|JPY|GBP|MYR|SGD)"
_AMOUNT = re.compile(
    r"(?P<neg>[-−(])?\s*" + _CUR.replace("(", "(?P<pre>", 1) + r"?\s*(?P<neg2>[-−])?\s*"
    r"(?P<num>\d{1,3}(?:,[ \t]?\d{3}(?!\d))+|\d+)(?:\.(?P<frac>\d+))?(?P<trail>[-−](?![\d\w]))?\s*"
    r"(?P<post>원|KRW|USD|EUR|JPY|GBP|MYR|SGD|달러|엔)?", re.I)
# An amount as one token of a line: a number with thousands separators or two decimals, a
# currency before or after it, a minus before or after it (``3,980-`` on Korean receipts).
_AMOUNT_TOKEN = re.compile(
    r"(?<![\w.,:/*#@+-])(?:[-−]\s?|\()?(?:(?:RM|S\$|US\$|\$|₩|￦|€|£|KRW|USD|MYR|SGD)\s?)?[-−]?"
    r"(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:\.\d{3})+(?![\d.,])|\d+)(?:\.\d{1,2})?(?:[-−)](?![\d\w]))?(?:\s?(?:원|KRW|MYR|SGD|USD))?"
    r"(?![\w.,:/*%@+]|-\d)", re.I)
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
    12.5); ``currency`` is an ISO 4217 code from the symbol or unit (``원 ₩ $ RM S$ € ¥ £`` and
    the codes), or None when the text has neither. Parentheses or a minus before or after the
    number make it negative (``-3,980``, ``3,980-``: a discount); ``일금 일백이십만원정`` is read
    too. A space after a thousands comma (``12, 562, 804``: a detector that split the number at
    its commas) does not end the amount, and a dot before exactly three digits (``113.350``) is
    a thousands separator.
    """
    text = _clean(text)
    m = _AMOUNT.search(text)
    if m is None:
        k = _KO_AMOUNT.search(text)
        value = parse_korean_number(k.group(1)) if k else None
        return Normalized({"value": value, "currency": "KRW"}, True) if value is not None else Normalized.fail()
    frac = m.group("frac")
    whole = re.sub(r"[,\s]", "", m.group("num"))
    if frac and len(frac) == 3 and "," not in m.group("num"):  # 113.350: a dot for thousands, as no price has 3 decimals
        whole, frac = whole + frac, None
    try:
        value = Decimal(whole + (f".{frac}" if frac else ""))
    except InvalidOperation:  # pragma: no cover - the regex admits only digits
        return Normalized.fail()
    if m.group("neg") or m.group("neg2") or m.group("trail"):
        value = -value
    unit = (m.group("pre") or m.group("post") or "").lower()
    return Normalized({"value": _json_number(value), "currency": _CURRENCIES.get(unit)}, True)


# ----------------------------------------------------------------------------------- numbers and IDs
#: Digits an OCR engine reads for one another (a printed 8 as 3, 6 or 0; a 1 as 7): the only
#: substitutions :func:`repair_biz_reg_no` tries.
DIGIT_CONFUSIONS: dict[str, str] = {"0": "689", "1": "74", "2": "7", "3": "85", "4": "19", "5": "63", "6": "580",
                                    "7": "12", "8": "3609", "9": "804"}


def _biz_ok(digits: str) -> bool:
    return int(digits[9]) == biz_reg_no_check_digit(digits[:9])


def repair_biz_reg_no(digits: str, suspects: Collection[int] | None = None) -> tuple[str, int] | None:
    """The one valid number a single misread digit away from ``digits`` (10 digits), and where.

    A weighted mod-10 check digit catches any single wrong digit but cannot say which one it
    was: one repair validates at every position. Told where the doubt is (``suspects``: the
    least confident characters), the check digit fixes that digit; otherwise only substitutions
    an OCR engine makes (:data:`DIGIT_CONFUSIONS`) are tried, at every position. When more than
    one repair validates there is no telling, and None is returned.
    """
    if len(digits) != 10 or not digits.isdigit():
        return None
    positions = range(10) if suspects is None else sorted(p for p in suspects if 0 <= p < 10)
    found = {(digits[:i] + alt + digits[i + 1:], i) for i in positions
             for alt in ("0123456789".replace(digits[i], "") if suspects is not None else DIGIT_CONFUSIONS[digits[i]])
             if _biz_ok(digits[:i] + alt + digits[i + 1:])}
    return next(iter(found)) if len(found) == 1 else None


def normalize_biz_reg_no(text: str, suspects: Collection[int] | None = None) -> Normalized:
    """The ten digits of a business registration number; valid when its check digit agrees.

    Digits are taken from the first run of digits and dashes that holds ten of them, so a label
    glued to the number or a space inside it does not matter; anything else is invalid. When the
    check digit disagrees and exactly one OCR-plausible single-digit repair validates
    (:func:`repair_biz_reg_no`; ``suspects``: positions of the least confident digits), the
    repaired number is returned, valid, with a ``note`` saying which digit was changed.
    """
    for m in re.finditer(r"\d[\d\-\s]*\d", _clean(text)):
        digits = re.sub(r"\D", "", m.group(0))
        if len(digits) == 10:
            if _biz_ok(digits):
                return Normalized(digits, True)
            fixed = repair_biz_reg_no(digits, suspects)
            if fixed is None:
                return Normalized(digits, False)
            repaired, pos = fixed
            return Normalized(repaired, True, f"repaired: digit {pos + 1} read as {digits[pos]}, "
                                              f"the check digit says {repaired[pos]}")
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


_CARD = re.compile(r"(?<![\d*])[\d*]{4}(?:[\s-]?[\d*]{4}){2,3}(?![\d*])|(?<![\d*])[\d*]{4}[\s-]?[\d*]{6}[\s-]?[\d*]{5}(?![\d*])")


def normalize_card(text: str) -> Normalized:
    """A card number as its digits, masking (``*``) kept: ``1234-56**-****-7890`` → ``123456******7890``.

    A complete number is valid when its Luhn digit agrees; a masked one cannot be checked and is
    ``valid=None`` when it has 12–19 characters (slips shorten the masked middle) and at least
    four visible digits.
    """
    m = _CARD.search(_clean(text))
    if m is None:
        return Normalized.fail()
    value = re.sub(r"[\s-]", "", m.group(0))
    if "*" not in value:
        return Normalized(value, luhn_is_valid(value))
    visible = sum(c.isdigit() for c in value)
    return Normalized(value, None if 12 <= len(value) <= 19 and visible >= 4 else False)


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
    "card": normalize_card,
    "number": normalize_number,
}


def normalize(field_type: str, text: str, *, day_first: bool | None = None,
              suspects: Collection[int] | None = None) -> Normalized:
    """Normalise ``text`` as ``field_type`` (one of the template format's field types).

    ``day_first`` applies to dates, ``suspects`` (positions of doubtful digits) to business
    registration numbers; other types take neither.
    """
    if field_type == "date":
        return normalize_date(text, day_first)
    if field_type == "biz_reg_no":
        return normalize_biz_reg_no(text, suspects)
    return NORMALIZERS[field_type](text)


# ----------------------------------------------------------------------------------- where values lie
_SPAN_PATTERNS: dict[str, re.Pattern[str]] = {
    "biz_reg_no": re.compile(r"(?<![\d-])\d{3}[ ]?-?[ ]?\d{2}[ ]?-?[ ]?\d{5}(?![\d-])"),
    "phone": re.compile(r"(?<![\d\w])(?:\+\d{1,3}[\s-]?)?\(?0?\d{1,4}\)?[\s.-]?\d{3,4}[\s.-]?\d{4}(?![\d])"),
    "rrn": re.compile(r"(?<!\d)\d{6}\s?-\s?[\d*]{7}(?![\d*])"),
    "card": _CARD,
    "number": re.compile(r"(?<![\w.,])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d.,]\d)"),
}


_LONG_DIGITS = re.compile(r"\d{9,}")


def find_spans(field_type: str, text: str, day_first: bool | None = None) -> list[tuple[int, int]]:
    """Where values of ``field_type`` lie in ``text``: ``(start, end)`` offsets, in order.

    Dates are the real ones only, with the time that follows them; amounts are tokens that read
    as one (not the digits of a date, a phone number or a ``x2`` quantity); ``text`` has no spans
    (it is the whole of what was found). Offsets index ``text`` itself.
    """
    return list(_find_spans(field_type, text, day_first))


@functools.lru_cache(maxsize=8192)
def _find_spans(field_type: str, text: str, day_first: bool | None) -> tuple[tuple[int, int], ...]:
    return tuple(_spans(field_type, text, day_first))


def _spans(field_type: str, text: str, day_first: bool | None) -> list[tuple[int, int]]:
    if field_type == "text":
        return []
    probe = _same_length(text)
    if field_type == "date":
        return [(h.start, h.end) for h in _dates(probe, day_first) if h.iso is not None]
    if field_type == "amount":  # nine or more digits with no separator are an ID or a barcode, not a price
        spans = [(m.start(), m.end()) for m in _AMOUNT_TOKEN.finditer(probe)
                 if m.group(0).strip(" -−()") and not _LONG_DIGITS.fullmatch(m.group(0).strip(" -−()"))]
        spans += [(m.start(), m.end()) for m in _KO_AMOUNT.finditer(probe)  # 일금 사백칠만팔천원정
                  if parse_korean_number(m.group(1)) is not None]
        return sorted(spans)
    pattern = _SPAN_PATTERNS.get(field_type)
    return [(m.start(), m.end()) for m in pattern.finditer(probe)] if pattern is not None else []
