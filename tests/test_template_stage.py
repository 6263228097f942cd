"""The template stage in the engine: its record says which template fit or why none did, and
every page gets its key–value pairs whatever the template."""

from __future__ import annotations

from kocr_sdk import Engine
from tests.test_matcher import VALID_BRN, _Texts, form


def test_the_stage_record_names_the_template_or_why_none_fits_and_pairs_are_kept(tmp_path):
    page = form([(["등록번호", ":"], [VALID_BRN], 500), (["상호"], ["(주)한빛", "테크"], 500)])
    texts = _Texts([(w.text, w.box) for w in page.words])
    fits = tmp_path / "t.yaml"
    fits.write_text("id: test\nname: t\nmatch:\n  keywords:\n    - {text: 견적서, required: true}\n"
                    "fields:\n  brn: {anchors: [등록번호], type: biz_reg_no, required: true}\n", encoding="utf-8")
    other = tmp_path / "other.yaml"
    other.write_text("id: other\nname: o\nmatch:\n  keywords:\n    - {text: 세금계산서, required: true}\n"
                     "fields:\n  brn: {anchors: [등록번호]}\n", encoding="utf-8")
    results = {}
    for path in (fits, other):
        engine = Engine(plugins=[texts.plugin], load_entrypoints=False, template=str(path), batch_size=1000,
                        detector="boxes", recognizers={"hangul": "reader"})
        results[path.stem] = engine.read(texts.image()).pages[0]
    record = {p: next(r for r in page.stages if r.stage == "template_matcher") for p, page in results.items()}
    assert results["t"].template_match.template_id == "test" and record["t"].message.startswith("test (score")
    assert results["other"].template_match is None
    assert record["other"].message == "no template fits: other 0.40: required keyword(s) or cue(s) not found: 세금계산서"
    for page in results.values():  # pairs whatever the template
        assert ("상호", "(주)한빛 테크") in {(kv.key, kv.value) for kv in page.key_values}
