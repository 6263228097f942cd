"""Template field patterns, run by a linear-time regular-expression engine.

Templates come from users, and a backtracking engine (Python's ``re``) can take exponential time
on a pattern such as ``((.+)+)+!``: one such field would hang every read that uses the template.
RE2 matches in time linear in the text whatever the pattern, so no pattern can hang a read. The
price is that RE2 has no look-around and no back-references; a template that uses them is
rejected when it is loaded (and by ``kocr templates validate``) with a message saying so.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

#: Compiled programs larger than this are refused (RE2's own memory budget, in bytes): a pattern
#: like ``(a{1000}){1000}`` compiles to a huge automaton even though matching stays linear.
MAX_PROGRAM_MEMORY = 8 << 20


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the error reaches the template author as a validation message
    options.max_mem = MAX_PROGRAM_MEMORY
    return options


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> Any:
    """The RE2 program for ``pattern``; ``ValueError`` with a readable reason when RE2 cannot run it."""
    try:
        return re2.compile(pattern, options=_options())
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        hint = ""
        if "perl operator" in reason or "backreference" in reason or "escape sequence" in reason:
            hint = " (template patterns run on RE2, which has no look-around and no back-references)"
        raise ValueError(f"not a valid template pattern: {reason}{hint}") from None


def search(pattern: str, text: str) -> Any:
    """The first match of ``pattern`` in ``text`` (``start``/``end``/``group`` in characters), or None."""
    return compile_pattern(pattern).search(text)
