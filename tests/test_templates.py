import pytest
from click.testing import CliRunner

from kocr_sdk import Engine, KocrConfigError, KocrTemplateError
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
        (GOOD + "colour: red\n", r"t.yaml:10: colour: Extra inputs are not permitted"),
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


def test_engine_forced_template_by_id_and_path(tmp_path):
    e = Engine(load_entrypoints=False, template="kr_receipt")
    assert [t.id for t in e.templates] == ["kr_receipt"]
    e = Engine(load_entrypoints=False, template=str(write(tmp_path, GOOD)))
    assert [t.id for t in e.templates] == ["test-form"]
    with pytest.raises(KocrConfigError, match="no template with id"):
        _ = Engine(load_entrypoints=False, template="nope").templates


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
