"""Reference character sets: what "covers Hangul" or "covers Latin" means for a font.

A font is only put in the Hangul pool if it has *every* one of the 2,350 KS X 1001 syllables
(the set every Korean font and every Korean document encoding guarantees), so that choosing a
font for a Korean word almost never fails; single strings are still checked character by
character before rendering (``fonts.FontFace.covers``).
"""

from __future__ import annotations

import functools

#: Printable ASCII without the space: what a "Latin" font must have.
PRINTABLE_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))

#: Hiragana and katakana proper (no archaic or small-form extensions).
KANA = "".join(chr(c) for c in range(0x3041, 0x3097)) + "".join(chr(c) for c in range(0x30A1, 0x30FB)) + "ー"

#: Han characters frequent both in Korean documents (hanja: 株式會社, 代表, 住所 …) and in
#: Chinese/Japanese text; a font must cover all of them to join the ``han`` pool.
COMMON_HAN = (
    "一二三四五六七八九十百千萬円年月日時分人大小中上下本國會社株式代表理事長住所姓名金額合計"
    "領收證事業者登錄番號印貴下請求書見積稅計算商號法支店電話文化學生先出入口東西南北山川水火木土"
)

#: Symbols of Korean documents beyond ASCII (the Korean recogniser's charset reads them too).
DOC_SYMBOLS = "㈜₩·※~‧•○●◎□■△▲▽▼◇◆☆★→←↑↓【】「」『』〈〉《》±×÷°℃"


@functools.lru_cache(maxsize=1)
def ks_x_1001_hangul() -> str:
    """The 2,350 precomposed Hangul syllables of KS X 1001 (EUC-KR rows 0xB0–0xC8), in code order."""
    return "".join(bytes([row, col]).decode("euc-kr") for row in range(0xB0, 0xC9) for col in range(0xA1, 0xFF))


def coverage_sets() -> dict[str, str]:
    """Script name → the characters a font must all have to count as covering that script."""
    return {"hangul": ks_x_1001_hangul(), "latin": PRINTABLE_ASCII, "han": COMMON_HAN, "kana": KANA}
