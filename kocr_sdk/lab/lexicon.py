"""Build a shipped word list (``kocr_sdk/data/lexicons/<language>.txt.gz``) from plain word lists.

Each input file holds one word a line; the first file's words get tier 1 (common), the next
file's new words tier 2, and so on. Only ASCII letter words are kept (possessives such as
``dog's`` and accented entries are dropped: the correction changes letters only), lower-cased.
``--commonest N`` puts the language's N commonest words (by wordfreq) in a tier of their own
before the files: the only words of two or three letters that a missed-space split may make
(:mod:`kocr_sdk.recognition.lexicon`), since a dictionary's short words are mostly abbreviations
(``re``, ``tot``, ``os``) that would cut names and misreadings in two. The shipped English list
is wordfreq's 500 commonest, then SCOWL as Debian packages it (``wamerican-small``, size 35, then
``wamerican``, size 50)::

    apt-get install wamerican-small wamerican
    python -m kocr_sdk.lab.lexicon --commonest 500 /usr/share/dict/american-english-small \\
        /usr/share/dict/american-english --out kocr_sdk/data/lexicons/en.txt.gz

The Korean list is wordfreq's (its Korean words are what the MeCab analyser cut from text: words,
stems, particles and endings; :mod:`kocr_sdk.recognition.hangul_lexicon` joins them into
compounds), its 300 commonest a tier of their own, the only single syllables a word may be built
from, then the Korean words of the shipped templates (document labels such as ``공급가액`` that
text corpora seldom hold), then the rest::

    python -m kocr_sdk.lab.lexicon --language ko --template-words kocr_sdk/data/templates \\
        --commonest 300 --wordfreq 50000 --out kocr_sdk/data/lexicons/ko.txt.gz
"""

from __future__ import annotations

import argparse
import gzip
import re
from collections.abc import Iterable
from pathlib import Path


#: The words each language's list keeps: its own script's letters only.
_WORD = {"en": re.compile(r"[A-Za-z]+"), "ko": re.compile(r"[가-힣]+")}


def build(inputs: list[Path | Iterable[str]], out: Path, language: str = "en") -> int:
    """Write the tiered list (each input a word-list file or the words themselves, commonest
    first); returns how many words it holds."""
    pattern = _WORD[language]
    tiers: dict[str, int] = {}
    for tier, source in enumerate(inputs, start=1):
        words = source.read_text(encoding="utf-8", errors="replace").splitlines() if isinstance(source, Path) else source
        for line in words:
            word = line.strip()
            if pattern.fullmatch(word):
                tiers.setdefault(word.lower(), tier)
    out.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same inputs give the same bytes.
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
        fh.write("".join(f"{w}\t{t}\n" for w, t in sorted(tiers.items())).encode())
    return len(tiers)


def template_words(directory: Path, language: str) -> list[str]:
    """The words of ``language``'s letters in every string of the YAML templates in ``directory``
    (anchors, labels, keywords), in file order: the labels of the documents the templates read,
    which a general word list lacks (``공급가액``, ``거스름돈``, ``일시불``)."""
    import yaml

    pattern = _WORD[language]
    words: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            words.extend(m for m in pattern.findall(node) if len(m) > 1)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(Path(directory).glob("*.yaml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return words


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="*", type=Path, help="word-list files, commonest first")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--commonest", type=int, default=0, help="first tier: the N commonest words (wordfreq)")
    parser.add_argument("--wordfreq", type=int, default=0,
                        help="a last tier: the N commonest words (wordfreq), after the files")
    parser.add_argument("--template-words", type=Path, metavar="DIR",
                        help="a tier after --commonest: the words in the strings of the YAML templates in DIR")
    parser.add_argument("--language", choices=sorted(_WORD), default="en",
                        help="the list's language: wordfreq's code, and which letters a word may hold")
    args = parser.parse_args(argv)
    inputs: list[Path | Iterable[str]] = list(args.inputs)
    if args.commonest or args.wordfreq:
        from wordfreq import top_n_list

        if args.commonest:
            inputs.insert(0, top_n_list(args.language, args.commonest))
        if args.wordfreq:
            inputs.append(top_n_list(args.language, args.wordfreq))
    if args.template_words:  # after the commonest: a tier of its own, never a single syllable
        inputs.insert(1 if args.commonest else 0, template_words(args.template_words, args.language))
    if not inputs:
        parser.error("give word-list files, --commonest, --wordfreq or --template-words")
    print(f"{build(inputs, args.out, args.language):,} words -> {args.out}")


if __name__ == "__main__":
    main()
