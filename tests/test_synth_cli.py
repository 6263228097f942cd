import json

from click.testing import CliRunner

from kocr_sdk.cli.main import cli


def _run(*args):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_same_seed_gives_byte_identical_files(tmp_path):
    for kind in ("pages", "lines", "forms"):
        a, b = tmp_path / f"{kind}-a", tmp_path / f"{kind}-b"
        _run("synth", kind, "--n", "2", "--seed", "1", "--out", str(a), "-q")
        _run("synth", kind, "--n", "2", "--seed", "1", "--out", str(b), "-q")
        names = sorted(p.name for p in a.iterdir())
        assert names == sorted(p.name for p in b.iterdir()) and "gt.jsonl" in names
        for name in names:
            assert (a / name).read_bytes() == (b / name).read_bytes(), (kind, name)


def test_forms_carry_their_field_values(tmp_path):
    _run("synth", "forms", "--n", "4", "--seed", "2", "--out", str(tmp_path), "-q", "--split", "heldout")
    records = [json.loads(line) for line in (tmp_path / "gt.jsonl").read_text().splitlines()]
    assert {r["template"] for r in records} == {"invoice_en", "kr_business_registration", "kr_receipt", "kr_tax_invoice"}
    for r in records:
        words = " ".join(w["text"] for w in r["words"])
        assert r["fields"] and all(v.split()[0] in words for v in r["fields"].values())


def test_set_passes_generator_options(tmp_path):
    _run("synth", "pages", "--n", "1", "--out", str(tmp_path), "-q", "--set", "layouts=[receipt]", "--set", "rotate=false")
    record = json.loads((tmp_path / "gt.jsonl").read_text())
    assert record["layout"] == "receipt" and record["orientation"] == 0


def test_set_with_a_bad_option_is_a_clear_error(tmp_path):
    for bad in ("fax_prob=2", "no_such_option=1", "fax_prob"):
        result = CliRunner().invoke(cli, ["synth", "pages", "--n", "1", "--out", str(tmp_path), "--set", bad])
        assert result.exit_code == 2 and "--set" in result.output and "Traceback" not in result.output, result.output
