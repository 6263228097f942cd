"""Whole phrases found verbatim: the share of ground-truth phrases that occur, character for
character, in a tool's plain-text output of the page.

    kocr read FUNSD/*.png --format text --out OUT
    python benchmarks/phrases_verbatim.py FUNSD/gt.jsonl OUT [OUT2 ...] [--out results.json]

Why: char F1 credits a phrase read with one wrong letter almost fully, but a user who searches
for ``Fax: 614-466-5087`` or copies an address needs the whole phrase right. A phrase is the
words of one ground-truth entity (FUNSD's ``entity_id``; a ``line`` key where a set has one)
joined by single spaces, kept when it has at least ``--min-chars`` non-space characters. It is
found when it occurs in the page's text with whitespace runs taken as one space (line breaks
included, so a phrase the tool split over two lines still counts), compared case-folded when the
phrase is all capitals. Each OUT folder holds ``<image stem>.txt`` per page.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

_SPACE = re.compile(r"\s+")


def phrases(record: dict, min_chars: int) -> list[str]:
    """The ground-truth phrases of one page, in order of first appearance."""
    groups: dict[object, list[str]] = defaultdict(list)
    for k, word in enumerate(record["words"]):
        key = word.get("entity_id", word.get("line", k))
        groups[key].append(word["text"])
    out = [" ".join(words) for words in groups.values()]
    return [p for p in out if len(p.replace(" ", "")) >= min_chars]


def found(phrase: str, text: str) -> bool:
    text = _SPACE.sub(" ", text)
    phrase = _SPACE.sub(" ", phrase).strip()
    if phrase.isupper():
        return phrase.casefold() in text.casefold()
    return phrase in text


def score(gt: Path, folder: Path, min_chars: int) -> dict:
    total = hits = pages = 0
    for line in gt.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        txt = folder / (Path(record["image"]).stem + ".txt")
        text = txt.read_text(encoding="utf-8") if txt.exists() else ""
        pages += txt.exists()
        for phrase in phrases(record, min_chars):
            total += 1
            hits += found(phrase, text)
    return {"folder": folder.name, "pages_read": pages, "phrases": total, "found": hits,
            "share": round(hits / total, 4) if total else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gt", type=Path)
    ap.add_argument("outputs", type=Path, nargs="+", help="folders of <stem>.txt, one per tool or setting")
    ap.add_argument("--min-chars", type=int, default=4)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    rows = [score(args.gt, folder, args.min_chars) for folder in args.outputs]
    for r in rows:
        print(f"{r['folder']}: {r['found']} of {r['phrases']} phrases verbatim ({r['share']}), {r['pages_read']} pages")
    if args.out:
        args.out.write_text(json.dumps({"min_chars": args.min_chars, "rows": rows}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
