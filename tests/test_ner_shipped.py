"""The shipped NER weights (kocr_sdk/weights/ner-char-bert) on a constructed form page."""

from __future__ import annotations

import pytest

from kocr_sdk.document import Block, Line, Page, Word
from kocr_sdk.geometry import quad_from_box
from kocr_sdk.ner.recognizer import WEIGHTS_DIR, CharBertEntityRecognizer, shipped_entity_recognizers

pytestmark = pytest.mark.shipped_models


def _page(rows: list[list[str]]) -> Page:
    words, lines = [], []
    for r, row in enumerate(rows):
        ids, x, y = [], 10, 20 + 40 * r
        for text in row:
            wid = f"p0-w{len(words)}"
            words.append(Word(id=wid, quad=quad_from_box((x, y, x + 14 * len(text), y + 24)), text=text, text_confidence=0.95))
            ids.append(wid)
            x += 14 * len(text) + 10
        lines.append(Line(id=f"l{r}", quad=quad_from_box((10, y, x, y + 24)), word_ids=ids))
    block = Block(id="b0", quad=quad_from_box((0, 0, 800, 40 * len(rows) + 40)), lines=lines)
    return Page(width=800, height=40 * len(rows) + 40, words=words, blocks=[block])


@pytest.mark.skipif(not (WEIGHTS_DIR / "config.json").is_file(), reason="NER weights not shipped")
def test_shipped_ner_finds_date_phone_and_biz_reg_no():
    assert CharBertEntityRecognizer in shipped_entity_recognizers()
    page = _page([["사업자등록번호", ":", "124-81-00998"], ["발행일", "2021년", "3월", "5일"], ["TEL", "02-3456-7890"]])
    found = {(e.label, e.text): e for e in CharBertEntityRecognizer().recognize(page)}
    assert ("BIZ_REG_NO", "124-81-00998") in found and found[("BIZ_REG_NO", "124-81-00998")].valid is True
    date = found[("DATE", "2021년 3월 5일")]
    assert date.word_ids == ["p0-w4", "p0-w5", "p0-w6"]
    assert ("PHONE", "02-3456-7890") in found
