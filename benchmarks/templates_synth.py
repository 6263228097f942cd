"""Template matching on held-out synthetic filled forms: field exact match, template choice, false passes.

Renders ``--n`` filled forms per shipped template with ``FormGenerator(split="heldout")`` (held-out
fonts, the generator's degradations, skew, and — with ``--rotate`` — quarter turns) and reads each:

- by default with **oracle OCR**: the page's ground-truth words (text and quads) stand in for
  detection and recognition, so the figures are those of clustering and matching alone;
- with ``--engine``: the installed pipeline reads the rendered image (detector, recognisers,
  clusterer, matcher), which is the issue's target setting.

Per template it reports: **field exact match** (of the ground truth's fields, the share whose
value equals it, whitespace stripped — the definition of ``kocr eval``), **correct template
chosen** (share of pages whose best passing template is the right one), and **wrong templates
above threshold** (pages on which any *other* template also passed its match rules, whether it
won or not). ``--out`` writes the figures as JSON.

    python benchmarks/templates_synth.py [--n 30] [--seed 0] [--engine] [--rotate] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from kocr_sdk.document import Page
from kocr_sdk.lab.eval.oracle import page_from_record
from kocr_sdk.layout import cluster_page
from kocr_sdk.lab.synth.forms import FormGenerator
from kocr_sdk.templates import Template
from kocr_sdk.templates.matcher import score_templates


def oracle_reader():
    def read(image: Any, record: dict[str, Any]) -> Page:
        page = page_from_record(record)
        return page.model_copy(update={"blocks": cluster_page(page)})
    return read


def engine_reader(templates: list[Template], config: Path | None = None):
    from kocr_sdk import Engine

    engine = Engine(config)
    missing = {t.id for t in templates} - {t.id for t in engine.templates}
    if missing:
        raise SystemExit(f"the engine does not know the forms' templates {sorted(missing)}")

    def read(image: Any, record: dict[str, Any]) -> Page:
        return engine.read(image).pages[0]
    return read, engine.describe()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=30, help="forms per template")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--split", default="heldout")
    ap.add_argument("--engine", action="store_true", help="read the rendered images with the installed engine")
    ap.add_argument("--rotate", action="store_true", help="turn half of the forms by 90/180/270°")
    ap.add_argument("--config", type=Path, help="with --engine: the engine config YAML (e.g. a detector setting)")
    ap.add_argument("--out", type=Path, help="write the figures as JSON")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    args = ap.parse_args()

    gen = FormGenerator(split=args.split, seed=args.seed, rotate=args.rotate)
    templates = gen.templates
    stages: dict[str, str] | None = None
    if args.engine:
        read, stages = engine_reader(templates, args.config)
        print("engine stages: " + ", ".join(f"{k}={v}" for k, v in stages.items()))
        if "missing" in (stages.get("detector"), stages.get("recognizer")):
            print("warning: no detector or recogniser is installed; every field will be missed")
    else:
        read = oracle_reader()
    tallies: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    match_seconds = 0.0
    for index in range(args.n * len(templates)):
        image, record = gen.sample(index)
        truth = record["template"]
        page = read(image, record)
        t0 = time.perf_counter()
        scored = score_templates(page, templates)
        match_seconds += time.perf_counter() - t0
        best = scored[0] if scored and scored[0].passed else None
        t = tallies[truth]
        t["pages"] += 1
        t["correct_template"] += best is not None and best.template.id == truth
        t["wrong_above_threshold"] += any(s.passed and s.template.id != truth for s in scored)
        t["rotated"] += record.get("orientation", 0) != 0
        for name, value in record["fields"].items():
            got = best.fields[name].value if best is not None and best.template.id == truth else None
            hit = got is not None and got.strip() == value.strip()
            t["fields"] += 1
            t["fields_exact"] += hit
            if not hit and args.verbose:
                print(f"  {index:5d} {truth:26s} {record['style']:8s} {name:20s} {value!r} → {got!r}")
    report: dict[str, Any] = {"reader": "engine" if args.engine else "oracle", "split": args.split, "seed": args.seed,
                              "forms_per_template": args.n, "rotate": args.rotate, "stages": stages, "templates": {}}
    print(f"{'template':26s} {'pages':>5s} {'field exact':>11s} {'correct tpl':>11s} {'wrong>thr':>9s}")
    for tid in sorted(tallies):
        t = tallies[tid]
        row = {"pages": int(t["pages"]), "rotated_pages": int(t["rotated"]), "fields": int(t["fields"]),
               "field_exact_match": round(t["fields_exact"] / t["fields"], 4) if t["fields"] else None,
               "correct_template_rate": round(t["correct_template"] / t["pages"], 4),
               "wrong_template_above_threshold": int(t["wrong_above_threshold"])}
        report["templates"][tid] = row
        print(f"{tid:26s} {row['pages']:5d} {row['field_exact_match']:11.4f} {row['correct_template_rate']:11.4f} "
              f"{row['wrong_template_above_threshold']:9d}")
    pages = sum(int(t["pages"]) for t in tallies.values())
    report["matching_ms_per_page"] = round(match_seconds / max(pages, 1) * 1000, 2)
    print(f"template matching (clustered page in, scores out): {report['matching_ms_per_page']} ms per page")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
