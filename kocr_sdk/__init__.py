"""kocr: Korean-first, plugin-based document understanding.

A page image goes in; a typed :class:`Document` comes out. See ``docs/architecture.md``.
"""

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any  # noqa: E402

from .document import Block, Char, Document, Entity, FieldValue, Line, Page, StageRecord, TemplateMatch, Word  # noqa: E402
from .errors import (  # noqa: E402
    KocrConfigError,
    KocrDataError,
    KocrError,
    KocrInputError,
    KocrModelError,
    KocrPluginConflict,
    KocrPluginError,
    KocrStageError,
    KocrTemplateError,
)
from .interfaces import (  # noqa: E402
    Clusterer,
    DetectedChar,
    DetectedWord,
    Detection,
    EntityRecognizer,
    Reading,
    Recognizer,
    ScriptIdentifier,
    ScriptPrediction,
    TemplateMatcher,
    TextDetector,
)

__all__ = [
    "__version__", "Engine", "EngineConfig", "resolve_device",
    "Document", "Page", "Block", "Line", "Word", "Char", "Entity", "FieldValue", "TemplateMatch", "StageRecord",
    "KocrError", "KocrInputError", "KocrConfigError", "KocrPluginError", "KocrPluginConflict",
    "KocrTemplateError", "KocrModelError", "KocrStageError", "KocrDataError",
    "hookimpl", "TextDetector", "ScriptIdentifier", "Recognizer", "EntityRecognizer", "Clusterer",
    "TemplateMatcher", "Detection", "DetectedWord", "DetectedChar", "ScriptPrediction", "Reading",
    "ClusterConfig", "DbscanClusterer", "FuzzyTemplateMatcher", "MatcherConfig",
]

# The engine, its config and the stages behind these names import what reading needs (scipy,
# re2, rapidfuzz, pluggy, ...): they load when first used, so that code needing only the
# document types or the errors -- the trainers, a training bundle's bare machine -- stays light.
_LAZY = {
    "EngineConfig": "config", "resolve_device": "config", "Engine": "engine", "hookimpl": "hookspecs",
    "ClusterConfig": "layout", "DbscanClusterer": "layout",
    "FuzzyTemplateMatcher": "templates.matcher", "MatcherConfig": "templates.matcher",
}

if TYPE_CHECKING:
    from .config import EngineConfig, resolve_device
    from .engine import Engine
    from .hookspecs import hookimpl
    from .layout import ClusterConfig, DbscanClusterer
    from .templates.matcher import FuzzyTemplateMatcher, MatcherConfig


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
