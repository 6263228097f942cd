"""The languages a template may say its forms are printed in, as ISO 639-1 codes.

Only languages kocr reads: each is written in scripts a shipped recogniser or script identifier
knows (Korean: Hangul and Han; English: Latin; Japanese: Kana and Han; Chinese: Han). A code
outside this set (``korean``, ``kr``) would be carried along unused and unnoticed, so templates
refuse it.
"""

from __future__ import annotations

import difflib

#: ISO 639-1 code -> the language's English name.
LANGUAGES: dict[str, str] = {"ko": "Korean", "en": "English", "ja": "Japanese", "zh": "Chinese"}

# What people write instead of the code: names and the ISO 639-2/3 codes.
_ALIASES: dict[str, str] = {
    **{name.lower(): code for code, name in LANGUAGES.items()},
    "kor": "ko", "eng": "en", "jpn": "ja", "zho": "zh", "chi": "zh", "kr": "ko", "jp": "ja", "cn": "zh",
    "한국어": "ko", "영어": "en", "일본어": "ja", "중국어": "zh",
}


def suggest_language(text: str) -> str | None:
    """The code ``text`` most likely means (``korean`` -> ``ko``), or None."""
    key = text.strip().lower()
    if key in LANGUAGES:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    close = difflib.get_close_matches(key, list(_ALIASES), n=1, cutoff=0.75)
    return _ALIASES[close[0]] if close else None


def describe_languages() -> str:
    """``ko (Korean), en (English), ...`` for error messages."""
    return ", ".join(f"{code} ({name})" for code, name in LANGUAGES.items())
