"""Field types: normalisers and validators, on the ways forms really print values."""

from __future__ import annotations

import re

import pytest

from kocr_sdk.ids import biz_reg_no_is_valid, rrn_is_valid
from kocr_sdk.templates.normalize import normalize, parse_korean_number


@pytest.mark.parametrize("text, iso", [
    ("2021년 3월 5일", "2021-03-05"), ("2021년3월5일", "2021-03-05"), ("2021.03.05", "2021-03-05"),
    ("2021-03-05", "2021-03-05"), ("21.03.05", "2021-03-05"), ("75.03.05", "1975-03-05"),
    ("2021. 3. 5.", "2021-03-05"), ("2021/03/05", "2021-03-05"), ("2021.03.05(금)", "2021-03-05"),
    ("20210305", "2021-03-05"), ("Mar 5, 2021", "2021-03-05"), ("March 5, 2021", "2021-03-05"),
    ("05-Mar-2021", "2021-03-05"), ("03/05/2021", "2021-03-05"), ("25/12/2021", "2021-12-25"),
    ("2021-03-05 14:30", "2021-03-05T14:30"), ("2021/03/05 09:12:33", "2021-03-05T09:12:33"),
    ("발행일 2021.03.05", "2021-03-05"),
])
def test_dates_become_iso_8601(text, iso):
    n = normalize("date", text)
    assert n.value == iso and n.valid is True


@pytest.mark.parametrize("text", ["2021.02.30", "2021.13.01", "21년 2월 29일"])
def test_impossible_dates_are_invalid(text):
    assert normalize("date", text).valid is False


def test_no_date_at_all():
    n = normalize("date", "미정")
    assert n.value is None and n.valid is False


@pytest.mark.parametrize("text, value, currency", [
    ("1,234,000원", 1234000, "KRW"), ("₩1,234", 1234, "KRW"), ("￦ 1,234", 1234, "KRW"), ("12,000 원", 12000, "KRW"),
    ("KRW 5,000", 5000, "KRW"), ("$12.50", 12.5, "USD"), ("USD 1,234.56", 1234.56, "USD"), ("12,000.00", 12000, None),
    ("35000", 35000, None), ("-3,000", -3000, None), ("(3,000)", -3000, None),
    ("일금 일백이십만원정", 1200000, "KRW"), ("금 35,000원정", 35000, "KRW"), ("삼만오천원", 35000, "KRW"),
    ("12, 562, 804원", 12562804, "KRW"), ("₩ 1, 234", 1234, "KRW"), ("12, 5624", 12, None),
])
def test_amounts_become_numbers_with_currency(text, value, currency):
    n = normalize("amount", text)
    assert n.value == {"value": value, "currency": currency} and n.valid is True
    assert type(n.value["value"]) is type(value)  # exact integers for won, floats only with a fraction


def test_korean_numerals():
    assert parse_korean_number("일백이십만") == 1_200_000
    assert parse_korean_number("삼만오천") == 35_000
    assert parse_korean_number("십억") == 1_000_000_000
    assert parse_korean_number("영") == 0
    assert parse_korean_number("만원") is None


@pytest.mark.parametrize("text, digits, valid", [
    ("124-81-00998", "1248100998", True), ("1248100998", "1248100998", True), ("124 81 00998", "1248100998", True),
    ("124-81-00997", "1248100997", False),  # wrong check digit
    ("124-18-00998", "1241800998", False),  # two digits swapped
    ("12-34", "1234", False),
])
def test_business_registration_numbers_are_checked(text, digits, valid):
    n = normalize("biz_reg_no", text)
    assert n.value == digits and n.valid is valid
    printed_as_a_number = re.fullmatch(r"\d{3}-?\d{2}-?\d{5}", text) is not None
    assert biz_reg_no_is_valid(text) is (valid and printed_as_a_number)


@pytest.mark.parametrize("text, value, valid", [
    ("010-1234-5678", "01012345678", True), ("02-123-4567", "021234567", True), ("(02) 123-4567", "021234567", True),
    ("1588-1234", "15881234", True), ("+82-10-1234-5678", "+821012345678", True), ("12-3456", "123456", False),
])
def test_phone_numbers(text, value, valid):
    n = normalize("phone", text)
    assert n.value == value and n.valid is valid


def test_resident_registration_numbers():
    good = "900101-1234568"
    assert rrn_is_valid(good) and normalize("rrn", good).valid is True
    assert normalize("rrn", "900101-1234567").valid is False  # check digit
    masked = normalize("rrn", "900101-1******")
    assert masked.value == "900101-1******" and masked.valid is None  # cannot be checked, date is real
    assert normalize("rrn", "901301-1******").valid is False  # month 13


def test_numbers_and_text():
    assert normalize("number", "수량 1,200개").value == 1200
    assert normalize("number", "3.5kg").value == 3.5
    assert normalize("text", "  (주)한빛   테크 ").value == "(주)한빛 테크"
    assert normalize("text", "   ").value is None


# ------------------------------------------------------------------------------------ receipts' formats
@pytest.mark.parametrize("text, iso, day_first", [
    ("2025-10-18", "2025-10-18", None), ("2025/10/18", "2025-10-18", None), ("25.10.18", "2025-10-18", None),
    ("20251018", "2025-10-18", None), ("2512262008", "2025-12-26T20:08", None), ("10 MAR 2018", "2018-03-10", None),
    ("20/03/2018", "2018-03-20", None), ("05/03/2018", "2018-05-03", None), ("05/03/2018", "2018-03-05", True),
    ("20/03/18", "2018-03-20", True), ("25.10.18", "2025-10-18", True), ("14/07/2022 10:22 PM", "2022-07-14T22:22", None),
    ("2022.07.14(목) 08:37", "2022-07-14T08:37", None), ("2023.07.16( 일 19:49", "2023-07-16T19:49", None),
    ("[판매] 2022-07-14 08:37:22 POS:01", "2022-07-14T08:37:22", None),
])
def test_dates_receipts_print(text, iso, day_first):
    n = normalize("date", text, day_first=day_first)
    assert n.value == iso and n.valid is True


def test_a_bill_number_or_a_tax_id_is_no_date():
    from kocr_sdk.templates.normalize import find_spans

    assert find_spans("date", "BILL59290916") == []  # glued to letters, and year 5929
    assert find_spans("date", "GST ID: 000306020352") == []  # twelve digits: no approval stamp
    assert find_spans("date", "2022-07-14 08:37 POS:01") == [(0, 16)]


@pytest.mark.parametrize("text, value, currency", [
    ("RM 9.00", 9, "MYR"), ("RM9.00", 9, "MYR"), ("S$ 4.20", 4.2, "SGD"), ("₩3,980", 3980, "KRW"),
    ("7,960원", 7960, "KRW"), ("-3,980", -3980, None), ("3,980-", -3980, None), ("행사할인 -3,980", -3980, None),
    ("113.350", 113350, None), ("$12.50", 12.5, "USD"),
])
def test_amounts_receipts_print(text, value, currency):
    assert normalize("amount", text).value == {"value": value, "currency": currency}


def test_amount_spans_skip_dates_phones_counts_and_barcodes():
    from kocr_sdk.templates.normalize import find_spans

    def spans(t):
        return [t[a:b] for a, b in find_spans("amount", t)]

    assert spans("합계 3 7,960") == ["3", "7,960"]
    assert spans("2022-07-14 08:37 TEL 02-123-4567 x2 1+1 8801234567890") == []
    assert spans("TOTAL (RM) 12.50 RM9.00") == ["12.50", "RM9.00"]
    assert spans("일금 사백칠만팔천원정") == ["일금 사백칠만팔천원정"]


@pytest.mark.parametrize("text, value, valid", [
    ("1234-56**-****-7890", "123456******7890", None), ("1234****5678", "1234****5678", None),
    ("4539 1488 0343 6467", "4539148803436467", True), ("4539 1488 0343 6468", "4539148803436468", False),
    ("****-****-****-5678", "************5678", None), ("12**", None, False),
])
def test_card_numbers(text, value, valid):
    n = normalize("card", text)
    assert n.value == value and n.valid is valid


def test_a_single_misread_digit_is_repaired_only_when_one_repair_validates():
    from kocr_sdk.templates.normalize import repair_biz_reg_no

    n = normalize("biz_reg_no", "124-81-00098")  # 124-81-00998 with its 9 read as 0
    assert n.value == "1248100998" and n.valid is True and n.note == "repaired: digit 8 read as 0, the check digit says 9"
    assert repair_biz_reg_no("1248100098") == ("1248100998", 7)
    many = normalize("biz_reg_no", "124-81-00997")  # several single-digit repairs would validate: no telling
    assert many.value == "1248100997" and many.valid is False and many.note is None
    # told which digit is doubtful (the recogniser's least confident one), one repair is enough
    assert normalize("biz_reg_no", "124-81-00997", suspects=[9]).value == "1248100998"
    assert normalize("biz_reg_no", "124-81-00997", suspects=[0, 9]).valid is False  # two places: no telling
