"""Build a shipped word list (``kocr_sdk/data/lexicons/<language>.txt.gz``) from plain word lists.

Each input file holds one word a line; the first file's words get tier 1 (common), the next
file's new words tier 2, and so on. Only ASCII letter words are kept (possessives such as
``dog's`` and accented entries are dropped: the correction changes letters only), lower-cased.
The shipped English list comes from SCOWL as Debian packages it (``wamerican-small``, size 35,
then ``wamerican``, size 50)::

    apt-get install wamerican-small wamerican
    python -m kocr_sdk.lab.lexicon /usr/share/dict/american-english-small \\
        /usr/share/dict/american-english --out kocr_sdk/data/lexicons/en.txt.gz
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path


def build(inputs: list[Path], out: Path) -> int:
    """Write the tiered list; returns how many words it holds."""
    tiers: dict[str, int] = {}
    for tier, path in enumerate(inputs, start=1):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            word = line.strip()
            if word.isascii() and word.isalpha():
                tiers.setdefault(word.lower(), tier)
    out.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same inputs give the same bytes.
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
        fh.write("".join(f"{w}\t{t}\n" for w, t in sorted(tiers.items())).encode())
    return len(tiers)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="word-list files, commonest first")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    print(f"{build(args.inputs, args.out):,} words -> {args.out}")


if __name__ == "__main__":
    main()
