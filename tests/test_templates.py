import pytest
from click.testing import CliRunner

from kocr_sdk import EntityRecognizer, Engine, KocrConfigError, KocrTemplateError, hookimpl
from kocr_sdk.cli.main import cli
from kocr_sdk.templates import discover_templates, load_template

GOOD = """\
id: test-form
name: Test
match:
  keywords:
    - {text: 견적서, required: true}
fields:
  total:
    anchors: [합계]
    type: amount
"""


def write(tmp_path, text, name="t.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_good_template_loads(tmp_path):
    t = load_template(write(tmp_path, GOOD))
    assert t.id == "test-form" and t.fields["total"].type == "amount" and t.match.keywords[0].required


@pytest.mark.parametrize(
    "text, expected",
    [
        (GOOD.replace("type: amount", "type: money"), r"t.yaml:9: fields.total.type: Input should be"),
        (GOOD.replace("    anchors: [합계]\n", "    pattern: '([0-9'\n"), r"t.yaml:8: fields.total.pattern: Value error, not a valid template pattern"),
        (GOOD.replace("    anchors: [합계]\n", ""), r"t.yaml:8: fields.total: Value error, position 'right' needs at least one anchor"),
        (GOOD.replace("id: test-form", "id: Test Form"), r"t.yaml:1: id: String should match pattern"),
        (GOOD + "colour: red\n", r"t.yaml:10: colour: unknown key \(keys here: id, name, version, languages, match"),
        (GOOD.replace("    anchors: [합계]", "    anchor: [합계]"),
         r"t.yaml:8: fields.total.anchor: unknown key; did you mean 'anchors'\?"),
        (GOOD.replace("required: true}", "required: true, wieght: 2}"),
         r"t.yaml:5: match.keywords.0.wieght: unknown key; did you mean 'weight'\?"),
        (GOOD.replace("    type: amount", "    type: amount\n    entity: PERSN"),
         r"t.yaml:10: fields.total.entity: Value error, 'PERSN' is not an entity label \(did you mean 'PERSON'\?"),
        (GOOD.replace("name: Test", "name: Test\nlanguages: [ko, korean]"),
         r"t.yaml:3: languages.1: Value error, 'korean' is not a language code kocr knows \(did you mean 'ko'\? "
         r"use ISO 639-1: ko \(Korean\), en \(English\)"),
        ("id: [unclosed\n", r"t.yaml:2: not valid YAML"),
        ("- a\n- b\n", r"a template must be a YAML mapping"),
        (GOOD.replace("{text: 견적서, required: true}", "{text: [], required: true}"),
         r"t.yaml:5: match.keywords.0.text: Value error, a keyword needs a non-empty phrase"),
        (GOOD.replace("{text: 견적서, required: true}", "{text: 견적서, threshold: 120}"),
         r"t.yaml:5: match.keywords.0.threshold: Input should be less than or equal to 100"),
        (GOOD.replace("    type: amount", "    type: amount\n    anchor_threshold: -1"),
         r"t.yaml:10: fields.total.anchor_threshold: Input should be greater than or equal to 0"),
    ],
)
def test_malformed_templates_name_file_line_and_field(tmp_path, text, expected):
    with pytest.raises(KocrTemplateError, match=expected):
        load_template(write(tmp_path, text))


def test_keyword_alternatives_and_partial_keywords_load(tmp_path):
    t = load_template(write(tmp_path, GOOD.replace("{text: 견적서, required: true}",
                                                   "{text: [견적서, 견 적 서], required: true, partial: true}")))
    assert t.match.keywords[0].phrases == ["견적서", "견 적 서"] and t.match.keywords[0].partial


def test_region_position_needs_a_valid_region(tmp_path):
    text = GOOD.replace("    anchors: [합계]\n", "    position: region\n    region: [0.5, 0.1, 0.2, 0.3]\n")
    with pytest.raises(KocrTemplateError, match="region must satisfy"):
        load_template(write(tmp_path, text))


def test_duplicate_ids_are_refused(tmp_path):
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(KocrTemplateError, match="already defined"):
        discover_templates([tmp_path])


def test_cli_validate_reports_errors(tmp_path):
    p = write(tmp_path, GOOD.replace("type: amount", "type: money"))
    result = CliRunner().invoke(cli, ["templates", "validate", str(p)])
    assert result.exit_code == 1 and "fields.total.type" in result.stderr


def test_cli_validate_refuses_unknown_entity_labels_and_languages(tmp_path):
    p = write(tmp_path, GOOD.replace("name: Test", "name: Test\nlanguages: [korean]").replace(
        "    type: amount", "    type: amount\n    entity: PERSN"))
    result = CliRunner().invoke(cli, ["templates", "validate", str(p)])
    assert result.exit_code == 1
    assert "t.yaml:3: languages.0: Value error, 'korean'" in result.stderr
    assert "t.yaml:11: fields.total.entity: Value error, 'PERSN' is not an entity label" in result.stderr


class _ProductNer:
    """A plugin whose entity recogniser declares a label kocr's own vocabulary lacks."""

    @staticmethod
    @hookimpl
    def register_entity_recognizers(register):
        class ProductNer(EntityRecognizer):
            name = "product-ner"
            entity_labels = ("PRODUCT",)

            def recognize(self, page):
                return []

        register(ProductNer)


def test_labels_an_installed_entity_recognizer_declares_may_be_named(tmp_path):
    p = write(tmp_path, GOOD.replace("    type: amount", "    type: amount\n    entity: PRODUCT"))
    with pytest.raises(KocrTemplateError, match="'PRODUCT' is not an entity label"):
        load_template(p)
    with pytest.raises(KocrTemplateError, match="'PRODUCT' is not an entity label"):
        Engine(load_entrypoints=False, template=str(p))
    engine = Engine(plugins=[_ProductNer], load_entrypoints=False, template=str(p))
    assert engine.templates[0].fields["total"].entity == "PRODUCT"
    # a label the config's label_map renames a wrapped model's labels to counts as given too
    engine = Engine(load_entrypoints=False, template=str(p), entity_recognizer="spacy",
                    options={"spacy": {"pipeline": _blank_pipeline(), "label_map": {"PRD": "PRODUCT"}}})
    assert engine.templates[0].fields["total"].entity == "PRODUCT"


def _blank_pipeline():
    spacy = pytest.importorskip("spacy")
    return spacy.blank("xx")


def test_a_broken_or_unknown_forced_template_fails_when_the_engine_is_built(tmp_path, monkeypatch):
    """Before any page is read: not after a page's OCR has run."""
    bad = write(tmp_path, GOOD.replace("type: amount", "type: money"), "bad.yaml")
    with pytest.raises(KocrTemplateError, match="bad.yaml:9: fields.total.type"):
        Engine(load_entrypoints=False, template=str(bad))
    with pytest.raises(KocrConfigError, match="no template with id 'nope'"):
        Engine(load_entrypoints=False, template="nope")

    def no_reading(*args, **kwargs):
        raise AssertionError("a page was read")

    monkeypatch.setattr(Engine, "read_page", no_reading)
    page = tmp_path / "page.png"
    from PIL import Image

    Image.new("RGB", (64, 32), "white").save(page)
    for template in (str(bad), "nope"):
        result = CliRunner().invoke(cli, ["read", str(page), "--template", template, "-q"])
        assert result.exit_code == 1 and "a page was read" not in str(result.exception or "")
        assert ("bad.yaml:9" if template != "nope" else "no template with id 'nope'") in result.stderr


def test_engine_forced_template_by_id_and_path(tmp_path):
    e = Engine(load_entrypoints=False, template="kr_receipt")
    assert [t.id for t in e.templates] == ["kr_receipt"]
    e = Engine(load_entrypoints=False, template=str(write(tmp_path, GOOD)))
    assert [t.id for t in e.templates] == ["test-form"]
    with pytest.raises(KocrConfigError, match="no template with id"):
        Engine(load_entrypoints=False, template="nope")


def test_the_documented_example_template_is_valid_and_matches(tmp_path):
    import re
    from pathlib import Path

    from kocr_sdk.lab.eval.oracle import page_from_record
    from kocr_sdk.layout import cluster_page
    from kocr_sdk.lab.synth.forms import FormGenerator
    from kocr_sdk.templates.matcher import score_templates

    doc = (Path(__file__).parent.parent / "docs" / "templates.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(# 견적서.*?)```", doc, re.S).group(1)
    (tmp_path / "kr_quotation.yaml").write_text(example, encoding="utf-8")
    t = load_template(tmp_path / "kr_quotation.yaml")
    assert {f.position for f in t.fields.values()} == {"right", "below", "same_cluster", "region"}
    gen = FormGenerator(split="heldout", seed=5, template_dirs=[tmp_path])
    image, record = gen.sample(0)
    page = page_from_record(record)
    best = score_templates(page.model_copy(update={"blocks": cluster_page(page)}), gen.templates)[0]
    assert best.passed and best.template.id == "kr_quotation"
    assert {k: best.fields[k].value for k in record["fields"]} == record["fields"]
