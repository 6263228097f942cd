"""Till and card receipts laid out the many ways real ones are, with their fields as ground truth.

kocr's form generator prints every field next to a label. Real receipts do not: a Korean POS
receipt prints the store's name as its first lines, its business number with or without
``사업자번호``, the date alone on a line, several totals (``합계``, a 1+1 ``행사할인 -3,980``,
``부가세``, the amount paid as ``결제금액`` or ``받을금액``, the cash handed over as ``받은금액``),
an item table in one of several column layouts, and a card slip (masked card number, approval
number, instalments). English receipts of the kind the public SROIE task holds (Malaysian and
Singaporean shops) print a company name with ``SDN BHD`` (over two lines when it is long), its
registration number, a multi-line address, a GST number, ``TAX INVOICE``, dates as ``20/03/2018``
or ``10 MAR 2018``, prices in ``RM`` and totals as ``TOTAL``, ``ROUNDED TOTAL``, ``GRAND TOTAL``.

Each sample varies which of these a receipt has, their order and their wording, draws them on a
monospaced till grid in the split's fonts, and records the true values:

- ``fields``: Korean ``store``, ``biz_reg_no``, ``date``, ``total``, ``card_approval_no`` (when
  printed); English ``company``, ``date``, ``address``, ``total`` (SROIE's fields). Each is the
  text exactly as printed, lines of a multi-line value joined by one space; a date is printed
  with its time when the time follows it; ``total`` is the amount paid;
- ``items``: ``[{"name", "quantity", "price"}]`` as printed (Korean receipts; quantity may be
  absent where the layout has no quantity column);
- ``template``: ``kr_receipt`` or ``receipt_en``; ``style``: the layout variant drawn.

``ReceiptGenerator(split="heldout", seed=1).sample(i)`` is a pure function of (split, seed, i).
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .layouts.base import PageBuilder, page_size
from .pages import PageGenerator
from .render import line_metrics
from .text import Phrase

__all__ = ["ReceiptGenerator", "TEMPLATES"]

#: The shipped template each language's receipts are read with.
TEMPLATES = {"ko": "kr_receipt", "en": "receipt_en"}

_KO_BRANDS = ("이마트", "이마트24", "홈플러스", "홈플러스 익스프레스", "롯데마트", "롯데슈퍼", "GS더프레시", "GS25", "CU",
              "세븐일레븐", "미니스톱", "하나로마트", "노브랜드", "다이소", "올리브영", "스타벅스", "투썸플레이스",
              "이디야커피", "파리바게뜨", "뚜레쥬르", "김밥천국", "교보문고", "트레이더스", "킴스클럽", "메가마트")
_KO_PLACES = ("월계", "역삼", "강남", "신촌", "홍대", "잠실", "상계", "노원", "분당", "일산", "수원", "서면", "해운대",
              "둔산", "상무", "종로", "명동", "여의도", "목동", "양재", "판교", "동탄", "송도", "청량리", "왕십리",
              "성수", "합정", "구로", "부평", "광교", "천안", "청주", "전주", "창원", "김해", "제주", "의정부")
_KO_SHOPS = ("마트", "식당", "약국", "분식", "정육점", "베이커리", "카페", "상회", "문구", "철물", "슈퍼", "반찬",
             "치킨", "과일", "수산", "세탁소", "꽃집", "안경", "편의점")
_KO_GOODS = ("코카콜라", "칠성사이다", "삼다수", "신라면", "진라면", "새우깡", "초코파이", "바나나우유", "서울우유",
             "햇반", "참치캔", "두부", "계란", "양파", "대파", "사과", "배추", "삼겹살", "요구르트", "아메리카노",
             "카페라떼", "김밥", "떡볶이", "물티슈", "화장지", "세제", "칫솔", "치약", "샴푸", "컵라면", "생수",
             "맥주", "소주", "과자", "아이스크림", "식빵", "우동", "만두", "김치", "고추장", "된장", "식용유",
             "설탕", "소금", "커피믹스", "녹차", "오렌지주스", "포카칩", "허니버터칩", "빼빼로")
_KO_MAKERS = ("", "", "", "CJ", "오뚜기", "농심", "풀무원", "동원", "롯데", "해태", "빙그레", "오리온", "PB")
_KO_SIZES = ("", "", "", "500ml", "1.5L", "2L", "2입", "6입", "10개입", "120g", "1kg", "300g", "4개", "대", "소")
_CARDS = ("신한카드", "삼성카드", "현대카드", "KB국민카드", "롯데카드", "하나카드", "우리카드", "BC카드", "NH농협카드")
_WEEKDAYS = "월화수목금토일"

_EN_PREFIX = ("", "", "", "SYARIKAT", "KEDAI", "PERNIAGAAN", "RESTORAN", "PASARAYA", "GERAI")
_EN_CORE = ("TAN", "LIM", "LEE", "WONG", "ONG", "CHONG", "YAP", "GOH", "KOH", "TEO", "CHUA", "LOW", "HENG", "SOON",
            "HUAT", "SENG", "HOCK", "KEE", "CHUAN", "FATT", "LEONG", "MAJU", "JAYA", "BARU", "MAKMUR", "SENTOSA",
            "GEMILANG", "INDAH", "SETIA", "MUTIARA", "BESTARI", "GOLDEN", "SUNRISE", "GREEN", "UNITED", "STAR",
            "EVERGREEN", "ROYAL", "CITY", "PACIFIC", "OCEAN", "PREMIER", "ASIA", "UNIHAKKA", "SANYU", "POPULAR")
_EN_TRADE = ("TRADING", "ENTERPRISE", "HARDWARE", "STATIONERY", "BOOK STORE", "RESTAURANT", "CAFE", "MINI MARKET",
             "SUPERMARKET", "FOOD INDUSTRIES", "MARKETING", "HOLDINGS", "AUTO PARTS", "PHARMACY", "BAKERY",
             "INTERNATIONAL", "DEPARTMENT STORE", "ELECTRICAL")
_EN_LEGAL = ("SDN BHD", "SDN. BHD.", "(M) SDN BHD", "SDN BHD", "PTE LTD", "PTE. LTD.", "BHD", "S/B")
_EN_STREETS = ("JALAN", "JLN", "LORONG", "PERSIARAN", "LEBUH")
_EN_PLACES = ("TAMING", "KUCHAI", "IPOH", "BUKIT", "PUCHONG", "SETIA", "MERANTI", "KENARI", "PERDANA", "SENTOSA",
              "MUTIARA", "INDAH", "DAMAI", "HARMONI", "SEROJA", "MELATI", "CEMPAKA", "DAHLIA", "BESTARI", "WANGSA")
_EN_CITIES = (("PETALING JAYA", "SELANGOR"), ("SHAH ALAM", "SELANGOR"), ("KLANG", "SELANGOR"), ("PUCHONG", "SELANGOR"),
              ("SUBANG JAYA", "SELANGOR"), ("KAJANG", "SELANGOR"), ("SERI KEMBANGAN", "SELANGOR"),
              ("BALAKONG", "SELANGOR"), ("RAWANG", "SELANGOR"), ("SUNGAI BULOH", "SELANGOR"), ("CHERAS", "KUALA LUMPUR"),
              ("KUALA LUMPUR", "WILAYAH PERSEKUTUAN"), ("JOHOR BAHRU", "JOHOR"), ("SKUDAI", "JOHOR"),
              ("IPOH", "PERAK"), ("GEORGETOWN", "PULAU PINANG"), ("SEREMBAN", "NEGERI SEMBILAN"), ("MELAKA", "MELAKA"))
_EN_GOODS = ("PEN BLUE", "A4 PAPER 80GSM", "NASI LEMAK", "TEH TARIK", "KOPI O", "MILO ICE", "CHICKEN RICE",
             "MINERAL WATER", "WHITE BREAD", "EGG GRADE A", "SUGAR 1KG", "RICE 5KG", "TISSUE BOX", "BATTERY AA",
             "SCREW 2IN", "CABLE TIE", "GLUE STICK", "NOTEBOOK A5", "MEE GORENG", "ROTI CANAI", "ICE LEMON TEA",
             "PAINT BRUSH", "MASKING TAPE", "LED BULB", "HAND SOAP", "DISH SPONGE", "CORRECTION TAPE", "STAPLER",
             "ENVELOPE", "SPIRAL FILE", "CHOCOLATE", "BISCUIT", "INSTANT NOODLE", "COOKING OIL", "FRIED RICE")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


@dataclass
class _Till:
    """A till roll's character grid: lines drawn top to bottom at fixed cells, ground truth kept."""

    b: PageBuilder
    size: int
    cell: float
    cols: int
    margin: float
    lh: float
    y: float
    lines: list[str] = field(default_factory=list)

    @property
    def right(self) -> float:
        return self.margin + self.cols * self.cell

    def width(self, text: str) -> float:
        lay = self.b.layout(text, self.b.face, self.size, cell=self.cell)
        return lay.width if lay is not None else float("inf")

    def put(self, x: float, text: str | Phrase, align: str = "left", scale: float = 1.0, record: bool = True) -> bool:
        size, cell = int(self.size * scale), round(self.cell * scale)
        end = self.b.put(x, self.y, text, self.b.face, size, cell=cell, align=align, max_right=self.right + 1,
                         min_left=self.margin - 1, record=record)
        return end is not None

    def line(self, text: str | Phrase, align: str = "left", scale: float = 1.0) -> bool:
        x = {"left": self.margin, "right": self.right, "center": (self.margin + self.right) / 2}[align]
        ok = self.put(x, text, align, scale)
        self.nl(scale)
        return ok

    def pair(self, left: str | Phrase, right: str | Phrase) -> bool:
        """A label at the left edge and a value right-aligned on the same line."""
        ok = self.put(self.margin, left) and self.put(self.right, right, "right")
        self.nl()
        return ok

    def spread(self, label: str) -> bool:
        """``합    계``: a short label's letters pushed apart over a fixed field, one word each."""
        step = self.cell * self.b.rng.choice((3, 4))
        return all(self.put(self.margin + step * i, ch) for i, ch in enumerate(label))

    def rule(self) -> None:
        self.put(self.margin, self.b.rng.choice("-=.") * self.cols, record=False)
        self.nl()

    def nl(self, k: float = 1.0) -> None:
        self.y += self.lh * k

    def fits(self, text: str, scale: float = 1.0) -> bool:
        return self.width(text) * scale <= self.right - self.margin


def _won(v: int, rng: random.Random, unit: bool = False) -> str:
    s = f"{v:,}"
    return s + "원" if unit else s


def _ko_date(rng: random.Random) -> tuple[str, str | None]:
    """A transaction date and time as Korean POS receipts print them; and an approval stamp."""
    y, m, d = rng.randint(2018, 2026), rng.randint(1, 12), rng.randint(1, 28)
    hh, mi, ss = rng.randint(7, 23), rng.randint(0, 59), rng.randint(0, 59)
    wd = _WEEKDAYS[datetime.date(y, m, d).weekday()]
    forms = (f"{y}-{m:02d}-{d:02d} {hh:02d}:{mi:02d}", f"{y}-{m:02d}-{d:02d} {hh:02d}:{mi:02d}:{ss:02d}",
             f"{y}.{m:02d}.{d:02d}({wd}) {hh:02d}:{mi:02d}", f"{y}/{m:02d}/{d:02d} {hh:02d}:{mi:02d}:{ss:02d}",
             f"{y % 100:02d}.{m:02d}.{d:02d} {hh:02d}:{mi:02d}", f"{y}.{m:02d}.{d:02d} {hh:02d}:{mi:02d}",
             f"{y}년 {m:02d}월 {d:02d}일 {hh:02d}:{mi:02d}", f"{y}-{m:02d}-{d:02d}")
    stamp = f"{y % 100:02d}{m:02d}{d:02d}{hh:02d}{mi:02d}" if rng.random() < 0.5 else None
    return rng.choice(forms), stamp


def _en_date(rng: random.Random) -> str:
    y, m, d = rng.randint(2015, 2019), rng.randint(1, 12), rng.randint(1, 28)
    hh, mi, ss = rng.randint(8, 22), rng.randint(0, 59), rng.randint(0, 59)
    dates = (f"{d:02d}/{m:02d}/{y}", f"{d:02d}-{m:02d}-{y}", f"{y}-{m:02d}-{d:02d}", f"{d:02d}/{m:02d}/{y % 100:02d}",
             f"{d:02d} {_MONTHS[m - 1]} {y}", f"{d:02d}-{_MONTHS[m - 1].title()}-{y}", f"{d}/{m}/{y}")
    date = rng.choices(dates, (5, 2, 1, 1, 2, 1, 1))[0]
    r = rng.random()
    if r < 0.35:
        return date
    h12 = hh % 12 or 12
    times = (f"{hh:02d}:{mi:02d}", f"{hh:02d}:{mi:02d}:{ss:02d}", f"{h12:02d}:{mi:02d} {'PM' if hh >= 12 else 'AM'}",
             f"{h12}:{mi:02d}:{ss:02d} {'PM' if hh >= 12 else 'AM'}")
    return f"{date} {rng.choice(times)}"


def _biz_no(rng: random.Random) -> str:
    from .ids import make_biz_reg_no

    return make_biz_reg_no(rng, dashes=True)


class ReceiptGenerator:
    """Renders receipts: (RGB uint8 image, record with ``fields``, ``items``, ``template``).

    ``lang``: ``ko``, ``en`` or ``mixed`` (even indices Korean, odd English). Options are those
    of :class:`.pages.PageConfig` (``degrade``, ``scale`` …); receipts stay upright unless
    ``rotate=True``.
    """

    def __init__(self, split: str = "train", seed: int = 0, font_dirs: tuple[str, ...] | list[str] = (),
                 lang: str = "mixed", pages: PageGenerator | None = None, **options: Any) -> None:
        if lang not in ("ko", "en", "mixed"):
            raise ValueError(f"lang must be ko, en or mixed, not {lang!r}")
        options.setdefault("rotate", False)
        self.pages = pages if pages is not None else PageGenerator(split, seed, font_dirs, **options)
        self.split, self.seed, self.lang = split, int(seed), lang
        self.text = self.pages.text

    def language(self, index: int) -> str:
        """The language of receipt ``index``."""
        return self.lang if self.lang != "mixed" else ("ko" if index % 2 == 0 else "en")

    def sample(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        """Receipt ``index``. Pure in (split, seed, index)."""
        rng = random.Random(f"kocr-receipt:{self.split}:{self.seed}:{int(index)}")
        b, extra = self.draw(rng, self.language(index))
        return self.pages.finish(rng, b, "receipt", index, extra=extra, receipt=True)

    def draw(self, rng: random.Random, lang: str) -> tuple[PageBuilder, dict[str, Any]]:
        """One upright receipt in ``lang`` drawn from ``rng``, and its record's ground-truth part
        (``template``, ``style``, ``fields``, ``items``): the form generator draws its receipt
        templates' forms with this too."""
        till = self._till(rng, lang)
        fields: dict[str, str] = {}
        items: list[dict[str, str]] = []
        style = (self._korean if lang == "ko" else self._english)(rng, till, fields, items)
        b = till.b
        final_h = int(min(b.h, till.y + till.lh * 1.5))
        b.canvas.layers = [layer[:final_h] for layer in b.canvas.layers]
        b.canvas.height = b.h = final_h
        extra: dict[str, Any] = {"template": TEMPLATES[lang], "style": style, "fields": fields, "lang": lang}
        if lang == "ko":
            extra["items"] = items
        return b, extra

    # -- the roll -------------------------------------------------------------------------------
    def _till(self, rng: random.Random, lang: str) -> _Till:
        gen = self.pages
        w, _ = page_size(gen.config.scale, rng, receipt=True)
        b = PageBuilder(gen, rng, w, int(w * 6), lang=lang)
        pool = gen.mono_pool if lang == "ko" else gen.mono_latin_pool
        if pool is not None and rng.random() < 0.6:
            b.face = pool.choose(rng) or b.face
        cols = rng.choice((32, 40, 42, 42, 48, 48))  # what 58 mm and 80 mm till printers print
        cell = max(6, int(w * rng.uniform(0.88, 0.95) / cols))
        size = max(10, round(cell / rng.uniform(0.52, 0.6)))
        margin = (w - cols * cell) / 2
        asc, desc = line_metrics(b.face.path, b.face.index, size)
        return _Till(b, size, cell, cols, margin, (asc + desc) * rng.uniform(1.2, 1.45), margin + asc * 1.3)

    # -- Korean ---------------------------------------------------------------------------------
    def _store(self, rng: random.Random) -> list[str]:
        r = rng.random()
        if r < 0.6:
            brand, branch = rng.choice(_KO_BRANDS), f"{rng.choice(_KO_PLACES)}점"
            if rng.random() < 0.35:
                return [brand, branch]
            return [f"{brand} {branch}"]
        core = self.text.phrase(rng, "ko_word").text[:4]
        name = f"{core}{rng.choice(_KO_SHOPS)}"
        if rng.random() < 0.25:
            name = f"(주){name}"
        if rng.random() < 0.3:
            return [name, f"{rng.choice(_KO_PLACES)}점"]
        return [name]

    def _ko_item(self, rng: random.Random) -> str:
        if rng.random() < 0.2:
            return self.text.phrase(rng, "ko_word").text[:6]
        name = rng.choice(_KO_MAKERS) + rng.choice(_KO_GOODS)
        size = rng.choice(_KO_SIZES)
        return f"{name}{rng.choice((' ', ''))}{size}" if size else name

    def _korean(self, rng: random.Random, t: _Till, fields: dict[str, str], items: list[dict[str, str]]) -> str:
        style = []
        # preamble printed above the store name on some tills
        if rng.random() < 0.3:
            t.line(rng.choice(("[영수증]", "영수증", "** 고객용 **", "[재발행]", "[신용승인]", "(고객용)")), "center")
        store = self._store(rng)
        scale = rng.choice((1.0, 1.0, 1.2, 1.4))
        align = rng.choice(("center", "center", "left"))
        if not all(t.fits(s, scale) for s in store):
            scale = 1.0
        if all(t.fits(s) for s in store) and all(t.line(Phrase(s, "org", "ORG"), align, scale) for s in store):
            fields["store"] = " ".join(store)
        if "store" in fields and rng.random() < 0.15:
            # the name printed once more with a label, as some POS headers do
            labelled = f"{rng.choice(('상호:', '가맹점명:', '매장명:'))} {fields['store']}"
            if t.fits(labelled):
                t.line(labelled)
        # header: business number, representative, address, phone — with or without labels
        biz = _biz_no(rng)
        rep = self.text.phrase(rng, "person", "ko").text
        phone = self.text.phrase(rng, "phone", "ko").text
        header: list[list[str | Phrase]] = []
        form = rng.random()
        biz_phrase = Phrase(biz, "biz_reg_no", "BIZ_REG_NO")
        if form < 0.3:
            header.append([rng.choice(("사업자번호:", "사업자번호", "사업자등록번호:", "등록번호:")), biz_phrase])
            style.append("biz-label")
        elif form < 0.55:
            header.append([biz_phrase])
            style.append("biz-alone")
        elif form < 0.8:
            header.append([biz_phrase, "대표", Phrase(rep, "person", "PERSON")])
            style.append("biz-rep")
        elif form < 0.9:
            header.append(["[사업자]", biz_phrase])
            style.append("biz-bracket")
        else:
            style.append("biz-none")
            biz_phrase = None  # type: ignore[assignment]
        if rng.random() < 0.6 and not style[-1] == "biz-rep":
            header.append([rng.choice(("대표:", "대표자:", "대표")), Phrase(rep, "person", "PERSON")])
        address = self.text.phrase(rng, "address", "ko").text
        header.append(([rng.choice(("주소:", "주소"))] if rng.random() < 0.4 else []) + [Phrase(address, "address", "ADDRESS")])
        if rng.random() < 0.8:
            header.append([rng.choice(("TEL:", "TEL", "전화:", "T."))] + [Phrase(phone, "phone", "PHONE")])
        rng.shuffle(header)
        for row in header:
            text = " ".join(p.text if isinstance(p, Phrase) else p for p in row)
            if not t.fits(text):
                if any(p is biz_phrase for p in row):
                    row = [p for p in row if p is biz_phrase or "사업자" in str(p) or "등록번호" in str(p)]
                else:
                    continue
            x = t.margin
            ok = True
            for p in row:
                ok = ok and t.put(x, p)
                x += t.width(p.text if isinstance(p, Phrase) else p) + t.cell
            if ok and biz_phrase is not None and any(p is biz_phrase for p in row):
                fields["biz_reg_no"] = biz
            t.nl()
        t.rule()
        # the date: alone, after a bracket tag, or labelled
        date, stamp = _ko_date(rng)
        pos = f"POS:{rng.randint(1, 9):02d}"
        r = rng.random()
        if r < 0.3:
            ok = t.line(Phrase(date, "date", "DATE"))
            style.append("date-alone")
        elif r < 0.5:
            ok = t.put(t.margin, "[판매]") and t.put(t.margin + t.width("[판매]") + t.cell, Phrase(date, "date", "DATE"))
            t.nl()
            style.append("date-tag")
        elif r < 0.75:
            label = rng.choice(("거래일시:", "일시:", "판매일:", "거래일자:", "판매일시"))
            ok = t.put(t.margin, label) and t.put(t.margin + t.width(label) + t.cell, Phrase(date, "date", "DATE"))
            t.nl()
            style.append("date-label")
        else:
            ok = t.put(t.margin, Phrase(date, "date", "DATE")) and t.put(t.right, pos, "right")
            t.nl()
            style.append("date-pos")
        if ok:
            fields["date"] = date
        if rng.random() < 0.5:
            t.line(f"{pos} 계산원:{self.text.phrase(rng, 'person', 'ko').text} No.{rng.randint(1, 9999):04d}")
        t.rule()
        # items
        layout = rng.choice(("4col", "3col", "2line", "4col"))
        style.append(f"items-{layout}")
        heads = {"4col": (rng.choice(("상품명", "상 품 명", "품명")), "단가", "수량", "금액"),
                 "3col": (rng.choice(("상품명", "품명", "품목")), "수량", "금액"),
                 "2line": (rng.choice(("상품명", "품명")), "단가", "수량", "금액")}[layout]
        col_x = self._columns(t, len(heads))
        for head, x in zip(heads, col_x):
            t.put(x, head, "left" if x == t.margin else "right")
        t.nl()
        t.rule()
        subtotal = discount = 0
        for _ in range(rng.randint(1, 7)):
            name = self._ko_item(rng)
            unit = rng.randint(3, 300) * 100 - rng.choice((0, 0, 10, 20, 50))
            qty = rng.choices((1, 2, 3, 4, 5, 10), (10, 4, 2, 1, 1, 1))[0]
            amount = unit * qty
            max_name = (col_x[1] - t.margin) - t.cell * (4 if layout != "2line" else 0)
            while name and t.width(name) > max_name:
                name = name[:-1].rstrip()
            if not name:
                continue
            cells = [_won(unit, rng), str(qty), _won(amount, rng)] if len(heads) == 4 else [str(qty), _won(amount, rng)]
            if layout == "2line":
                if not t.put(t.margin, name):
                    continue
                t.nl()
                code = f"{rng.randint(10 ** 12, 10 ** 13 - 1)}"
                if t.width(code) < col_x[1] - t.margin - t.cell * 9 and rng.random() < 0.6:
                    t.put(t.margin + t.cell, code)
            elif not t.put(t.margin, name):
                continue
            for cell, x in zip(cells, col_x[1:]):
                t.put(x, cell, "right")
            t.nl()
            items.append({"name": name, "quantity": str(qty), "price": cells[-1]})
            subtotal += amount
            if qty >= 2 and rng.random() < 0.35:  # 1+1: the second one free
                off = unit * (qty // 2)
                label = rng.choice(("행사할인", "(1+1)할인", "1+1 행사", "즉시할인"))
                t.put(t.margin + t.cell * 2, label)
                t.put(t.right, rng.choice((f"-{off:,}", f"{off:,}-")), "right")
                t.nl()
                discount += off
        t.rule()
        paid = subtotal - discount
        vat = round(paid / 11)
        unit_won = rng.random() < 0.2
        total_rows: list[tuple[str, str, bool]] = []  # (label, amount, is the amount paid)
        variant = rng.choice(("sum", "paid", "due", "buy", "due-sale", "total")) if discount == 0 else \
            rng.choice(("paid", "due", "buy", "due-sale", "paid"))
        style.append(f"totals-{variant}")
        if variant == "sum":
            total_rows.append((rng.choice(("합계", "합 계", "합계금액")), _won(subtotal, rng, unit_won), True))
        elif variant == "total":
            total_rows += [("과세물품가액", _won(paid - vat, rng), False), ("부가세", _won(vat, rng), False),
                           (rng.choice(("총액", "총금액")), _won(paid, rng, unit_won), True)]
        elif variant == "paid":
            total_rows.append(("합계", _won(subtotal, rng), False))
            if discount:
                total_rows.append((rng.choice(("할인금액", "할인합계", "총할인")), f"-{discount:,}", False))
            total_rows.append((rng.choice(("결제금액", "결제 금액")), _won(paid, rng, unit_won), True))
        elif variant == "due":
            total_rows += [("과세물품가액", _won(paid - vat, rng), False), ("부가세", _won(vat, rng), False),
                           ("합계", _won(paid, rng), False), ("받을금액", _won(paid, rng, unit_won), True)]
        elif variant == "buy":
            total_rows.append(("총구매액", _won(subtotal, rng), False))
            if discount:
                total_rows.append(("행사할인", f"-{discount:,}", False))
            total_rows.append(("결제금액", _won(paid, rng, unit_won), True))
        else:
            total_rows.append(("판매합계", _won(subtotal, rng), False))
            if discount:
                total_rows.append(("할인합계", f"-{discount:,}", False))
            total_rows.append(("받을금액", _won(paid, rng, unit_won), True))
        cash = rng.random() < 0.3
        if cash:
            given = ((paid // 10000) + 1) * 10000
            total_rows += [("받은금액", _won(given, rng), False), ("거스름돈", _won(given - paid, rng), False)]
        elif rng.random() < 0.5:
            total_rows.append(("카드", _won(paid, rng), False))
        for label, amount, is_total in total_rows:
            if len(label) == 2 and rng.random() < 0.4:
                ok = t.spread(label) and t.put(t.right, Phrase(amount, "amount", "MONEY"), "right")
                t.nl()
            else:
                ok = t.pair(label, Phrase(amount, "amount", "MONEY"))
            if is_total and ok:
                fields["total"] = amount
        if not cash and rng.random() < 0.75:
            t.rule()
            self._card_slip(rng, t, fields, paid, stamp)
        t.rule()
        if rng.random() < 0.6:
            t.line(rng.choice(("감사합니다", "이용해 주셔서 감사합니다", "교환/환불은 7일 이내 영수증 지참",
                               "*** 고객용 ***")), "center")
        if rng.random() < 0.5:
            t.b.barcode(t.margin + t.cols * t.cell * 0.15, t.y - t.lh * 0.8, t.cols * t.cell * 0.7, t.lh * 1.8)
            t.nl(1.6)
            t.line(f"{rng.randint(10 ** 11, 10 ** 12 - 1)}{rng.randint(0, 9)}", "center")
        return " ".join(style)

    def _columns(self, t: _Till, n: int) -> list[float]:
        """x of each column: the text column at the margin, number columns right-aligned (their
        right edges), wide enough for a price and its header."""
        if n == 3:
            return [t.margin, t.right - t.cell * 11, t.right]
        unit = t.right - t.cell * 10
        return [t.margin, unit - t.cell * 9, unit, t.right]

    def _card_slip(self, rng: random.Random, t: _Till, fields: dict[str, str], paid: int, stamp: str | None) -> None:
        if rng.random() < 0.4:
            t.line(rng.choice(("[신용카드 매출전표]", "** 신용승인정보 **", "[카드승인]")), "center")
        card = self.text.phrase(rng, "card").text
        approval = f"{rng.randint(0, 99999999):08d}"
        rows: list[tuple[str, str | Phrase]] = [
            ("카드종류", rng.choice(_CARDS)), ("카드번호", card),
            ("할부", rng.choice(("일시불", "일시불", "03개월", "00"))),
            ("승인번호", approval), ("승인금액", _won(paid, rng))]
        if stamp is not None:
            rows.append(("승인일시", stamp))
        if rng.random() < 0.5:
            rows.append(("가맹점번호", f"{rng.randint(10 ** 8, 10 ** 9 - 1)}"))
        for label, value in rows:
            if rng.random() < 0.15 and label not in ("승인번호", "카드번호"):
                continue
            sep = rng.choice((":", ": ", " "))
            left = f"{label}{sep}".strip()
            if rng.random() < 0.5:
                ok = t.put(t.margin, left) and t.put(t.margin + t.width(left) + t.cell, value)
                t.nl()
            else:
                ok = t.pair(left, value)
            if ok and label == "승인번호":
                fields["card_approval_no"] = approval

    # -- English ----------------------------------------------------------------------------------
    def _company(self, rng: random.Random, t: _Till) -> list[str]:
        words = [w for w in (rng.choice(_EN_PREFIX), rng.choice(_EN_CORE), rng.choice(_EN_CORE)) if w]
        if rng.random() < 0.5:
            words = words[-2:]
        trade = rng.choice(_EN_TRADE)
        legal = rng.choice(_EN_LEGAL) if rng.random() < 0.8 else ""
        while len(words) > 1 and not t.fits(" ".join(words + [trade])):
            words = words[1:]
        name = " ".join(words + [trade])
        if not t.fits(name):
            name = " ".join(words)
        full = f"{name} {legal}".strip()
        if legal and (not t.fits(full) or rng.random() < 0.3):
            return [name, legal]
        return [full]

    def _address(self, rng: random.Random) -> list[str]:
        if rng.random() < 0.15:
            return [f"{rng.randint(1, 300)} {rng.choice(_EN_PLACES)} ROAD #{rng.randint(1, 20):02d}-{rng.randint(1, 99):02d}",
                    f"{rng.choice(_EN_CORE)} {rng.choice(('PLAZA', 'CENTRE', 'BUILDING', 'MALL'))}",
                    f"SINGAPORE {rng.randint(10 ** 5, 10 ** 6 - 1)}"]
        city, state = rng.choice(_EN_CITIES)
        lines = [f"{rng.choice(('NO.', 'NO', 'LOT', ''))} {rng.randint(1, 200)}, {rng.choice(_EN_STREETS)} "
                 f"{rng.choice(_EN_PLACES)} {rng.randint(1, 12)},".strip()]
        if rng.random() < 0.7:
            lines.append(f"{rng.choice(('TAMAN', 'BANDAR', 'KAWASAN PERINDUSTRIAN'))} {rng.choice(_EN_PLACES)}"
                         f"{' ' + rng.choice(_EN_PLACES) if rng.random() < 0.4 else ''},")
        post = f"{rng.randint(40000, 81999)}"
        if rng.random() < 0.5:
            lines.append(f"{post} {city}, {state}.")
        else:
            lines += [f"{post} {city},", f"{state}{rng.choice(('', ' DARUL EHSAN', '.'))}" if state == "SELANGOR" else f"{state}."]
        return lines

    def _english(self, rng: random.Random, t: _Till, fields: dict[str, str], items: list[dict[str, str]]) -> str:
        style = []
        if rng.random() < 0.15:
            t.line(rng.choice(("WELCOME", "*** RECEIPT ***", "TAX INVOICE")), "center")
        company = self._company(rng, t)
        align = rng.choice(("center", "center", "left"))
        scale = rng.choice((1.0, 1.0, 1.15))
        if not all(t.fits(c, scale) for c in company):
            scale = 1.0
        if all(t.fits(c) for c in company) and all(t.line(Phrase(c, "org", "ORG"), align, scale) for c in company):
            fields["company"] = " ".join(company)
            style.append(f"company-{len(company)}line")
        if rng.random() < 0.7:
            reg = rng.choice((f"({rng.randint(10 ** 5, 10 ** 7)}-{rng.choice('AKUPHMTWXDV')})",
                              f"CO. REG. NO: {rng.randint(10 ** 5, 10 ** 7)}-{rng.choice('AKUPHMTWXDV')}",
                              f"(CO.REG: {rng.randint(10 ** 5, 10 ** 7)}-{rng.choice('AKUPHMTWXDV')})"))
            t.line(reg, align)
        address = self._address(rng)
        printed = []
        for line in address:
            if not t.fits(line):
                head, _, tail = line.rpartition(" ")
                if head and t.fits(head) and t.fits(tail):
                    printed += [head, tail]
                    continue
                printed = []
                break
            printed.append(line)
        if printed and all(t.line(Phrase(line, "address", "ADDRESS"), align) for line in printed):
            fields["address"] = " ".join(printed)
            style.append(f"address-{len(printed)}line")
        if rng.random() < 0.85:
            phone = f"0{rng.randint(3, 9)}-{rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
            t.line(rng.choice((f"TEL: {phone}", f"TEL NO : {phone}", f"PHONE: {phone}", f"TEL {phone}")), align)
        if rng.random() < 0.7:
            t.line(rng.choice(("GST ID: ", "GST REG NO : ", "GST NO: ")) + f"{rng.randint(10 ** 11, 10 ** 12 - 1):012d}", align)
        if rng.random() < 0.6:
            t.nl(0.5)
            t.line(rng.choice(("TAX INVOICE", "SIMPLIFIED TAX INVOICE", "RECEIPT", "CASH BILL", "OFFICIAL RECEIPT")), "center")
        t.rule()
        date = _en_date(rng)
        r = rng.random()
        label = rng.choice(("DATE:", "DATE :", "Date:", "DATE", "INVOICE DATE:", "Date/Time:"))
        if r < 0.5:
            ok = t.put(t.margin, label) and t.put(t.margin + t.width(label) + t.cell, Phrase(date, "date", "DATE"))
            style.append("date-label")
        elif r < 0.75:
            ok = t.put(t.margin, Phrase(date, "date", "DATE"))
            style.append("date-alone")
        else:
            doc = f"{rng.choice(('INV', 'CS', 'BILL', 'RCPT'))}{rng.randint(10 ** 5, 10 ** 8)}"
            ok = t.put(t.margin, doc) and t.put(t.right, Phrase(date, "date", "DATE"), "right")
            style.append("date-doc")
        t.nl()
        if ok:
            fields["date"] = date
        if rng.random() < 0.6:
            t.line(f"{rng.choice(('CASHIER', 'SALESPERSON', 'OPERATOR'))}: {rng.choice(_EN_CORE)}")
        if rng.random() < 0.4:
            t.line(f"{rng.choice(('INVOICE NO', 'RECEIPT NO', 'BILL NO'))}: {rng.randint(10 ** 4, 10 ** 7)}")
        t.rule()
        heads = rng.choice((("ITEM", "QTY", "PRICE", "AMOUNT"), ("DESCRIPTION", "QTY", "U/PRICE", "TOTAL"),
                            ("ITEM", "QTY", "AMT")))
        col_x = self._columns(t, len(heads))
        for head, x in zip(heads, col_x):
            t.put(x, head, "left" if x == t.margin else "right")
        t.nl()
        t.rule()
        subtotal = 0
        for _ in range(rng.randint(1, 6)):
            name = rng.choice(_EN_GOODS) if rng.random() < 0.8 else self.text.phrase(rng, "en_word", "en").text.upper()
            unit = rng.choice((rng.randint(10, 400), rng.randint(10, 400), rng.randint(400, 3000))) * 5
            qty = rng.choices((1, 2, 3, 4, 6), (10, 4, 2, 1, 1))[0]
            amount = unit * qty
            while name and t.width(name) > col_x[1] - t.margin - t.cell * 4:
                name = name[:-1].rstrip()
            if not name:
                continue
            cells = [str(qty), f"{unit / 100:.2f}", f"{amount / 100:.2f}"] if len(heads) == 4 else \
                [str(qty), f"{amount / 100:.2f}"]
            t.put(t.margin, name)
            for cell, x in zip(cells, col_x[1:]):
                t.put(x, cell, "right")
            t.nl()
            subtotal += amount
        t.rule()
        gst = rng.random() < 0.6
        tax = round(subtotal * 0.06) if gst else 0
        total = subtotal + tax
        rounded = int(round(total / 5.0) * 5)
        rm = rng.random() < 0.25

        def money(cents: int) -> str:
            return f"{'RM' if rm else ''}{cents / 100:.2f}"

        rows: list[tuple[str, str, int]] = []  # (label, amount, preference of it being the total)
        if gst:
            rows += [(rng.choice(("TOTAL SALES (EXCLUDING GST)", "SUB TOTAL", "SUBTOTAL", "TOTAL SALES EXCL GST")),
                      money(subtotal), 0), (rng.choice(("GST @6%", "GST 6%", "TOTAL GST")), money(tax), 0)]
            rows.append((rng.choice(("TOTAL (INCL GST)", "TOTAL INCL. GST", "TOTAL", "TOTAL AMOUNT")), money(total), 2))
        else:
            if rng.random() < 0.5:
                rows.append((rng.choice(("SUB TOTAL", "SUBTOTAL")), money(subtotal), 0))
            rows.append((rng.choice(("TOTAL", "TOTAL (RM)", "TOTAL AMOUNT", "AMOUNT DUE", "GRAND TOTAL")), money(total), 2))
        if rounded != total and rng.random() < 0.7:
            rows += [(rng.choice(("ROUNDING ADJ", "ROUNDING", "ROUNDING ADJUSTMENT")), f"{(rounded - total) / 100:.2f}", 0),
                     (rng.choice(("ROUNDED TOTAL", "ROUNDED TOTAL (RM)", "NETT TOTAL", "GRAND TOTAL")), money(rounded), 3)]
            paid = rounded
        else:
            paid = total
        if rng.random() < 0.5:
            given = (paid // 1000 + 1) * 1000
            rows += [("CASH", money(given), 0), ("CHANGE", money(given - paid), 0)]
        if rng.random() < 0.3:
            rows.insert(0, ("TOTAL QTY:", str(rng.randint(1, 9)), 0))
        best = max(rows, key=lambda r: r[2])
        for label, amount, pref in rows:
            ok = t.pair(label, Phrase(amount, "amount", "MONEY") if pref else amount)
            if ok and (label, amount, pref) == best:
                fields["total"] = amount
        style.append("gst" if gst else "no-gst")
        t.rule()
        if rng.random() < 0.7:
            t.line(rng.choice(("THANK YOU", "THANK YOU. PLEASE COME AGAIN", "GOODS SOLD ARE NOT RETURNABLE",
                               "THANK YOU FOR SHOPPING")), "center")
        return " ".join(style)
