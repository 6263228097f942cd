"""Receipts laid out as real ones are (the receipt generator), read by the shipped templates."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from kocr_sdk.lab.eval.oracle import page_from_record
from kocr_sdk.lab.synth.forms import FormGenerator
from kocr_sdk.lab.synth.receipts import ReceiptGenerator
from kocr_sdk.layout import cluster_page
from kocr_sdk.templates.matcher import score_templates
from kocr_sdk.templates.normalize import normalize


@pytest.fixture(scope="module")
def receipts():
    return ReceiptGenerator(split="heldout", seed=7)


@pytest.fixture(scope="module")
def templates():
    return FormGenerator(split="heldout", seed=7).templates


def oracle(record):
    page = page_from_record(record)
    return page.model_copy(update={"blocks": cluster_page(page)})


def test_a_receipt_is_a_pure_function_of_its_seed(receipts):
    a_img, a = receipts.sample(3)
    b_img, b = ReceiptGenerator(split="heldout", seed=7).sample(3)
    assert a == b and np.array_equal(a_img, b_img)
    assert receipts.sample(4)[1]["fields"] != a["fields"]


def test_the_truth_is_what_was_printed(receipts):
    for i in range(4):
        _, record = receipts.sample(i)
        assert record["template"] == ("kr_receipt" if i % 2 == 0 else "receipt_en")
        text = " ".join(w["text"] for w in record["words"])
        for name, value in record["fields"].items():
            assert value in text, (name, value)
        assert normalize("date", record["fields"]["date"], day_first=i % 2 == 1).valid
        if i % 2 == 0:
            assert record["items"] and all(item["name"] in text for item in record["items"])


@pytest.mark.parametrize("index", range(6))
def test_shipped_receipt_templates_read_every_field_of_a_receipt_they_never_saw(receipts, templates, index):
    _, record = receipts.sample(index)
    scored = score_templates(oracle(record), templates)
    best = scored[0]
    assert best.passed and best.template.id == record["template"], [(s.template.id, s.score, s.reason) for s in scored]
    assert not any(s.passed for s in scored[1:]), "another template also passed its match rules"
    assert {n: best.fields[n].value for n in record["fields"]} == record["fields"]
    for item, row in zip(record.get("items", []), best.fields["items"].normalized if "items" in best.fields else []):
        assert row["name"] == item["name"] and row["quantity"] == int(item["quantity"])


def test_form_generator_records_the_label_value_pairs():
    gen = FormGenerator(split="heldout", seed=3)
    _, record = gen.sample(1)
    assert record["pairs"] and all(len(p) == 2 and p[0] and p[1] for p in record["pairs"])
    assert {v for _, v in record["pairs"]} >= set(record["fields"].values())


def test_kocr_synth_receipts_writes_an_evaluation_set(tmp_path):
    from kocr_sdk.lab.cli.synth import synth

    out = tmp_path / "receipts"
    result = CliRunner().invoke(synth, ["receipts", "--n", "2", "--split", "heldout", "--seed", "1",
                                        "--out", str(out), "--set", "lang=en", "-q"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (out / "gt.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["template"] for r in records] == ["receipt_en", "receipt_en"] and (out / "00001.png").exists()
    bad = CliRunner().invoke(synth, ["receipts", "--n", "1", "--out", str(out), "--set", "lang=fr"])
    assert bad.exit_code != 0 and "lang must be ko, en or mixed" in bad.output
