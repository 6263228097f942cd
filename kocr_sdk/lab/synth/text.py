"""What gets printed: words, names, numbers and phrases the way Korean and English documents write them.

Every model downstream is trained on what this module produces, so it aims at the text of real
pages, not at clean prose:

- vocabulary from ``wordfreq`` (Korean: Hangul-only entries; English; Han and Kana words from the
  Japanese and Chinese lists for script identification), drawn with a bias towards frequent
  words but reaching the tail, plus random KS X 1001 syllables so that the recogniser sees all
  2,350 of them, not only the ~1,600 the word list uses;
- Faker ``ko_KR``/``en_US`` names, companies (with the ``(주)``/``㈜`` forms), addresses, emails;
- strings built here in the forms documents print: dates (``2021년 3월 5일``, ``2021.03.05``,
  ``2021-03-05``), amounts (``1,234,000원``, ``₩12,000``, ``$1,200.50``, ``일금 일백이십만원정``),
  phone numbers, business registration and resident numbers with valid check digits
  (:mod:`.ids`), masked card numbers (``1234****5678``), mixed tokens (``(주)``, ``2019년``,
  ``TEL``, ``No.``) and the symbols of Korean documents (``※ · ₩ ~ :``).

Every piece is a :class:`Phrase`: its text (words separated by single spaces), the kind of
generator that made it, and — for the form-like kinds — the entity label it carries (PERSON,
ORG, ADDRESS, DATE, MONEY, PHONE, EMAIL, URL, BIZ_REG_NO, RRN), which pages turn into entity
spans for NER training. Script labels come from one rule, :func:`script_of`, shared with the
evaluation harness so that ground truth and predictions are labelled alike.

All functions are pure in the ``random.Random`` they are given (Faker is re-seeded from it on
every call), which is what makes ``sample(i)`` of the generators reproducible. Without the
packages, ``$KOCR_TEXT_DATA`` names lists extracted from them that print the same text
(:mod:`.textdata`: how a training bundle runs).
"""

from __future__ import annotations

import datetime
import functools
import random
import re
from dataclasses import dataclass
from typing import Callable

from ...vocabulary.scripts import SCRIPTS, script_of
from ...vocabulary.charsets import ks_x_1001_hangul
from .ids import biz_reg_no_check_digit, biz_reg_no_is_valid, make_biz_reg_no, make_rrn

__all__ = [
    "Phrase", "TextSource", "script_of", "SCRIPTS", "KINDS", "KIND_ENTITY",
    "KEY_LABELS", "biz_reg_no_check_digit", "biz_reg_no_is_valid", "korean_number",
]

#: The entity each kind of text is, when it is one.
KIND_ENTITY: dict[str, str] = {
    "person": "PERSON", "org": "ORG", "address": "ADDRESS", "date": "DATE", "amount": "MONEY",
    "phone": "PHONE", "email": "EMAIL", "url": "URL", "biz_reg_no": "BIZ_REG_NO", "rrn": "RRN",
}

#: Labels printed before a value of each kind on forms (Korean first, then English). Key–value
#: rows pair them, so the NER model learns the context a value comes in.
KEY_LABELS: dict[str, tuple[str, ...]] = {
    "person": ("성명", "대표자", "대표자명", "담당자", "성 명", "대 표 자", "신청인", "수령인", "작성자",
               "Name", "Representative", "Contact"),
    "org": ("상호", "법인명", "상호(법인명)", "회사명", "업체명", "거래처", "공급자", "공급받는자", "상 호",
            "Company", "Vendor", "Customer"),
    "address": ("주소", "사업장소재지", "사업장 소재지", "본점소재지", "소재지", "배송지", "주 소",
                "Address", "Ship to", "Bill to"),
    "date": ("발행일", "작성일자", "개업연월일", "거래일시", "일자", "날짜", "계약일", "납기일", "발급일",
             "Date", "Issue date", "Due date"),
    "amount": ("합계", "합계금액", "공급가액", "세액", "부가세", "금액", "결제금액", "총액", "단가", "받을금액",
               "합 계", "부 가 세", "Total", "Amount", "Subtotal", "Tax", "Balance"),
    "phone": ("전화번호", "전화", "연락처", "휴대폰", "팩스", "TEL", "TEL.", "FAX", "Tel", "Phone", "Fax", "H.P"),
    "email": ("이메일", "전자우편", "E-mail", "Email", "e-mail"),
    "url": ("홈페이지", "웹사이트", "Homepage", "Web", "URL"),
    "biz_reg_no": ("등록번호", "사업자등록번호", "사업자번호", "사업자 등록번호", "Business No.", "Reg. No."),
    "rrn": ("주민등록번호", "주민번호", "생년월일", "Resident No."),
    "card": ("카드번호", "카드", "승인번호", "Card No.", "Card"),
    "number": ("수량", "번호", "No.", "Qty", "품번", "호수", "층"),
}

#: Every kind :meth:`TextSource.phrase` can draw.
KINDS = (
    "ko_word", "ko_rare", "en_word", "han", "kana", "mixed", "number", "date", "amount", "biz_reg_no", "rrn",
    "card", "phone", "email", "url", "person", "org", "address", "symbol",
)

_PARTICLES = ("은", "는", "이", "가", "을", "를", "의", "에", "에서", "으로", "로", "과", "와", "도", "만", "까지",
              "부터", "에게", "께서", "이다", "입니다", "합니다", "하여", "하고", "및")
_ENDINGS = ("합니다.", "입니다.", "있습니다.", "됩니다.", "한다.", "하였다.", "바랍니다.", "드립니다.", "않습니다.")
_HANJA_DOC = (
    "株式會社", "代表理事", "代表", "大韓民國", "住所", "姓名", "金額", "合計", "領收證", "事業者", "登錄番號",
    "印", "貴下", "請求書", "見積書", "稅金", "計算書", "商號", "法人", "本店", "支店", "年", "月", "日", "電話",
    "社長", "會長", "部長", "課長", "株式", "有限會社", "一金", "整", "送金", "入金", "出金", "契約書", "甲", "乙",
)
_MIXED_FIXED = (
    "(주)", "㈜", "(유)", "TEL", "TEL.", "FAX", "Tel.", "Fax.", "No.", "NO.", "E-mail", "H.P", "VAT", "ATM", "CCTV",
    "USB", "PC", "IT", "Wi-Fi", "KTX", "LG전자", "SK텔레콤", "KB국민카드", "IBK기업은행", "NH농협", "KT", "CJ대한통운",
    "GS25", "CU", "(인)", "(서명)", "(단위:원)", "(VAT포함)", "[영수증]", "<고객용>", "[재발행]", "A/S", "Q&A",
)
_MIXED_EN = ("TEL", "TEL.", "FAX", "Tel.", "Fax.", "No.", "NO.", "E-mail", "VAT", "Q&A", "A/S", "Qty", "P.O.", "Ref.",
             "Inv#", "S/N", "Attn:", "c/o", "Dept.", "Co.,", "Ltd.", "Inc.", "p.1", "1/2", "A-1", "#B2", "x2", "ID:")
_SYMBOLS = ("※", "·", "~", "(", ")", ":", "/", "-", "*", "#", "○", "●", "□", "■", "▶", "◆", "★", "☆", "【", "】",
            "「", "」", "<", ">", "[", "]", "%", "&", "@", "+", "=", "±", "×", "°", "℃", "→", "▲", "▼", "◎", "-", "·")
_UNITS = ("개", "EA", "ea", "kg", "g", "매", "장", "회", "명", "박스", "BOX", "set", "건", "대", "병", "잔", "%", "cm", "mm")
_COMPANY_SUFFIX_KO = ("산업", "전자", "물산", "건설", "상사", "무역", "테크", "푸드", "개발", "엔지니어링", "솔루션", "시스템",
                      "통상", "제약", "화학", "물류", "유통", "디자인", "컴퍼니", "코리아", "에너지", "정보통신", "기획")
_COMPANY_SUFFIX_EN = ("Co., Ltd.", "Inc.", "Corp.", "LLC", "Ltd.", "Corporation", "Company", "Korea", "Group")
_EMAIL_DOMAINS = ("naver.com", "gmail.com", "daum.net", "hanmail.net", "kakao.com", "nate.com", "korea.kr", "co.kr")
_TLDS = (".com", ".co.kr", ".kr", ".net", ".org", ".or.kr", ".go.kr", ".io")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS_EN_LONG = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                   "October", "November", "December")
_WEEKDAYS_KO = "월화수목금토일"


@dataclass(frozen=True)
class Phrase:
    """A piece of text as it will be printed.

    ``text`` holds words separated by single spaces; ``entity`` is the label the whole phrase
    carries (None for ordinary words), ``kind`` the generator that made it — used to report
    recognition accuracy by kind of text.
    """

    text: str
    kind: str
    entity: str | None = None

    @property
    def words(self) -> list[str]:
        return self.text.split(" ")

    @property
    def script(self) -> str:
        return script_of(self.text)


# ----------------------------------------------------------------------------------- vocabulary
_HANGUL_ONLY = re.compile(r"^[가-힣]+$")
_LATIN_WORD = re.compile(r"^[A-Za-z][A-Za-z'\-]*[A-Za-z]$|^[A-Za-z]$")
_HAN_ONLY = re.compile(r"^[\u4e00-\u9fff]+$")
_KANA_ONLY = re.compile(r"^[\u3041-\u3096\u30a1-\u30fa\u30fc]+$")


@functools.lru_cache(maxsize=None)
def korean_words(n: int = 30000) -> tuple[str, ...]:
    """Hangul-only entries among wordfreq's ``n`` most frequent Korean words, most frequent first."""
    from .textdata import top_n_list

    return tuple(w for w in top_n_list("ko", n) if _HANGUL_ONLY.match(w))


@functools.lru_cache(maxsize=None)
def english_words(n: int = 30000) -> tuple[str, ...]:
    """Letter-only (apostrophes and hyphens inside) English words, most frequent first."""
    from .textdata import top_n_list

    return tuple(w for w in top_n_list("en", n) if _LATIN_WORD.match(w))


@functools.lru_cache(maxsize=None)
def han_words(n: int = 30000) -> tuple[str, ...]:
    """Han-only words from the Japanese and Chinese lists, interleaved, plus hanja of Korean documents."""
    from .textdata import top_n_list

    ja = [w for w in top_n_list("ja", n) if _HAN_ONLY.match(w)]
    zh = [w for w in top_n_list("zh", n) if _HAN_ONLY.match(w)]
    merged = [w for pair in zip(ja, zh) for w in pair] + ja[len(zh):] + zh[len(ja):]
    return tuple(dict.fromkeys([*_HANJA_DOC, *merged]))


@functools.lru_cache(maxsize=None)
def kana_words(n: int = 30000) -> tuple[str, ...]:
    """Kana-only words from the Japanese list."""
    from .textdata import top_n_list

    return tuple(w for w in top_n_list("ja", n) if _KANA_ONLY.match(w))


def _ranked(rng: random.Random, words: tuple[str, ...], mean_rank: float) -> str:
    """A word with rank ~ exponential: frequent words often, the whole list sometimes."""
    return words[min(len(words) - 1, int(rng.expovariate(1.0 / mean_rank)))]


# ----------------------------------------------------------------------------------- numbers
_DIGITS_KO = "영일이삼사오육칠팔구"


def korean_number(n: int, formal: bool = True) -> str:
    """Sino-Korean reading of ``n`` as amounts are spelled on receipts and contracts.

    ``formal`` keeps the 일 before 십/백/천 (``일백이십만``), as ``일금 …원정`` lines write it.

    >>> korean_number(1_200_000), korean_number(35_000, formal=False)
    ('일백이십만', '삼만오천')
    """
    if n == 0:
        return "영"
    groups = []
    big_units = ("", "만", "억", "조")
    unit = 0
    while n > 0:
        n, part = divmod(n, 10000)
        if part:
            text = ""
            for value, name in ((1000, "천"), (100, "백"), (10, "십"), (1, "")):
                d = (part // value) % 10
                if d:
                    text += ("" if (d == 1 and name and not formal) else _DIGITS_KO[d]) + name
            groups.append(text + big_units[unit])
        unit += 1
    return "".join(reversed(groups))


def _amount_value(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.35:
        return rng.randint(1, 999) * 100
    if r < 0.65:
        return rng.randint(1, 9999) * rng.choice((10, 100, 1000))
    if r < 0.9:
        return rng.randint(1000, 99_999_999)
    return rng.randint(1, 999)


# ----------------------------------------------------------------------------------- source
class TextSource:
    """Draws :class:`Phrase` objects of a given kind; every method is pure in its ``rng``."""

    def __init__(self) -> None:
        self._ko = korean_words()
        self._en = english_words()
        self._fakers: dict[str, object] = {}
        self._generators: dict[str, Callable[[random.Random], Phrase]] = {
            kind: getattr(self, f"_{kind}") for kind in KINDS
        }

    # -- public -------------------------------------------------------------------------------
    def phrase(self, rng: random.Random, kind: str, lang: str | None = None) -> Phrase:
        """One phrase of ``kind`` (one of :data:`KINDS`).

        ``lang`` (``"ko"``/``"en"``) keeps names, companies, addresses, dates and amounts in one
        language's forms (an English invoice has no ``원``); None mixes them as Korean documents do.
        """
        try:
            make = self._generators[kind]
        except KeyError:
            raise ValueError(f"unknown kind of text {kind!r}; choose from {', '.join(KINDS)}") from None
        return make(rng, lang)

    def word(self, rng: random.Random, kind: str, lang: str | None = None) -> str:
        """The text of one phrase of ``kind`` (may hold spaces: ``2021년 3월 5일``)."""
        return self.phrase(rng, kind, lang).text

    def key_label(self, rng: random.Random, kind: str, lang: str = "ko") -> str:
        """A label printed before a value of ``kind`` (``등록번호``, ``Date``)."""
        labels = KEY_LABELS.get(kind) or KEY_LABELS["number"]
        ko = [k for k in labels if script_of(k) == "hangul"]
        en = [k for k in labels if script_of(k) != "hangul"]
        pool = (ko or en) if lang == "ko" else (en or ko)
        return rng.choice(pool)

    def sentence(self, rng: random.Random, lang: str = "ko", entity_prob: float = 0.25) -> list[Phrase]:
        """A sentence as a list of phrases; some are entities (a date, an amount, a company …)."""
        n = rng.randint(4, 14) if lang == "ko" else rng.randint(5, 18)
        out: list[Phrase] = []
        for i in range(n):
            if rng.random() < entity_prob / 3:
                out.append(self.phrase(rng, rng.choice(("date", "amount", "org", "person", "number", "phone")), lang))
                continue
            if lang == "ko":
                w = _ranked(rng, self._ko, 2500)
                if rng.random() < 0.45:
                    w += rng.choice(_PARTICLES)
            else:
                w = _ranked(rng, self._en, 2000)
                if i == 0:
                    w = w.capitalize()
                elif rng.random() < 0.08:
                    w += ","
            out.append(Phrase(w, "ko_word" if lang == "ko" else "en_word"))
        last = out[-1]
        if last.entity is None:
            if lang == "ko" and rng.random() < 0.7:
                out[-1] = Phrase(_ranked(rng, self._ko, 800) + rng.choice(_ENDINGS), last.kind)
            else:
                out[-1] = Phrase(last.text + ".", last.kind)
        elif lang == "ko":
            out.append(Phrase(rng.choice(_ENDINGS), "ko_word"))
        return out

    # -- Faker -------------------------------------------------------------------------------
    def _faker(self, rng: random.Random, locale: str):
        fake = self._fakers.get(locale)
        if fake is None:
            from .textdata import faker

            fake = self._fakers[locale] = faker(locale)
        fake.seed_instance(rng.getrandbits(32))
        return fake

    # -- words -------------------------------------------------------------------------------
    def _ko_word(self, rng: random.Random, lang: str | None = None) -> Phrase:
        w = _ranked(rng, self._ko, 4000)
        if rng.random() < 0.2:
            w += rng.choice(_PARTICLES)
        return Phrase(w, "ko_word")

    def _ko_rare(self, rng: random.Random, lang: str | None = None) -> Phrase:
        syllables = ks_x_1001_hangul()
        return Phrase("".join(rng.choice(syllables) for _ in range(rng.randint(1, 5))), "ko_rare")

    def _en_word(self, rng: random.Random, lang: str | None = None) -> Phrase:
        w = _ranked(rng, self._en, 5000)
        r = rng.random()
        w = w.upper() if r < 0.2 else w.capitalize() if r < 0.5 else w
        return Phrase(w, "en_word")

    def _han(self, rng: random.Random, lang: str | None = None) -> Phrase:
        return Phrase(_ranked(rng, han_words(), 3000), "han")

    def _kana(self, rng: random.Random, lang: str | None = None) -> Phrase:
        return Phrase(_ranked(rng, kana_words(), 3000), "kana")

    def _mixed(self, rng: random.Random, lang: str | None = None) -> Phrase:
        r = rng.random()
        if lang == "en":
            return Phrase(rng.choice(_MIXED_EN), "mixed")
        if r < 0.3:
            return Phrase(rng.choice(_MIXED_FIXED), "mixed")
        k = _ranked(rng, self._ko, 3000)
        forms = (
            lambda: f"(주){k}", lambda: f"㈜{k}", lambda: f"{k}(주)", lambda: f"{rng.randint(1990, 2030)}년",
            lambda: f"{rng.randint(1, 12)}월", lambda: f"{rng.randint(1, 31)}일", lambda: f"{k}:",
            lambda: f"{k}({self._en_word(rng).text})", lambda: f"제{rng.randint(1, 999)}호",
            lambda: f"{rng.randint(1, 30)}층", lambda: f"{rng.randint(101, 120)}동", lambda: f"{rng.randint(101, 2504)}호",
            lambda: f"{rng.randint(1, 999)}번지", lambda: f"No.{rng.randint(1, 9999)}", lambda: f"{rng.randint(1, 12)}개월",
            lambda: f"{rng.randint(1, 5)}차", lambda: f"B{rng.randint(1, 5)}층", lambda: f"{k}{rng.choice(_UNITS)}",
            lambda: f"{rng.choice(['A', 'B', 'C', 'D'])}동", lambda: f"{k}/{_ranked(rng, self._ko, 3000)}",
            lambda: f"{rng.randint(1, 9)}/{rng.randint(1, 9)}", lambda: f"[{k}]", lambda: f"※{k}",
            lambda: f"{k}·{_ranked(rng, self._ko, 3000)}",
        )
        return Phrase(rng.choice(forms)(), "mixed")

    def _number(self, rng: random.Random, lang: str | None = None) -> Phrase:
        forms = (
            lambda: str(rng.randint(0, 99)), lambda: str(rng.randint(0, 99999)), lambda: f"{rng.randint(0, 999):03d}",
            lambda: f"{rng.uniform(0, 1000):.{rng.randint(1, 2)}f}", lambda: f"{rng.randint(1, 100)}%",
            lambda: f"{rng.randint(1, 999)}{rng.choice(_UNITS)}", lambda: f"x{rng.randint(1, 20)}",
            lambda: f"{rng.randint(1, 99):,}", lambda: f"{rng.randint(1000, 9_999_999):,}",
            lambda: f"#{rng.randint(1, 9999)}", lambda: f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
            lambda: f"({rng.randint(1, 99)})", lambda: f"{rng.randint(1, 20)}.",
        )
        return Phrase(rng.choice(forms)(), "number")

    # -- entities ----------------------------------------------------------------------------
    def _date(self, rng: random.Random, lang: str | None = None) -> Phrase:
        y, m, d = rng.randint(1975, 2035), rng.randint(1, 12), rng.randint(1, 28)
        wd = _WEEKDAYS_KO[datetime.date(y, m, d).weekday()]
        forms = (
            f"{y}년 {m}월 {d}일", f"{y}년 {m:02d}월 {d:02d}일", f"{y}.{m:02d}.{d:02d}", f"{y}-{m:02d}-{d:02d}",
            f"{y}. {m}. {d}.", f"{y}/{m:02d}/{d:02d}", f"{y % 100:02d}.{m:02d}.{d:02d}", f"{y}.{m}.{d}",
            f"{y}년{m}월{d}일", f"{y}-{m:02d}-{d:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
            f"{y}.{m:02d}.{d:02d}({wd})", f"{y}/{m:02d}/{d:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
            f"{_MONTHS_EN[m - 1]} {d}, {y}", f"{_MONTHS_EN_LONG[m - 1]} {d}, {y}", f"{m:02d}/{d:02d}/{y}",
            f"{d:02d}-{_MONTHS_EN[m - 1]}-{y}",
        )
        weights = [6, 2, 6, 6, 2, 2, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1]
        if lang == "en":
            weights = [0, 0, 2, 4, 0, 2, 0, 1, 0, 1, 0, 1, 3, 3, 3, 1]
        elif lang == "ko":
            weights[12:] = [0, 0, 0, 0]
        return Phrase(rng.choices(forms, weights)[0], "date", "DATE")

    def _amount(self, rng: random.Random, lang: str | None = None) -> Phrase:
        v = _amount_value(rng)
        s = f"{v:,}"
        r = rng.random()
        if r < 0.05 and lang != "en":
            text = f"일금 {korean_number(v)}원정" if rng.random() < 0.6 else f"금 {s}원정"
        else:
            forms = (s, f"{s}원", f"₩{s}", f"￦{s}", f"${s}", f"${v / 100:,.2f}", f"{s}.00", f"-{s}", f"({s})",
                     f"{s} 원", f"KRW {s}", f"USD {v / 100:,.2f}", f"₩ {s}")
            weights = (10, 10, 4, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1)
            if lang == "en":
                weights = (6, 0, 2, 0, 6, 8, 3, 1, 1, 0, 1, 1, 0)
            text = rng.choices(forms, weights)[0]
        return Phrase(text, "amount", "MONEY")

    def _biz_reg_no(self, rng: random.Random, lang: str | None = None) -> Phrase:
        return Phrase(make_biz_reg_no(rng, dashes=rng.random() < 0.9), "biz_reg_no", "BIZ_REG_NO")

    def _rrn(self, rng: random.Random, lang: str | None = None) -> Phrase:
        rrn = make_rrn(rng)
        r = rng.random()
        if r < 0.5:
            rrn = rrn[:8] + "******"
        elif r < 0.6:
            rrn = rrn[:7] + "*******"
        return Phrase(rrn, "rrn", "RRN")

    def _card(self, rng: random.Random, lang: str | None = None) -> Phrase:
        a, b = f"{rng.randint(1000, 9999)}", f"{rng.randint(1000, 9999)}"
        mid = f"{rng.randint(10, 99)}"
        forms = (f"{a}****{b}", f"{a}-****-****-{b}", f"{a}-{mid}**-****-{b}", f"{a}********{b}",
                 f"{a}-{mid}**-****-***{b[-1]}", f"****-****-****-{b}", f"{a}-****-****-****")
        return Phrase(rng.choice(forms), "card")

    def _phone(self, rng: random.Random, lang: str | None = None) -> Phrase:
        area = rng.choice(("02", "031", "032", "033", "041", "042", "043", "051", "052", "053", "054", "055",
                           "061", "062", "063", "064", "070"))
        forms = (
            f"010-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}", f"{area}-{rng.randint(200, 9999)}-{rng.randint(1000, 9999)}",
            f"({area}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}", f"{area}){rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
            f"1{rng.choice(('588', '577', '544', '566', '600', '661', '899'))}-{rng.randint(1000, 9999)}",
            f"+82-10-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}", f"010{rng.randint(1000, 9999)}{rng.randint(1000, 9999)}",
            f"{area}.{rng.randint(200, 999)}.{rng.randint(1000, 9999)}",
            f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
            f"+1 {rng.randint(201, 989)}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
        )
        weights = (6, 6, 2, 1, 2, 1, 1, 1, 1, 1)
        return Phrase(rng.choices(forms, weights)[0], "phone", "PHONE")

    def _email(self, rng: random.Random, lang: str | None = None) -> Phrase:
        if rng.random() < 0.5:
            fake = self._faker(rng, {"ko": "ko_KR", "en": "en_US"}.get(lang or "", rng.choice(("ko_KR", "en_US"))))
            return Phrase(fake.free_email() if rng.random() < 0.5 else fake.email(), "email", "EMAIL")
        user = _ranked(rng, self._en, 3000).lower().replace("'", "") + rng.choice(("", str(rng.randint(1, 999)), "_kr", "."))
        user = user.rstrip(".") or "info"
        domain = rng.choice(_EMAIL_DOMAINS)
        if domain == "co.kr":
            domain = _ranked(rng, self._en, 3000).lower().replace("'", "") + ".co.kr"
        return Phrase(f"{user}@{domain}", "email", "EMAIL")

    def _url(self, rng: random.Random, lang: str | None = None) -> Phrase:
        name = _ranked(rng, self._en, 3000).lower().replace("'", "")
        if rng.random() < 0.3:
            name += _ranked(rng, self._en, 3000).lower().replace("'", "")
        host = f"{rng.choice(('www.', 'www.', '', 'm.', 'shop.'))}{name}{rng.choice(_TLDS)}"
        path = rng.choice(("", "", "/", f"/{_ranked(rng, self._en, 2000).lower()}", f"/page/{rng.randint(1, 99)}"))
        scheme = rng.choice(("", "", "http://", "https://"))
        return Phrase(f"{scheme}{host}{path}".replace("'", ""), "url", "URL")

    def _person(self, rng: random.Random, lang: str | None = None) -> Phrase:
        if lang == "ko" or (lang is None and rng.random() < 0.75):
            fake = self._faker(rng, "ko_KR")
            name = fake.name()
            if rng.random() < 0.08:
                name = " ".join(name)  # 홍 길 동, as some forms space a name out
            return Phrase(name, "person", "PERSON")
        fake = self._faker(rng, "en_US")
        name = fake.name() if rng.random() < 0.7 else f"{fake.last_name().upper()} {fake.first_name()}"
        return Phrase(name, "person", "PERSON")

    def _org(self, rng: random.Random, lang: str | None = None) -> Phrase:
        r = 1.0 if lang == "en" else rng.random() * (0.8 if lang == "ko" else 1.0)
        if r < 0.45:
            base = self._faker(rng, "ko_KR").company()
            for prefix in ("주식회사 ", "유한회사 ", "(주)", "(유)", "㈜"):
                if base.startswith(prefix):
                    base = base[len(prefix):].strip()
                    break
            core = base or _ranked(rng, self._ko, 2000)
        elif r < 0.8:
            core = _ranked(rng, self._ko, 2000) + rng.choice(_COMPANY_SUFFIX_KO)
        else:
            fake = self._faker(rng, "en_US")
            name = fake.company().replace(",", "") if rng.random() < 0.5 else fake.last_name()
            return Phrase(f"{name} {rng.choice(_COMPANY_SUFFIX_EN)}", "org", "ORG")
        forms = (f"(주){core}", f"㈜{core}", f"주식회사 {core}", f"{core}(주)", f"(주) {core}", f"{core} 주식회사",
                 f"{core}", f"유한회사 {core}", f"(유){core}", f"{core}㈜")
        weights = (6, 4, 4, 2, 1, 1, 4, 1, 1, 1)
        return Phrase(rng.choices(forms, weights)[0], "org", "ORG")

    def _address(self, rng: random.Random, lang: str | None = None) -> Phrase:
        if lang == "ko" or (lang is None and rng.random() < 0.8):
            fake = self._faker(rng, "ko_KR")
            r = rng.random()
            base = fake.address() if r < 0.5 else fake.road_address() if r < 0.8 else fake.land_address()
            base = base.split(" (")[0]
            if rng.random() < 0.4:
                base += rng.choice((f", {rng.randint(1, 25)}층", f" {rng.randint(101, 1504)}호",
                                    f", {rng.randint(101, 120)}동 {rng.randint(101, 2504)}호", f" {fake.building_name()}"))
            return Phrase(" ".join(base.split()), "address", "ADDRESS")
        fake = self._faker(rng, "en_US")
        return Phrase(" ".join(fake.address().replace("\n", ", ").split()), "address", "ADDRESS")

    def _symbol(self, rng: random.Random, lang: str | None = None) -> Phrase:
        pool = _SYMBOLS if lang != "en" else tuple(c for c in _SYMBOLS if c.isascii())
        return Phrase(rng.choice(pool), "symbol")
