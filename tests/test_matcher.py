"""Template matching on hand-built pages: anchors, position rules, patterns, types, scores."""

from __future__ import annotations

import pytest

from kocr_sdk import Engine, KocrConfigError
from kocr_sdk.document import Document, Entity, Page
from kocr_sdk.layout import cluster_page
from kocr_sdk.templates import Template, discover_templates
from kocr_sdk.templates.matcher import FuzzyTemplateMatcher, MatcherConfig, match_templates, score_templates
from tests.builders import H, page_of, row, skewed, turned

VALID_BRN, BAD_BRN = "124-81-00998", "124-81-00997"


def template(fields, keywords=({"text": "견적서", "required": True, "weight": 2},), min_score=0.5, tid="test"):
    return Template.model_validate({"id": tid, "name": tid, "match": {"keywords": list(keywords), "min_score": min_score},
                                    "fields": fields})


def match(page, templates, **cfg):
    return match_templates(page, templates if isinstance(templates, list) else [templates], MatcherConfig(**cfg))


def form(rows, title="견 적 서", **kw):
    """A page with a letter-spaced title and ``rows`` of (label words, value words, value x or None)."""
    items = row(title.split(), 400, 40, gap=14)
    y = 120
    for label, value, value_x in rows:
        items += row(label, 80, y)
        if value:
            x = value_x if value_x is not None else items[-1][1][2] + 10
            items += row(value, x, y)
        y += int(H * 2.2)
    return page_of(items, **kw)


BRN_FIELD = {"anchors": ["등록번호"], "pattern": r"\d{3}-?\d{2}-?\d{5}", "type": "biz_reg_no", "required": True}


# ------------------------------------------------------------------------------------ anchors
def test_value_right_of_label_in_a_far_column():
    page = form([(["등록번호", ":"], [VALID_BRN], 500), (["상호"], ["(주)한빛", "테크"], 500)])
    m = match(page, template({"brn": BRN_FIELD, "name": {"anchors": ["상호"]}}))
    assert m.template_id == "test"
    assert m.fields["brn"].value == VALID_BRN and m.fields["brn"].normalized == "1248100998"
    assert m.fields["brn"].valid is True and not m.fields["brn"].needs_review
    assert m.fields["name"].value == "(주)한빛 테크" and m.fields["name"].anchor == "상호"
    by_id = {w.id: w.text for w in page.words}
    assert [by_id[i] for i in m.fields["name"].word_ids] == ["(주)한빛", "테크"]
    x0, y0, _x1, y1 = (min(p[0] for p in m.fields["name"].quad), min(p[1] for p in m.fields["name"].quad),
                      max(p[0] for p in m.fields["name"].quad), max(p[1] for p in m.fields["name"].quad))
    assert x0 == 500 and y1 - y0 == H


@pytest.mark.parametrize("label", [["등륵번호"], ["등록번흐"], ["등록", "번호"], ["등", "록", "번", "호"], ["등록번호:"]])
def test_anchor_found_despite_ocr_typos_and_splits(label):
    page = form([(label, [VALID_BRN], 500)])
    assert match(page, template({"brn": BRN_FIELD})).fields["brn"].value == VALID_BRN


def test_letter_spaced_label_far_apart_still_anchors():
    items = row(["견적서"], 400, 40) + row(["합"], 60, 120) + row(["계"], 60 + 14 + H * 3, 120)
    items += row(["12,000원"], 600, 120)
    page = page_of(items)
    m = match(page, template({"total": {"anchors": ["합계"], "type": "amount"}}))
    assert m.fields["total"].value == "12,000원"
    assert m.fields["total"].normalized == {"value": 12000, "currency": "KRW"}


def test_amount_cut_at_its_commas_reads_as_one_value():
    page = form([(["합계"], ["12,", "562,", "804원"], 500)])
    m = match(page, template({"total": {"anchors": ["합계"], "type": "amount"}}))
    assert m.fields["total"].value == "12,562,804원"
    assert m.fields["total"].normalized == {"value": 12562804, "currency": "KRW"}


def test_unrelated_label_is_not_an_anchor():
    page = form([(["발급번호"], ["A-123"], 500)])
    m = match(page, template({"brn": BRN_FIELD}))
    assert m.fields["brn"].value is None and m.fields["brn"].needs_review  # required and missing


def test_label_at_line_start_wins_over_the_same_word_inside_a_longer_label():
    page = form([(["Due", "date:"], ["2021-04-30"], 500), (["Date:"], ["2021-03-05"], 500)], title="INVOICE")
    t = template({"date": {"anchors": ["Date"], "type": "date"}}, keywords=[{"text": "INVOICE", "required": True}])
    m = match(page, t)
    assert m.fields["date"].value == "2021-03-05" and m.fields["date"].normalized == "2021-03-05"


@pytest.mark.parametrize("words, value", [
    (["2021", ".09.", "26", "13:16"], "2021.09.26 13:16"),  # a detector's pieces, spaces between them
    (["2025.07.18(", "금", ")", "09:12"], "2025.07.18(금) 09:12"),
    (["(2033.6.23"], "2033.6.23"), (["14.12.22", "14:41."], "14.12.22 14:41"),  # the word's other characters
    (["2022.", "11.", "18."], "2022. 11. 18."),  # printed with a space after every dot: kept
    (["10", "MAR", "2018"], "10 MAR 2018"),
])
def test_a_date_value_is_the_date_as_printed(words, value):
    page = form([(["Date:"], words, 500)], title="INVOICE")
    t = template({"date": {"anchors": ["Date"], "type": "date"}}, keywords=[{"text": "INVOICE", "required": True}])
    f = match(page, t).fields["date"]
    assert f.value == value and f.normalized is not None
    assert len(f.word_ids) == len(words)


def test_longer_label_on_a_tie_so_its_last_word_is_not_the_value():
    page = form([(["Total", "Due"], ["$12.50"], 500)], title="INVOICE")
    t = template({"total": {"anchors": ["Total", "Total Due"], "type": "amount"}},
                 keywords=[{"text": "INVOICE", "required": True}])
    assert match(page, t).fields["total"].normalized == {"value": 12.5, "currency": "USD"}


def test_value_stops_at_the_next_fields_label_on_the_same_line():
    page = form([(["상호", "(주)한빛", "대표자", "홍길동"], [], None)])
    m = match(page, template({"name": {"anchors": ["상호"]}, "ceo": {"anchors": ["대표자"]}}))
    assert m.fields["name"].value == "(주)한빛" and m.fields["ceo"].value == "홍길동"


# ------------------------------------------------------------------------------------ positions
def test_below_position():
    items = row(["견적서"], 400, 40) + row(["사업장", "소재지"], 80, 120) + row(["서울시", "중구", "세종대로", "110"], 90, 120 + H + 6)
    items += row(["다른", "내용"], 80, 300)
    m = match(page_of(items), template({"addr": {"anchors": ["사업장소재지"], "position": "below"}}))
    assert m.fields["addr"].value == "서울시 중구 세종대로 110"


def test_same_cluster_position_reads_on_into_the_block():
    items = row(["견적서"], 400, 40) + row(["비고:", "납기는"], 80, 120) + row(["계약", "후", "30일"], 80, 120 + int(H * 1.3))
    items += row(["대표자", "홍길동"], 80, 300)
    m = match(page_of(items), template({"note": {"anchors": ["비고"], "position": "same_cluster"}}))
    assert m.fields["note"].value == "납기는 계약 후 30일"


def test_same_cluster_stops_at_the_next_key_value_row():
    items = row(["견적서"], 400, 40) + row(["비고:", "납기", "엄수"], 80, 120)
    items += row(["발급일"], 80, 120 + int(H * 1.3)) + row(["2021.03.05"], 500, 120 + int(H * 1.3))
    page = page_of(items)
    assert len(cluster_page(page)[1].lines) == 2  # the remark and the next row's label are one block
    m = match(page, template({"note": {"anchors": ["비고"], "position": "same_cluster"}}))
    assert m.fields["note"].value == "납기 엄수"


def test_region_position_uses_page_relative_coordinates_of_the_upright_page():
    items = row(["견적서"], 400, 40) + row(["No.", "2021-0042"], 800, 60) + row(["본문", "내용"], 80, 500)
    page = page_of(items)
    t = template({"doc_no": {"position": "region", "region": [0.7, 0.0, 1.0, 0.15]}})
    assert match(page, t).fields["doc_no"].value == "No. 2021-0042"
    rotated = turned(page, 90)
    assert match(rotated, t).fields["doc_no"].value == "No. 2021-0042"
    # a skewed scan is no wider a page: the region stays a fraction of the paper
    narrow = template({"doc_no": {"position": "region", "region": [0.82, 0.0, 1.0, 0.15]}})
    assert match(page, narrow).fields["doc_no"].value == "No. 2021-0042"
    assert match(skewed(page, 2.0), narrow).fields["doc_no"].value == "No. 2021-0042"


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_rotated_page_matches_like_upright(angle):
    page = form([(["등록번호", ":"], [VALID_BRN], 500), (["상호"], ["(주)한빛", "테크"], 500)])
    t = template({"brn": BRN_FIELD, "name": {"anchors": ["상호"]}})
    m = match(turned(page, angle), t)
    assert m.fields["brn"].value == VALID_BRN and m.fields["name"].value == "(주)한빛 테크"


def test_uses_the_blocks_a_clusterer_already_wrote():
    page = form([(["상호"], ["(주)한빛", "테크"], 500)])
    blocks = cluster_page(page)
    clustered = page.model_copy(update={"blocks": blocks})
    t = template({"name": {"anchors": ["상호"]}})
    assert match(clustered, t).fields["name"].value == match(page, t).fields["name"].value == "(주)한빛 테크"


# ------------------------------------------------------------------------------------ patterns, types, confidence
def test_pattern_cuts_the_value_and_a_miss_is_flagged():
    page = form([(["등록번호"], [VALID_BRN, "(법인)"], 500)])
    f = match(page, template({"brn": BRN_FIELD})).fields["brn"]
    assert f.value == VALID_BRN and len(f.word_ids) == 1
    page = form([(["등록번호"], ["미등록"], 500)])
    f = match(page, template({"brn": BRN_FIELD})).fields["brn"]
    assert f.value == "미등록" and f.needs_review and f.confidence <= 0.5


def test_a_pattern_value_split_into_pieces_is_read_whole():
    # Detectors split digit strings ("585-74- 67065"); a pattern without spaces reads them as one.
    page = form([(["등록번호"], ["124-81-", "00998", "(법인)"], 500)])
    f = match(page, template({"brn": BRN_FIELD})).fields["brn"]
    assert f.value == VALID_BRN and f.valid is True and not f.needs_review
    by_id = {w.id: w.text for w in page.words}
    assert [by_id[i] for i in f.word_ids] == ["124-81-", "00998"]


def test_invalid_check_digit_is_flagged_and_lowers_confidence():
    good = match(form([(["등록번호"], [VALID_BRN], 500)]), template({"brn": BRN_FIELD})).fields["brn"]
    bad = match(form([(["등록번호"], [BAD_BRN], 500)]), template({"brn": BRN_FIELD})).fields["brn"]
    assert bad.value == BAD_BRN and bad.valid is False and bad.needs_review
    assert bad.confidence == pytest.approx(good.confidence * 0.5)


def test_confidence_multiplies_ocr_and_anchor_scores_and_review_threshold_is_configurable():
    page = form([(["등륵번호"], [VALID_BRN], 500)])
    words = [w.model_copy(update={"text_confidence": 0.9 if w.text == VALID_BRN else None}) for w in page.words]
    page = page.model_copy(update={"words": words})
    f = match(page, template({"brn": BRN_FIELD})).fields["brn"]
    assert 0.5 < f.confidence < 0.9  # 0.9 (OCR) × anchor score of the typo (< 100)
    assert f.needs_review is (f.confidence < 0.8)
    assert match(page, template({"brn": BRN_FIELD}), review_threshold=0.5).fields["brn"].needs_review is False


def test_entity_label_disagreement_lowers_confidence():
    page = form([(["상호"], ["홍길동"], 500)])
    value_id = page.words[-1].id
    t = template({"name": {"anchors": ["상호"], "entity": "ORG"}})
    as_person = page.model_copy(update={"entities": [Entity(id="e0", label="PERSON", text="홍길동", word_ids=[value_id])]})
    as_org = page.model_copy(update={"entities": [Entity(id="e0", label="ORG", text="홍길동", word_ids=[value_id])]})
    assert match(as_org, t).fields["name"].confidence == 1.0
    assert match(as_person, t).fields["name"].confidence == pytest.approx(0.85)


# ------------------------------------------------------------------------------------ choosing a template
def test_best_template_wins_and_scores_are_reported():
    page = form([(["등록번호"], [VALID_BRN], 500), (["공급가액"], ["100,000"], 500)], title="세 금 계 산 서")
    invoice = template({"brn": BRN_FIELD, "supply": {"anchors": ["공급가액"], "type": "amount", "required": True}},
                       keywords=[{"text": "세금계산서", "required": True, "weight": 3}, {"text": "공급가액"}], tid="tax")
    quote = template({"brn": BRN_FIELD}, tid="quote")
    m = match(page, [quote, invoice])
    assert m.template_id == "tax" and m.score == 1.0 and set(m.scores) == {"tax", "quote"}
    assert m.fields["supply"].normalized == {"value": 100000, "currency": None}


def test_no_template_when_required_keyword_missing_or_coverage_too_low():
    page = form([(["등록번호"], [VALID_BRN], 500)], title="영 수 증")
    assert match(page, template({"brn": BRN_FIELD})) is None  # 견적서 is required
    t = template({"brn": BRN_FIELD}, keywords=[{"text": "견적서", "weight": 1}, {"text": "등록번호", "weight": 1},
                                               {"text": "공급가액", "weight": 2}], min_score=0.6)
    scored = score_templates(page, [t])
    assert not scored[0].passed and "coverage 0.25" in scored[0].reason
    assert match(page, t) is None


def test_empty_page_or_no_templates_match_nothing():
    assert match(Page(width=10, height=10), template({"brn": BRN_FIELD})) is None
    assert match(form([]), []) is None


def test_template_match_round_trips_through_json():
    page = form([(["등록번호"], [VALID_BRN], 500), (["상호"], ["(주)한빛"], 500)])
    m = match(page, template({"brn": BRN_FIELD, "name": {"anchors": ["상호"]}}))
    doc = Document(kocr_version="0", pages=[page.model_copy(update={"template_match": m})])
    assert Document.model_validate_json(doc.model_dump_json()) == doc


def test_matcher_options_are_validated():
    assert FuzzyTemplateMatcher(review_threshold=0.5).config.review_threshold == 0.5
    with pytest.raises(KocrConfigError, match="review_threshold"):
        FuzzyTemplateMatcher(review_threshold=2)


# ------------------------------------------------------------------------------------ shipped templates and the engine
SHIPPED_FIELDS = {
    "kr_business_registration": {"biz_reg_no", "company_name", "representative", "open_date", "address"},
    "kr_receipt": {"store", "date", "total", "biz_reg_no", "card_approval_no", "items"},
    "receipt_en": {"company", "date", "address", "total"},
    "invoice_en": {"invoice_no", "date", "total"},
    "kr_tax_invoice": {"supplier_biz_reg_no", "date", "supply_amount", "tax_amount", "total"},
}


def test_shipped_templates_keep_their_field_names():
    from kocr_sdk.default_plugins.templates import shipped_templates_dir

    found = {t.id: set(t.fields) for t in discover_templates([shipped_templates_dir()])}
    assert found == SHIPPED_FIELDS


class _Texts:
    """A detector and a reader that 'find' a fixed page: its boxes, and each box's text, told by
    the grey level that :meth:`image` paints the box in (a reader sees crops in any order)."""

    def __init__(self, items):
        from kocr_sdk import DetectedWord, Detection, Reading, Recognizer, TextDetector, hookimpl
        from kocr_sdk.geometry import quad_from_box

        class Boxes(TextDetector):
            name = "boxes"

            def detect(self, image):
                return Detection(words=[DetectedWord(quad=quad_from_box(b)) for _, b in items])

        class Reader(Recognizer):
            name = "reader"
            scripts = ("hangul",)

            def recognize(self, crops):
                return [Reading(text=items[_Texts.index_of(c)][0], confidence=0.95) for c in crops]

        class Plugin:
            @staticmethod
            @hookimpl
            def register_detectors(register):
                register(Boxes)

            @staticmethod
            @hookimpl
            def register_recognizers(register):
                register(Reader)

        self.plugin = Plugin
        self.items = items

    @staticmethod
    def index_of(crop):
        return (250 - int(crop[crop.shape[0] // 2, crop.shape[1] // 2, 0])) // 4

    def image(self, size=(1000, 1000)):
        import numpy as np

        image = np.full((*size, 3), 255, np.uint8)
        for i, (_, (x0, y0, x1, y1)) in enumerate(self.items):
            image[int(y0):int(y1), int(x0):int(x1)] = 250 - 4 * i
        return image


def test_engine_clusters_and_matches_with_the_default_stages(tmp_path):
    page = form([(["등록번호", ":"], [VALID_BRN], 500), (["상호"], ["(주)한빛", "테크"], 500)])
    items = [(w.text, w.box) for w in page.words]
    path = tmp_path / "t.yaml"
    path.write_text(
        "id: test\nname: t\nmatch:\n  keywords:\n    - {text: 견적서, required: true}\n"
        "fields:\n  brn: {anchors: [등록번호], type: biz_reg_no, required: true}\n  name: {anchors: [상호]}\n"
    )
    texts = _Texts(items)
    engine = Engine(plugins=[texts.plugin], load_entrypoints=False, template=str(path), batch_size=1000,
                    detector="boxes", recognizers={"hangul": "reader"})
    result = engine.read(texts.image()).pages[0]
    stages = {r.stage: r.implementation for r in result.stages}
    assert stages["clusterer"] == "dbscan" and stages["template_matcher"] == "fuzzy"
    m = result.template_match
    assert m.template_id == "test" and m.fields["brn"].normalized == "1248100998"
    assert m.fields["name"].value == "(주)한빛 테크" and m.fields["name"].confidence == pytest.approx(0.95)
    assert result.text.splitlines()[0] == "견 적 서"


# ------------------------------------------------------------------------------ hostile patterns
def test_a_catastrophic_pattern_cannot_hang_a_match():
    """``((.+)+)+!`` takes exponential time in a backtracking engine; template patterns run on RE2."""
    import threading

    long_value = ["a" * 40] * 6
    page = form([(["등록번호"], long_value, 500)])
    evil = template({"brn": {"anchors": ["등록번호"], "pattern": "((.+)+)+!"}})
    result: list = []
    worker = threading.Thread(target=lambda: result.append(match(page, evil)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "matching a nested-quantifier pattern did not finish"
    field = result[0].fields["brn"]
    assert field.value is not None and field.needs_review  # the value misses its pattern: flagged, not dropped


@pytest.mark.parametrize("pattern, says", [(r"(?<!\d)\d{4}", "look-around"), (r"(\d)\1", "back-references")])
def test_patterns_re2_cannot_run_are_refused_when_loaded(pattern, says):
    with pytest.raises(ValueError, match=says):
        template({"brn": {"anchors": ["등록번호"], "pattern": pattern}})
