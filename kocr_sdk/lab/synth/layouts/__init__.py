"""Page layouts, one module each; :data:`DRAW` maps a layout's name to its drawing function.

Each ``draw(gen, rng)`` places one upright page's text and marks on a :class:`.base.PageBuilder`
and returns it; :meth:`..pages.PageGenerator.finish` then inks, degrades and turns it. Layouts
follow what kocr meets (``docs/data.md``, "Pages"): ``document``,
``form``, ``table``, ``receipt``, ``prose`` and ``invoice`` (see each module).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Callable

from . import document, form, invoice, prose, receipt, table
from .base import PageBuilder

if TYPE_CHECKING:
    from ..pages import PageGenerator

__all__ = ["LAYOUTS", "DRAW", "PageBuilder"]

#: Layout names in the order ``PageConfig.layouts`` draws from (the order fixes a seed's pages).
LAYOUTS = ("document", "form", "table", "receipt", "prose", "invoice")

DRAW: dict[str, Callable[[PageGenerator, random.Random], PageBuilder]] = {
    "document": document.draw, "form": form.draw, "table": table.draw,
    "receipt": receipt.draw, "prose": prose.draw, "invoice": invoice.draw,
}
