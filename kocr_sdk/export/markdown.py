"""Markdown export: the text of a Document to read, paste into a wiki or hand to a language model.

Each page's text in reading order (:func:`~kocr_sdk.export.lines.reading_blocks`), one paragraph
per block and one line per line (lines end in a backslash, CommonMark's hard line break, so a
form's rows stay rows when rendered), pages separated by a thematic break (``---``). When a
template matched a page, its fields follow the page's text as a small table (field, value,
confidence, and whether a reviewer should look). Characters Markdown would read as formatting
(``*``, ``_``, ``#``, ``|``, a leading ``1.`` ...) are backslash-escaped, so the rendered text
is the text that was read.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .lines import reading_blocks

if TYPE_CHECKING:  # the document model calls into this module: its names are for typing only
    from ..document import Document, Page, TemplateMatch

_INLINE = re.compile(r"([\\`*_{}\[\]<>#|~!])")
_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+(?=[.)]))")


def escape(text: str) -> str:
    """``text`` with Markdown's formatting characters escaped, so it renders as itself."""
    text = _INLINE.sub(r"\\\1", text)
    m = _LINE_START.match(text)
    if m:  # a line that would start a list, a heading underline or a quote
        lead, mark = m.groups()
        if mark.isdigit():
            rest = text[m.end():]
            return f"{lead}{mark}\\{rest}"
        return f"{lead}\\{text[len(lead):]}"
    return text


def _code(name: str) -> str:
    """An identifier as inline code (read as written), when it holds no backtick or pipe to break out of it."""
    return f"`{name}`" if not set(name) & set("`|\n") else escape(name)


def _fields_table(match: TemplateMatch) -> str:
    rows = [f"Template: {_code(match.template_id)} (score {match.score:.2f})", "",
            "| Field | Value | Confidence | Review |", "| --- | --- | ---: | --- |"]
    for name, field in match.fields.items():
        value = escape(" ".join((field.value or "").split()))
        rows.append(f"| {_code(name)} | {value} | {field.confidence:.2f} | {'yes' if field.needs_review else ''} |")
    return "\n".join(rows)


def page_to_markdown(page: Page) -> str:
    """One page: its blocks as paragraphs, then its template fields as a table (if a template matched)."""
    parts = []
    for block in reading_blocks(page):
        lines = [" ".join(escape(w.text.strip()) for w in line.words if w.text and w.text.strip())
                 for line in block.lines]
        lines = [line for line in lines if line]
        if lines:
            parts.append("\\\n".join(lines))
    if page.template_match is not None and page.template_match.fields:
        parts.append(_fields_table(page.template_match))
    return "\n\n".join(parts)


def document_to_markdown(doc: Document) -> str:
    """The whole document as Markdown, pages separated by ``---``."""
    return "\n\n---\n\n".join(page_to_markdown(p) for p in doc.pages) + "\n"
