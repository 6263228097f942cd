"""Where the generator's word and name lists come from: the packages, or lists extracted from them.

:mod:`.text` draws words from ``wordfreq`` and names, companies and addresses from ``faker``. A
training bundle (``kocr train bundle``) runs where neither is installed and nothing can be
downloaded, so it carries the lists instead, extracted by :func:`extract`, and its run sets
``$KOCR_TEXT_DATA`` to their directory. Then, and only then, the lists are read instead of the
packages: ``wordfreq``'s top-n lists as they were, and Faker replayed draw for draw by
:class:`~.fakenames.ListFaker` — so the generator prints the same text for the same seed either
way (tests/test_bundle.py checks it).
"""

from __future__ import annotations

import functools
import json
import lzma
import os
from pathlib import Path
from typing import Any, Sequence

from ...errors import KocrError
from . import fakenames

__all__ = ["TEXT_DATA_ENV", "WORD_LANGUAGES", "WORDS_N", "data_dir", "top_n_list", "faker", "extract"]

#: The environment variable naming a directory of extracted lists; set, it replaces the packages.
TEXT_DATA_ENV = "KOCR_TEXT_DATA"
#: wordfreq languages the generator draws from (``ja``/``zh`` for its Han and Kana words only).
WORD_LANGUAGES = ("ko", "en", "ja", "zh")
#: How many words of each language :mod:`.text` asks for.
WORDS_N = 30_000
WORDS_FILE, NAMES_FILE = "words.json.xz", "names.json.xz"
_INSTALL = "pip install 'kocr-sdk[train]'"


def data_dir() -> Path | None:
    """The directory ``$KOCR_TEXT_DATA`` names, or None (then the packages are used)."""
    value = os.environ.get(TEXT_DATA_ENV)
    return Path(value) if value else None


def _read(path: Path) -> Any:
    try:
        return json.loads(lzma.decompress(path.read_bytes()).decode("utf-8"))
    except FileNotFoundError:
        raise KocrError(f"${TEXT_DATA_ENV}: no {path.name} in {path.parent} (extract the lists with "
                        "`kocr train bundle`, or unset it to use the wordfreq and faker packages)") from None
    except (lzma.LZMAError, ValueError) as exc:
        raise KocrError(f"${TEXT_DATA_ENV}: {path} is not a list file kocr wrote ({exc})") from None


@functools.lru_cache(maxsize=None)
def _words(directory: str) -> dict[str, Any]:
    return _read(Path(directory) / WORDS_FILE)


@functools.lru_cache(maxsize=None)
def _names(directory: str) -> dict[str, Any]:
    return _read(Path(directory) / NAMES_FILE)


def top_n_list(lang: str, n: int) -> list[str]:
    """wordfreq's ``top_n_list(lang, n)``, from the extracted lists when ``$KOCR_TEXT_DATA`` is set."""
    directory = data_dir()
    if directory is None:
        try:
            from wordfreq import top_n_list as wordfreq_top_n
        except ImportError:
            raise KocrError(f"the data generator's word lists need the wordfreq package ({_INSTALL}), or "
                            f"${TEXT_DATA_ENV} set to lists a training bundle carries") from None
        return wordfreq_top_n(lang, n)
    data = _words(str(directory))
    words = data["lists"].get(lang)
    if words is None:
        raise KocrError(f"${TEXT_DATA_ENV}: the word lists in {directory} hold {', '.join(data['lists'])}, "
                        f"not {lang!r} (pack the bundle for a run that draws {lang} words)")
    if n > data["n"] and len(words) >= data["n"]:  # shorter than asked: wordfreq's whole list, any n is fine
        raise KocrError(f"${TEXT_DATA_ENV}: the word lists in {directory} hold the top {data['n']:,} words; "
                        f"{n:,} were asked")
    return list(words[:n])


def faker(locale: str) -> Any:
    """A ``faker.Faker(locale)``, or its replay from the extracted lists when ``$KOCR_TEXT_DATA`` is set;
    either way the caller seeds it (``seed_instance``) before each draw."""
    directory = data_dir()
    if directory is None:
        try:
            from faker import Faker
        except ImportError:
            raise KocrError(f"the data generator's names and addresses need the faker package ({_INSTALL}), or "
                            f"${TEXT_DATA_ENV} set to lists a training bundle carries") from None
        return Faker(locale)
    locales = _names(str(directory))["locales"]
    if locale not in locales:
        raise KocrError(f"${TEXT_DATA_ENV}: the name lists in {directory} hold {', '.join(locales)}, not {locale!r}")
    return fakenames.ListFaker(locale, locales[locale])


def _write(path: Path, data: Any) -> int:
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    path.write_bytes(lzma.compress(raw, preset=9))
    return path.stat().st_size


def extract(dest: Path, languages: Sequence[str] = WORD_LANGUAGES, n: int = WORDS_N,
            verify_seeds: range = range(300)) -> dict[str, Any]:
    """Write the word lists of ``languages`` and Faker's name lists to ``dest`` (for ``$KOCR_TEXT_DATA``);
    return what was written (files, sizes, package versions).

    The name lists are checked against the installed Faker after a round trip through the files
    (:func:`.fakenames.verify`), so lists that would print other names are never written.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        from wordfreq import top_n_list as wordfreq_top_n
    except ImportError:
        raise KocrError(f"extracting the word lists needs the wordfreq package ({_INSTALL})") from None
    unknown = [lang for lang in languages if lang not in WORD_LANGUAGES]
    if unknown:
        raise KocrError(f"no word lists for {', '.join(unknown)}; the generator draws from {', '.join(WORD_LANGUAGES)}")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        wordfreq_version = version("wordfreq")
    except PackageNotFoundError:  # pragma: no cover - imported above, so installed
        wordfreq_version = "?"
    words = {"wordfreq": wordfreq_version, "n": n, "lists": {lang: wordfreq_top_n(lang, n) for lang in languages}}
    names = {"locales": {locale: fakenames.extract(locale) for locale in fakenames.LOCALES}}
    sizes = {WORDS_FILE: _write(dest / WORDS_FILE, words), NAMES_FILE: _write(dest / NAMES_FILE, names)}
    written = _read(dest / NAMES_FILE)["locales"]
    for locale in fakenames.LOCALES:
        fakenames.verify(written[locale], locale, verify_seeds)
    return {"files": sizes, "wordfreq": wordfreq_version, "faker": names["locales"]["ko_KR"]["faker"],
            "languages": list(languages), "n": n}


def characters(directory: Path) -> set[str]:
    """Every character of the extracted lists in ``directory``: what the fonts packed beside them must draw."""
    chars: set[str] = set()
    for words in _read(Path(directory) / WORDS_FILE)["lists"].values():
        chars.update(*words)
    for data in _read(Path(directory) / NAMES_FILE)["locales"].values():
        for entry in data["elements"].values():
            chars.update(*(item for item in entry["items"] if isinstance(item, str)))
    return chars
