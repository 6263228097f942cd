"""Key–value pairs without a template (``Page.key_values``): generated forms and FUNSD.

- **Generated forms** (``--forms N`` per non-receipt shipped template, ``FormGenerator``,
  held-out fonts): every label printed with a value is recorded (``pairs``, fields and
  distractor rows); a predicted pair is right when its key and value equal a true pair's
  (spaces and a trailing colon ignored). Precision, recall and F1 of pairs.
- **FUNSD** (``--funsd path/to/gt.jsonl``, evaluation only): words labelled ``question`` are
  keys, ``answer`` values. Word-level precision, recall and F1 of what kocr calls keys and values,
  (a) with the ground-truth words as an oracle page and (b) with ``--engine``, kocr's own OCR,
  whose words are matched one-to-one to ground-truth words at box IoU ≥ 0.5 (an unmatched
  predicted key word is a false positive, an unmatched true one a miss).

``--cache DIR`` keeps the pages the engine read, to measure again without reading again.

    python benchmarks/key_values.py --forms 20 --funsd PATH/gt.jsonl [--engine [--cache DIR]] [--out results.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from kocr_sdk.document import Page
from kocr_sdk.lab.eval.oracle import page_from_record
from kocr_sdk.lab.synth.forms import FormGenerator
from kocr_sdk.layout import cluster_page
from kocr_sdk.templates.matcher import read_page


def _norm(text: str | None) -> str:
    return re.sub(r"\s+", "", (text or "")).rstrip(":：")


def prf(tp: float, n_pred: float, n_true: float) -> dict[str, float | None]:
    p = tp / n_pred if n_pred else None
    r = tp / n_true if n_true else None
    f = 2 * p * r / (p + r) if p and r else 0.0 if p is not None and r is not None else None
    return {"precision": None if p is None else round(p, 4), "recall": None if r is None else round(r, 4),
            "f1": None if f is None else round(f, 4)}


def oracle_page(record: dict[str, Any]) -> Page:
    page = page_from_record(record)
    return page.model_copy(update={"blocks": cluster_page(page)})


class CachedEngine:
    """The engine's reading of a page, kept as Document JSON under ``cache`` by a key."""

    def __init__(self, config: Path | None, cache: Path | None) -> None:
        from kocr_sdk import Engine

        self.engine, self.cache = Engine(config), cache

    def read(self, image: Any, key: str) -> Page:
        if not isinstance(image, (str, Path)):  # a generated page: its pixels are part of the key
            key += "-" + hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()[:12]
        path = self.cache / f"{key}.json" if self.cache is not None else None
        if path is not None and path.exists():
            return Page.model_validate_json(path.read_text(encoding="utf-8"))
        page = self.engine.read(image).pages[0]
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(page.model_dump_json(), encoding="utf-8")
        return page


def forms_figures(n: int, split: str, seed: int, engine: CachedEngine | None) -> dict[str, Any]:
    gen = FormGenerator(split=split, seed=seed)
    others = [k for k, t in enumerate(gen.templates) if t.id not in ("kr_receipt", "receipt_en")]
    tallies: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for i in range(n):
        for k in others:
            image, record = gen.sample(i * len(gen.templates) + k)
            truth = {(_norm(a), _norm(b)) for a, b in record["pairs"]}
            readers = [("oracle", oracle_page(record))]
            if engine is not None:
                readers.append(("engine", engine.read(image, f"{split}-{seed}-form-{record['image']}")))
            for name, page in readers:
                pairs = read_page(page, []).key_values
                got = {(_norm(kv.key), _norm(kv.value)) for kv in pairs}
                t = tallies[name]
                t["tp"] += len(got & truth)
                t["pred"] += len(got)
                t["true"] += len(truth)
                t["keys_tp"] += len({a for a, _ in got} & {a for a, _ in truth})
                t["keys_true"] += len({a for a, _ in truth})
    return {name: {"pages": n * len(others), "pairs": prf(t["tp"], t["pred"], t["true"]),
                   "keys_found": round(t["keys_tp"] / t["keys_true"], 4) if t["keys_true"] else None}
            for name, t in tallies.items()}


def _boxes(quads: list[Any]) -> np.ndarray:
    q = np.asarray(quads, dtype=np.float64).reshape(-1, 4, 2)
    return np.concatenate([q.min(axis=1), q.max(axis=1)], axis=1)


def _match(pred: np.ndarray, true: np.ndarray, threshold: float = 0.5) -> dict[int, int]:
    """Predicted word → true word, one-to-one, greedily by IoU ≥ ``threshold``."""
    if len(pred) == 0 or len(true) == 0:
        return {}
    x0 = np.maximum(pred[:, None, 0], true[None, :, 0])
    y0 = np.maximum(pred[:, None, 1], true[None, :, 1])
    x1 = np.minimum(pred[:, None, 2], true[None, :, 2])
    y1 = np.minimum(pred[:, None, 3], true[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # noqa: E731
    iou = inter / np.maximum(area(pred)[:, None] + area(true)[None, :] - inter, 1e-9)
    out: dict[int, int] = {}
    used: set[int] = set()
    for i, j in sorted(zip(*np.nonzero(iou >= threshold)), key=lambda ij: -iou[ij]):
        if i not in out and j not in used:
            out[int(i)] = int(j)
            used.add(int(j))
    return out


def funsd_figures(path: Path, engine: CachedEngine | None, limit: int | None) -> dict[str, Any]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if limit:
        records = records[:limit]
    tallies: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for record in records:
        image_path = path.parent / record["image"]
        with Image.open(image_path) as im:
            width, height = im.size
        record = {**record, "width": width, "height": height}
        labels = [w.get("label") for w in record["words"]]
        true_boxes = _boxes([w["poly"] for w in record["words"]])
        runs = [("oracle", oracle_page(record))]
        if engine is not None:
            runs.append(("engine", engine.read(str(image_path), f"funsd-{record['image']}")))
        for name, page in runs:
            pairs = read_page(page, []).key_values
            role: dict[str, str] = {}
            for kv in pairs:
                role.update({i: "key" for i in kv.key_word_ids})
                role.update({i: "value" for i in kv.value_word_ids if i not in role})
            if name == "oracle":
                # page_from_record numbers words by their index in the record
                mapped = {int(w.id.rsplit("w", 1)[1]): w.id for w in page.words}
                to_true = {wid: k for k, wid in mapped.items()}
            else:
                pred_boxes = _boxes([w.quad for w in page.words])
                to_true = {page.words[i].id: j for i, j in _match(pred_boxes, true_boxes).items()}
            t = tallies[name]
            for kind, gold in (("key", "question"), ("value", "answer")):
                predicted = [wid for wid, r in role.items() if r == kind]
                t[f"{kind}_pred"] += len(predicted)
                t[f"{kind}_tp"] += sum(1 for wid in predicted if wid in to_true and labels[to_true[wid]] == gold)
                t[f"{kind}_true"] += sum(1 for lab in labels if lab == gold)
            t["pairs"] += len(pairs)
    out = {}
    for name, t in tallies.items():
        out[name] = {"pages": len(records), "pairs_per_page": round(t["pairs"] / len(records), 2),
                     "keys (question words)": prf(t["key_tp"], t["key_pred"], t["key_true"]),
                     "values (answer words)": prf(t["value_tp"], t["value_pred"], t["value_true"])}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--forms", type=int, default=20, help="generated forms per non-receipt template (0: none)")
    ap.add_argument("--split", default="heldout")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--funsd", type=Path, help="FUNSD's gt.jsonl in kocr's evaluation format (evaluation only)")
    ap.add_argument("--limit", type=int, help="FUNSD: only the first N pages")
    ap.add_argument("--engine", action="store_true", help="also read the images with the installed engine")
    ap.add_argument("--config", type=Path, help="with --engine: the engine config YAML")
    ap.add_argument("--cache", type=Path, help="with --engine: keep (and reuse) the pages the engine read here")
    ap.add_argument("--out", type=Path, help="write the figures as JSON")
    args = ap.parse_args()

    engine = CachedEngine(args.config, args.cache) if args.engine else None
    report: dict[str, Any] = {"split": args.split, "seed": args.seed}
    if args.forms:
        report["forms"] = forms_figures(args.forms, args.split, args.seed, engine)
        print("generated forms:", json.dumps(report["forms"], indent=1))
    if args.funsd:
        report["funsd"] = funsd_figures(args.funsd, engine, args.limit)
        print("FUNSD:", json.dumps(report["funsd"], indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
