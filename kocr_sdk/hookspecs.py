"""The plugin contract: every hook kocr calls, and what a plugin author implements.

A plugin is a module (or object) with functions named after these hooks, decorated with
``kocr_sdk.hookimpl``. Each ``register_*`` hook receives a ``register`` callable; call it with
your stage class (a subclass of the matching base in ``kocr_sdk.interfaces``). You never touch a
registry or the plugin manager. kocr's own stages register through these same hooks.

Third-party plugins are found through the entry-point group ``kocr``::

    [project.entry-points.kocr]
    my_plugin = "my_package.plugin_module"
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pluggy

from .document import Page

hookspec = pluggy.HookspecMarker("kocr")
hookimpl = pluggy.HookimplMarker("kocr")

Register = Callable[..., None]


@hookspec
def register_rectifiers(register: Register) -> None:
    """Register page rectifiers: ``register(MyRectifier)``, a ``Rectifier`` subclass (runs before detection)."""


@hookspec
def register_detectors(register: Register) -> None:
    """Register text detectors: ``register(MyDetector)``, a ``TextDetector`` subclass."""


@hookspec
def register_script_identifiers(register: Register) -> None:
    """Register script identifiers: ``register(MyIdentifier)``, a ``ScriptIdentifier`` subclass."""


@hookspec
def register_recognizers(register: Register) -> None:
    """Register recognisers: ``register(MyRecognizer)``; its ``scripts`` say which words it reads."""


@hookspec
def register_entity_recognizers(register: Register) -> None:
    """Register NER implementations: ``register(MyNer)``, an ``EntityRecognizer`` subclass."""


@hookspec
def register_clusterers(register: Register) -> None:
    """Register text clusterers: ``register(MyClusterer)``, a ``Clusterer`` subclass."""


@hookspec
def register_template_matchers(register: Register) -> None:
    """Register template matchers: ``register(MyMatcher)``, a ``TemplateMatcher`` subclass."""


@hookspec
def register_template_sources(register: Register) -> None:
    """Register directories of YAML form templates: ``register(Path("my_templates"))``."""


@hookspec
def postprocess_page(page: Page, image: np.ndarray) -> Page | None:
    """Called after every stage ran on a page. Return a new Page to replace it, or None.

    Runs in plugin registration order; each sees the page the previous one returned.
    """
