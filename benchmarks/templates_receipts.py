"""Templates on layouts kocr's form generator never draws: held-out receipts (and forms).

Renders ``--n`` receipts with ``ReceiptGenerator(split=--split, seed=--seed)`` (Korean POS and
card receipts, English receipts of the SROIE kind; held-out fonts, thermal-print degradations;
layouts without labels, several totals, item tables, card slips) and ``--forms`` filled forms per
non-receipt shipped template (``FormGenerator``), then reads each page:

- with **oracle OCR** (the ground-truth words: what matching alone gets right), always;
- with ``--engine`` also with the installed pipeline reading the image, and the per-field gap.

Per template: **fields exact** (of the ground truth's fields, the share whose value equals it
character for character, stripped), **normalised** (the share whose normalised value equals the
ground truth's, e.g. the same date read from ``2022-07-14 08:37``), **items** (Korean receipts:
rows whose name, quantity and price all equal the truth, over the truth's rows), **template
chosen** (the right template won), **wrong chosen** (another template won above its threshold)
and **wrong passed** (another template also passed its match rules, whether or not it won).
**Fuzzy anchors** is the share of anchored values whose label was read otherwise than any of
the field's anchor phrases (an OCR error the fuzzy match absorbed). ``--out`` writes the JSON;
``--cache DIR`` keeps each page the engine read (as Document JSON), so that matching can be
measured again after a template changes without reading the images again.

    python benchmarks/templates_receipts.py [--n 60] [--forms 20] [--seed 1] [--engine [--cache DIR]] [--out results.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

import numpy as np

from kocr_sdk.document import Page
from kocr_sdk.lab.eval.oracle import page_from_record
from kocr_sdk.lab.synth.forms import FormGenerator
from kocr_sdk.lab.synth.receipts import ReceiptGenerator
from kocr_sdk.layout import cluster_page
from kocr_sdk.templates.fuzzy import label_key
from kocr_sdk.templates.matcher import TemplateScore, score_templates
from kocr_sdk.templates.normalize import normalize

Reader = Callable[[Any, dict[str, Any]], Page]


def oracle(image: Any, record: dict[str, Any]) -> Page:
    page = page_from_record(record)
    return page.model_copy(update={"blocks": cluster_page(page)})


def engine_reader(config: Path | None, cache: Path | None, key: str) -> tuple[Reader, dict[str, str]]:
    from kocr_sdk import Engine

    engine = Engine(config)

    def read(image: Any, record: dict[str, Any]) -> Page:
        digest = hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()[:12]  # a changed page is read anew
        path = cache / f"{key}-{record['kind']}-{record['image']}-{digest}.json" if cache is not None else None
        if path is not None and path.exists():
            return Page.model_validate_json(path.read_text(encoding="utf-8"))
        page = engine.read(image).pages[0]
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(page.model_dump_json(), encoding="utf-8")
        return page
    return read, engine.describe()


def samples(args: argparse.Namespace) -> list[tuple[Any, dict[str, Any]]]:
    """The evaluation set: receipts, then forms of the shipped non-receipt templates."""
    out = []
    receipts = ReceiptGenerator(split=args.split, seed=args.seed)
    for i in range(args.n):
        image, record = receipts.sample(i)
        out.append((image, {**record, "kind": "receipt"}))
    if args.forms:
        forms = FormGenerator(split=args.split, seed=args.seed)
        others = [k for k, t in enumerate(forms.templates) if t.id not in ("kr_receipt", "receipt_en")]
        for i in range(args.forms):
            for k in others:
                image, record = forms.sample(i * len(forms.templates) + k)
                out.append((image, {**record, "kind": "form"}))
    return out


def _same_normalized(spec_type: str, got: Any, truth: str, day_first: bool | None) -> bool:
    return got is not None and normalize(spec_type, truth, day_first=day_first).value == got


def _item_hits(predicted: Any, truth: list[dict[str, str]]) -> int:
    """Truth rows matched, in order, by a predicted row with the same name, quantity and price."""
    rows = predicted if isinstance(predicted, list) else []
    hits = 0
    for t, p in zip(truth, rows):
        price = normalize("amount", t["price"]).value
        ok = (isinstance(p, dict) and str(p.get("name", "")).strip() == t["name"].strip()
              and (p.get("quantity") == int(t["quantity"]) if t.get("quantity") else True)
              and isinstance(price, dict) and p.get("price") == price["value"])
        hits += ok
    return hits


def score(pages: list[tuple[dict[str, Any], list[TemplateScore], str]], verbose: bool, label: str) -> dict[str, Any]:
    """Figures per template; ``pages`` holds (record, scored templates, the page's text)."""
    tallies: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    per_field: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for record, scored, text in pages:
        squeezed = re.sub(r"\s+", "", text)
        truth = record["template"]
        best = scored[0] if scored and scored[0].passed else None
        t = tallies[truth]
        t["pages"] += 1
        t["correct_template"] += best is not None and best.template.id == truth
        t["wrong_chosen"] += best is not None and best.template.id != truth
        t["wrong_passed"] += any(s.passed and s.template.id != truth for s in scored)
        right = best is not None and best.template.id == truth
        specs = best.template.fields if right else {}
        for name, value in record["fields"].items():
            got = best.fields[name] if right and name in best.fields else None
            hit = got is not None and got.value is not None and got.value.strip() == value.strip()
            spec = specs.get(name)
            norm_hit = hit or (got is not None and spec is not None
                               and _same_normalized(spec.type, got.normalized, value, spec.day_first))
            t["fields"] += 1
            t["fields_exact"] += hit
            t["fields_normalized"] += norm_hit
            per_field[truth][name][0] += hit
            per_field[truth][name][1] += 1
            per_field[truth][name][2] += re.sub(r"\s+", "", value) in squeezed  # the reader printed it exactly
            if got is not None and got.anchor and spec is not None:
                t["anchored"] += 1
                t["anchored_fuzzy"] += label_key(got.anchor) not in {label_key(p) for p in spec.anchor_phrases}
            if not hit and verbose:
                print(f"  [{label}] {record['image']} {truth:24s} {record.get('style', ''):40.40s} {name:16s} "
                      f"{value!r} → {got.value if got is not None else None!r}")
        if record.get("items"):
            got = best.fields.get("items") if right else None
            t["items"] += len(record["items"])
            hits = _item_hits(got.normalized if got is not None else None, record["items"])
            t["items_exact"] += hits
            if verbose and hits < len(record["items"]):
                print(f"  [{label}] {record['image']} items {record.get('style', '')}: {record['items']} → "
                      f"{got.normalized if got is not None else None}")
    report: dict[str, Any] = {}
    for tid in sorted(tallies):
        t = tallies[tid]
        report[tid] = {
            "pages": int(t["pages"]), "fields": int(t["fields"]),
            "field_exact_match": round(t["fields_exact"] / t["fields"], 4) if t["fields"] else None,
            "field_normalized_match": round(t["fields_normalized"] / t["fields"], 4) if t["fields"] else None,
            "items": int(t["items"]), "item_rows_exact": round(t["items_exact"] / t["items"], 4) if t["items"] else None,
            "correct_template_rate": round(t["correct_template"] / t["pages"], 4),
            "wrong_template_chosen": int(t["wrong_chosen"]), "wrong_template_passed": int(t["wrong_passed"]),
            "anchored_values": int(t["anchored"]),
            "anchors_found_fuzzily": round(t["anchored_fuzzy"] / t["anchored"], 4) if t["anchored"] else None,
            "per_field": {n: round(h / c, 4) for n, (h, c, _) in sorted(per_field[tid].items())},
            # share of each field's true value found character for character (spaces aside) in the
            # page's text: what exact matching could reach with this reader
            "per_field_read_exactly": {n: round(r / c, 4) for n, (_, c, r) in sorted(per_field[tid].items())},
        }
    return report


def table(report: dict[str, Any], title: str) -> None:
    print(f"\n{title}")
    print(f"{'template':26s} {'pages':>5s} {'exact':>6s} {'norm':>6s} {'items':>6s} {'chosen':>6s} {'wrong':>5s} "
          f"{'passed':>6s} {'fuzzy':>6s}")
    for tid, r in report.items():
        items = f"{r['item_rows_exact']:.3f}" if r["item_rows_exact"] is not None else "-"
        fuzzy = f"{r['anchors_found_fuzzily']:.3f}" if r["anchors_found_fuzzily"] is not None else "-"
        print(f"{tid:26s} {r['pages']:5d} {r['field_exact_match']:6.3f} {r['field_normalized_match']:6.3f} {items:>6s} "
              f"{r['correct_template_rate']:6.3f} {r['wrong_template_chosen']:5d} {r['wrong_template_passed']:6d} {fuzzy:>6s}")
        print("    " + "  ".join(f"{n} {v:.3f} (read {r['per_field_read_exactly'][n]:.3f})" for n, v in r["per_field"].items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=60, help="receipts (half Korean, half English)")
    ap.add_argument("--forms", type=int, default=20, help="filled forms per non-receipt template")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--split", default="heldout")
    ap.add_argument("--engine", action="store_true", help="also read the images with the installed engine")
    ap.add_argument("--config", type=Path, help="with --engine: the engine config YAML")
    ap.add_argument("--cache", type=Path, help="with --engine: keep (and reuse) the pages the engine read here")
    ap.add_argument("--out", type=Path, help="write the figures as JSON")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    args = ap.parse_args()

    data = samples(args)
    templates = FormGenerator(split=args.split, seed=args.seed).templates
    readers: list[tuple[str, Reader]] = [("oracle", oracle)]
    stages = None
    if args.engine:
        read, stages = engine_reader(args.config, args.cache, f"{args.split}-{args.seed}")
        readers.append(("engine", read))
        print("engine stages: " + ", ".join(f"{k}={v}" for k, v in stages.items()))
    report: dict[str, Any] = {"split": args.split, "seed": args.seed, "receipts": args.n,
                              "forms_per_template": args.forms, "stages": stages, "readers": {}}
    for name, read in readers:
        pages, seconds, match_s = [], 0.0, 0.0
        for image, record in data:
            t0 = time.perf_counter()
            page = read(image, record)
            t1 = time.perf_counter()
            pages.append((record, score_templates(page, templates), page.text))
            match_s += time.perf_counter() - t1
            seconds += t1 - t0
        figures = score(pages, args.verbose, name)
        report["readers"][name] = {"templates": figures, "read_s_per_page": round(seconds / len(data), 3),
                                   "matching_ms_per_page": round(match_s / len(data) * 1000, 2)}
        table(figures, f"{name}: {len(data)} pages, matching {report['readers'][name]['matching_ms_per_page']} ms a page")
    if args.engine:
        gap = {}
        for tid, r in report["readers"]["oracle"]["templates"].items():
            e = report["readers"]["engine"]["templates"].get(tid, {}).get("per_field", {})
            gap[tid] = {n: round(v - e.get(n, 0.0), 4) for n, v in r["per_field"].items()}
        report["oracle_minus_engine_per_field"] = gap
        print("\nper-field gap, oracle − engine:")
        for tid, g in gap.items():
            print(f"  {tid:24s} " + "  ".join(f"{n} {v:+.3f}" for n, v in g.items()))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
