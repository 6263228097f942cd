"""The template language for real layouts: values without labels, anchor tiers, multi-line values,
item tables, layout cues, refusing a page, and key–value pairs without a template."""

from __future__ import annotations

import pytest

from kocr_sdk.document import Document, Entity, Page
from kocr_sdk.errors import KocrTemplateError
from kocr_sdk.layout import cluster_page
from kocr_sdk.templates import Template, load_template
from kocr_sdk.templates.keyvalues import KeyValueConfig
from kocr_sdk.templates.matcher import MatcherConfig, match_templates, read_page, score_templates
from tests.builders import H, page_of, row

VALID_BRN = "124-81-00998"


def template(fields, keywords=({"text": "영수증", "weight": 1},), min_score=0.0, tid="t", cues=(), **match):
    return Template.model_validate({"id": tid, "name": tid, "match": {"keywords": list(keywords), "min_score": min_score,
                                                                     "cues": list(cues), **match}, "fields": fields})


def lines(*rows, x=40, pitch=int(H * 1.6), right=None):
    """A till-like page: each row a list of words at the left, or (left words, right words)."""
    items, y = [], 40
    for r in rows:
        left, far = (r, None) if isinstance(r, list) else r
        items += row(left, x, y)
        if far:
            width = sum(14 * len(t) + 8 for t in far) - 8
            items += row(far, (right or 600) - width, y)
        y += pitch
    return page_of(items, width=700, height=max(1000, y + 40))


def read(page, templates, **cfg):
    return match_templates(page, templates if isinstance(templates, list) else [templates], MatcherConfig(**cfg))


# ------------------------------------------------------------------------------------ values without a label
def test_first_lines_take_a_store_name_over_two_lines_and_skip_a_heading():
    page = lines(["[영수증]"], ["이마트"], ["월계점"], ["124-81-00998", "대표", "홍길동"], ["2022-07-14", "08:37"])
    spec = {"position": "first_lines", "lines": 2, "until": "점$", "skip": ["영수증"]}
    m = read(page, template({"store": spec}))
    assert m.fields["store"].value == "이마트 월계점" and m.fields["store"].anchor is None
    one = lines(["행복약국"], ["서울시", "노원구", "123"], ["2022-07-14"])
    assert read(one, template({"store": spec})).fields["store"].value == "행복약국"  # no line ends in 점


def test_a_date_printed_alone_is_found_anywhere_and_the_first_one_is_chosen():
    page = lines(["GS25", "역삼점"], ["2022-07-14", "08:37"], ["합계", "3,980"], ["승인일시", "2512262008"])
    m = read(page, template({"date": {"position": "anywhere", "choose": "first", "type": "date"}}))
    assert m.fields["date"].value == "2022-07-14 08:37" and m.fields["date"].normalized == "2022-07-14T08:37"
    last = read(page, template({"date": {"position": "anywhere", "choose": "last", "type": "date"}}))
    assert last.fields["date"].value == "2512262008" and last.fields["date"].normalized == "2025-12-26T20:08"


def test_largest_smallest_and_nearest_choose_among_amounts():
    page = lines((["상품"], ["7,960"]), (["행사할인"], ["-3,980"]), (["결제금액"], ["3,980"]), (["받은금액"], ["10,000"]))
    pick = lambda how, **kw: read(page, template({"x": {"position": "anywhere", "choose": how, "type": "amount", **kw}}))  # noqa: E731
    assert pick("largest").fields["x"].value == "10,000"
    assert pick("smallest").fields["x"].value == "-3,980"
    assert pick("nearest", near=["결제금액"]).fields["x"].value == "3,980"


def test_only_refuses_to_choose_between_different_values():
    two = lines(["124-81-00998"], ["220-81-62517"])
    spec = {"position": "anywhere", "choose": "only", "type": "biz_reg_no"}
    assert read(two, template({"brn": spec})).fields["brn"].value is None
    assert read(lines(["124-81-00998"]), template({"brn": spec})).fields["brn"].value == VALID_BRN


def test_entity_fallback_when_the_anchor_is_missing():
    page = lines(["홍길동상회"], ["서울시", "종로구"], ["124-81-00998", "대표", "홍길동"])
    ner = [Entity(id="e0", label="BIZ_REG_NO", text=VALID_BRN, word_ids=[page.words[3].id], confidence=0.95)]
    page = page.model_copy(update={"entities": ner})
    spec = {"anchors": ["사업자번호"], "type": "biz_reg_no", "entity": "BIZ_REG_NO",
            "fallback": [{"position": "entity", "choose": "only"}]}
    f = read(page, template({"brn": spec})).fields["brn"]
    assert f.value == VALID_BRN and f.valid is True and f.anchor is None
    assert f.confidence == pytest.approx(0.95 * 0.9)  # NER's confidence × the fallback prior


def test_after_takes_the_lines_under_another_field_to_a_stop_line():
    page = lines(["UNIHAKKA", "INTERNATIONAL"], ["SDN", "BHD"], ["(867388-U)"], ["12,", "JALAN", "TAMING", "3,"],
                 ["43300", "BALAKONG,", "SELANGOR."], ["TEL:", "03-8961", "2233"], ["TOTAL", "9.00"])
    fields = {"company": {"position": "first_lines", "lines": 2, "until": "SDN BHD$"},
              "address": {"position": "after", "after": "company", "lines": 5, "skip": [r"^\(\d+-[A-Z]\)$"],
                          "stop_before": "TEL"}}
    m = read(page, template(fields, keywords=[{"text": "TOTAL"}]))
    assert m.fields["company"].value == "UNIHAKKA INTERNATIONAL SDN BHD"
    assert m.fields["address"].value == "12, JALAN TAMING 3, 43300 BALAKONG, SELANGOR."


def test_under_title_reads_the_line_below_the_title_keyword():
    page = lines(["견적서"], ["No.", "Q-2024-001"], ["공급자", "한빛"], x=300)
    t = template({"no": {"position": "under_title", "pattern": "Q-[0-9-]+"}},
                 keywords=[{"text": "견적서", "required": True, "weight": 2}])
    assert read(page, t).fields["no"].value == "Q-2024-001"


def test_named_region_is_of_the_text_not_the_photo():
    page = lines(["STORE"], ["a"], ["b"], ["c"], ["d"], ["THANK", "YOU"])
    m = read(page, template({"foot": {"position": "region", "region": "bottom"}}))
    assert m.fields["foot"].value in ("d THANK YOU", "THANK YOU")


# ------------------------------------------------------------------------------------ anchors
TOTAL = {"anchors": [["결제금액"], ["받을금액"], ["합계", "총액"]], "anchor_order": "listed", "type": "amount",
         "exclude": ["받은금액", "할인합계"]}


@pytest.mark.parametrize("rows, expected", [
    ([(["합계"], ["7,960"]), (["행사할인"], ["-3,980"]), (["결제금액"], ["3,980"])], "3,980"),
    ([(["결제금액"], ["3,980"]), (["합계"], ["7,960"])], "3,980"),  # preference, not page order
    ([(["합계"], ["7,960"]), (["받을금액"], ["7,960원"]), (["받은금액"], ["10,000"])], "7,960원"),
    ([(["합계"], ["7,960"]), (["받은금액"], ["10,000"]), (["거스름돈"], ["2,040"])], "7,960"),  # 받은금액 is no 받을금액
    ([(["할인합계"], ["-500"]), (["총액"], ["4,500"])], "4,500"),
])
def test_anchor_tiers_take_the_amount_paid_first(rows, expected):
    assert read(lines(*rows), template({"total": TOTAL})).fields["total"].value == expected


def test_score_order_takes_the_most_confident_whatever_the_tier():
    page = lines((["합계"], ["7,960"]), (["결제금액"], ["3,980"]))
    conf = [1.0, 1.0, 1.0, 0.5]  # the 결제금액 value was read with low confidence
    page = page_of([(w.text, (w.box[0], w.box[1], w.box[2], w.box[3])) for w in page.words], confidences=conf)
    by_score = {**TOTAL, "anchor_order": "score"}
    assert read(page, template({"total": by_score})).fields["total"].value == "7,960"
    assert read(page, template({"total": TOTAL})).fields["total"].value == "3,980"


def test_fuzzy_anchor_still_found_with_an_ocr_error():
    page = lines((["결제금맥"], ["3,980"]), (["합계"], ["7,960"]))
    f = read(page, template({"total": TOTAL})).fields["total"]
    assert f.value == "3,980" and f.anchor == "결제금맥" and f.confidence < 1.0


def test_subtotal_is_excluded_from_a_total_anchor():
    page = lines((["SUB", "TOTAL"], ["12.00"]), (["TOTAL", "SALES"], ["11.32"]), (["TOTAL"], ["12.00"]))
    spec = {"anchors": ["TOTAL"], "anchor_threshold": 85, "type": "amount", "exclude": ["SUB TOTAL", "TOTAL SALES"]}
    page2 = lines((["TOTAL", "SALES"], ["11.32"]), (["GST"], ["0.68"]))
    assert read(page, template({"total": spec})).fields["total"].value == "12.00"
    assert read(page2, template({"total": spec})).fields["total"].value is None


def test_right_value_wraps_onto_the_next_line_but_not_into_the_next_row():
    page = page_of(row(["사업장소재지"], 40, 40) + row(["서울특별시", "강남구", "테헤란로"], 300, 40)
                   + row(["123,", "4층"], 300, 40 + int(H * 1.5)) + row(["업태"], 40, 40 + H * 3) + row(["도소매"], 300, 40 + H * 3))
    spec = {"anchors": ["사업장소재지"], "lines": 3}
    assert read(page, template({"a": spec})).fields["a"].value == "서울특별시 강남구 테헤란로 123, 4층"
    assert read(page, template({"a": {"anchors": ["사업장소재지"]}})).fields["a"].value == "서울특별시 강남구 테헤란로"


def test_a_value_on_a_slanted_photo_is_still_beside_its_label():
    # a perspective view: the foot of the paper slants more than its top, so the amount at the
    # right end of a low row sits most of a line above its label
    import math

    from kocr_sdk.document import Word

    words = []
    rows = (("상품", "1,000"), ("합계", "7,960"), ("할인", "-3,980"), ("받은금액", "5,000"), ("결제금액", "3,980"))
    for k, (label, value) in enumerate(rows):
        y, slope = 100 + k * 34, -0.01 - 0.02 * k
        for text, x in ((label, 40.0), (value, 520.0)):
            w = 14.0 * len(text)
            yy = y + slope * x
            c, s_ = math.cos(math.atan(slope)), math.sin(math.atan(slope))
            quad = ((x, yy), (x + w * c, yy + w * s_), (x + w * c - H * s_, yy + w * s_ + H * c), (x - H * s_, yy + H * c))
            words.append(Word(id=f"w{len(words)}", quad=quad, text=text))
    page = Page(width=700, height=400, words=words)
    assert read(page, template({"total": TOTAL})).fields["total"].value == "3,980"


# ------------------------------------------------------------------------------------ items
ITEMS = {"anchors": ["상품명"], "position": "table", "stop_before": "합\\s*계|결제",
         "columns": [{"name": "name"}, {"name": "unit_price", "type": "amount"},
                     {"name": "quantity", "type": "number"}, {"name": "price", "type": "amount"}]}


def test_item_rows_with_one_and_two_line_items_and_a_discount():
    page = lines((["상품명"], ["단가", "수량", "금액"]), (["신라면"], ["1,500", "2", "3,000"]),
                 (["행사할인"], ["-1,500"]), (["해태두부", "4개"], ["7,100", "3", "21,300"]), ["코카콜라", "500ml"],
                 (["8801234567890"], ["1,990", "1", "1,990"]), (["합계"], ["24,790"]), right=560)
    m = read(page, template({"items": ITEMS}))
    rows = m.fields["items"].normalized
    assert rows == [{"name": "신라면", "unit_price": 1500, "quantity": 2, "price": 3000},
                    {"name": "해태두부 4개", "unit_price": 7100, "quantity": 3, "price": 21300},
                    {"name": "코카콜라 500ml", "unit_price": 1990, "quantity": 1, "price": 1990}]
    assert m.fields["items"].value.splitlines()[0] == "신라면 1,500 2 3,000"


# ------------------------------------------------------------------------------------ choosing a template
def test_layout_cues_count_like_keywords_and_a_required_cue_refuses_a_page():
    till = lines((["김밥"], ["3,000"]), (["라면"], ["4,500"]), (["합계"], ["7,500"]))
    amounts = {"pattern": r"\d{1,3}(,\d{3})+$", "min_count": 3, "weight": 2}
    t = template({"total": {"anchors": ["합계"], "type": "amount"}}, keywords=[{"text": "영수증"}, {"text": "합계"}],
                 min_score=0.7, cues=[amounts])
    s = score_templates(till, [t])[0]
    assert s.passed and s.coverage == pytest.approx(0.75) and s.keywords[f"cue: 3+ lines matching {amounts['pattern']}"] == 100
    narrow = template({"total": {"anchors": ["합계"], "type": "amount"}}, keywords=[{"text": "합계"}],
                      cues=[{"columns": [60, 1000], "required": True}], tid="a4")
    s = score_templates(till, [narrow])[0]
    assert not s.passed and "cue: columns 60–1000" in s.reason


def test_a_page_no_template_fits_says_why():
    page = lines(["안녕하세요"], ["오늘", "날씨가", "좋네요"])
    t = template({"total": {"anchors": ["합계"], "type": "amount", "required": True}},
                 keywords=[{"text": "영수증", "required": True}], tid="kr_receipt")
    found = read_page(page, [t])
    assert found.match is None
    assert found.message.startswith("no template fits: kr_receipt") and "영수증" in found.message


def test_min_confidence_refuses_a_weak_match():
    page = lines((["합계"], ["abc"]))
    t = template({"total": {"anchors": ["합계"], "type": "amount", "required": True}}, keywords=[{"text": "합계"}],
                 min_confidence=0.9)
    s = score_templates(page, [t])[0]
    assert not s.passed and "min_confidence" in s.reason


def test_field_review_threshold_and_repaired_number_need_review():
    # 124-81-00998 with a 9 misread as 0 where only one OCR confusion validates
    page = lines((["사업자번호"], ["124-81-00098"]))
    f = read(page, template({"brn": {"anchors": ["사업자번호"], "type": "biz_reg_no"}})).fields["brn"]
    assert f.normalized == "1248100998" and f.valid is True and f.needs_review and "repaired" in f.note
    sure = lines((["사업자번호"], [VALID_BRN]))
    spec = {"anchors": ["사업자번호"], "type": "biz_reg_no", "review_threshold": 1.0}
    assert not read(sure, template({"brn": spec})).fields["brn"].needs_review
    conf = page_of([(w.text, w.box) for w in sure.words], confidences=[1.0, 0.95])
    assert read(conf, template({"brn": spec})).fields["brn"].needs_review


# ------------------------------------------------------------------------------------ the format
@pytest.mark.parametrize("field, says", [
    ({"position": "anywhere"}, "needs a `pattern` or a `type`"),
    ({"position": "entity"}, "needs `entity"),
    ({"position": "after"}, "needs `after"),
    ({"position": "after", "after": "nope"}, "names no other field"),
    ({"position": "table", "anchors": ["품명"]}, "needs `columns"),
    ({"anchors": ["합계"], "until": "(?<=x)y"}, "RE2"),
    ({"position": "anywhere", "type": "date", "choose": "nearest"}, "needs `near"),
    ({"anchors": [["합계", " "]]}, "non-empty phrase"),
])
def test_bad_rules_are_refused_with_file_line_and_key(tmp_path, field, says):
    import yaml

    text = yaml.safe_dump({"id": "t", "name": "t", "match": {"keywords": [{"text": "x"}]}, "fields": {"f": field}},
                          allow_unicode=True)
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KocrTemplateError, match=f"t.yaml:\\d+: .*{says[:12]}") as err:
        load_template(path)
    assert says in str(err.value)


def test_after_cannot_go_round_in_a_circle(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("id: t\nname: t\nmatch: {keywords: [{text: x}]}\nfields:\n"
                    "  a: {position: after, after: b}\n  b: {position: after, after: a}\n", encoding="utf-8")
    with pytest.raises(KocrTemplateError, match="circle"):
        load_template(path)


def test_old_templates_load_and_match_unchanged():
    t = template({"brn": {"anchors": ["등록번호"], "pattern": r"\d{3}-?\d{2}-?\d{5}", "type": "biz_reg_no"}})
    spec = t.fields["brn"]
    assert spec.anchor_tiers == [["등록번호"]] and spec.anchor_order == "score" and spec.fallback == []
    assert read(lines((["등록번호"], [VALID_BRN])), t).fields["brn"].value == VALID_BRN


# ------------------------------------------------------------------------------------ key–value pairs
def _pairs(page, **cfg):
    page = page.model_copy(update={"blocks": cluster_page(page)})
    return [(kv.key, kv.value, kv.layout) for kv in read_page(page, [], MatcherConfig(key_values=KeyValueConfig(**cfg))).key_values]


def test_key_values_inline_right_below_and_table():
    items = row(["성명:홍길동"], 40, 40) + row(["Date:", "03/05/2021"], 400, 40)
    items += row(["주소"], 40, 100) + row(["서울시", "종로구", "1"], 300, 100)
    items += row(["전화번호"], 40, 160) + row(["02-123-4567"], 40, 160 + int(H * 1.3))
    y = 260
    items += row(["품명"], 40, y) + row(["수량"], 300, y) + row(["금액"], 500, y)
    items += row(["라면"], 40, y + 40) + row(["2"], 300, y + 40) + row(["3,000"], 500, y + 40)
    page = page_of(items, width=700, height=500)
    got = _pairs(page)
    assert ("성명", "홍길동", "inline") in got and ("Date", "03/05/2021", "inline") in got
    assert ("주소", "서울시 종로구 1", "right") in got
    assert ("전화번호", "02-123-4567", "below") in got
    assert {("품명", "라면", "table"), ("수량", "2", "table"), ("금액", "3,000", "table")} <= set(got)


def test_key_values_do_not_pair_prose_or_times():
    items = row(["오늘은", "날씨가", "정말", "좋아서", "산책을", "했습니다."], 40, 40) + row(["영업시간", "09:30"], 40, 100)
    got = _pairs(page_of(items))
    assert all(k != "09" for k, _, _ in got) and not any(k.startswith("오늘은") for k, _, _ in got)
    assert _pairs(page_of(items), enabled=False) == []


def test_a_blank_field_is_a_key_without_a_value_and_round_trips():
    page = page_of(row(["성명:"], 40, 40) + row(["주소:"], 40, 100))
    page = page.model_copy(update={"blocks": cluster_page(page)})
    found = read_page(page, [])
    assert [(kv.key, kv.value) for kv in found.key_values] == [("성명", None), ("주소", None)]
    doc = Document(kocr_version="0", pages=[page.model_copy(update={"key_values": found.key_values})])
    assert Document.model_validate_json(doc.model_dump_json()) == doc
    assert Page.model_validate({"width": 1, "height": 1}).key_values == []  # older JSON has none
