"""End to end per shipped template: a filled form rendered by the generator, read by an oracle.

The generator prints each field's value next to one of its template's anchors, in one of several
styles (rows, ruled grid), with distractor rows, letter-spaced titles, skew and, for the rotated
case, a quarter turn; the receipt templates' forms are receipts as the receipt generator lays
them out (store name as the first lines, unlabelled dates, several totals). The page handed to the clusterer and matcher is built from the
ground-truth words ("oracle OCR"), so any failure here is clustering's or matching's.
"""

from __future__ import annotations

import pytest

from kocr_sdk.lab.eval.oracle import page_from_record
from kocr_sdk.layout import cluster_page
from kocr_sdk.lab.synth.forms import FormGenerator
from kocr_sdk.templates.matcher import score_templates

TEMPLATES = ("invoice_en", "kr_business_registration", "kr_receipt", "kr_tax_invoice", "receipt_en")


@pytest.fixture(scope="module")
def generator():
    return FormGenerator(split="heldout", seed=1234)


def read(record):
    page = page_from_record(record)
    return page.model_copy(update={"blocks": cluster_page(page)})


def check(record, templates):
    page = read(record)
    scored = score_templates(page, templates)
    best = scored[0]
    assert best.passed and best.template.id == record["template"], [(s.template.id, s.score, s.reason) for s in scored]
    assert not any(s.passed for s in scored[1:]), "another template also passed its match rules"
    got = {name: f.value for name, f in best.fields.items() if name in record["fields"]}
    assert got == record["fields"]
    return best


@pytest.mark.parametrize("index", range(len(TEMPLATES)))
def test_each_shipped_template_reads_its_filled_form(generator, index):
    image, record = generator.sample(index)
    assert record["template"] == TEMPLATES[index % len(TEMPLATES)]
    best = check(record, generator.templates)
    for name, field in best.fields.items():
        spec = best.template.fields[name]
        if field.value is not None and spec.type in ("biz_reg_no", "date", "amount"):
            assert field.valid is True and field.normalized is not None, (name, field)
            assert not field.needs_review


def test_turned_forms_read_the_same():
    gen = FormGenerator(split="heldout", seed=99, rotate=True, rotate_prob=1.0)
    for index in range(len(TEMPLATES)):
        image, record = gen.sample(index)
        assert record["orientation"] in (90, 180, 270)
        check(record, gen.templates)
