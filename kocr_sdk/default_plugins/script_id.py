"""Registers kocr's own script identifier — only when its weights ship with this installation."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..script_id.identifier import shipped_script_identifiers


@hookimpl
def register_script_identifiers(register):
    for cls in shipped_script_identifiers():
        register(cls)
