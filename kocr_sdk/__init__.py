"""kocr: Korean-first, plugin-based document understanding.

A page image goes in; a typed :class:`Document` comes out. See ``docs/architecture.md``.
"""

__version__ = "0.1.0"

from .config import EngineConfig, resolve_device  # noqa: E402
from .document import Block, Char, Document, Entity, FieldValue, Line, Page, StageRecord, TemplateMatch, Word  # noqa: E402
from .engine import Engine  # noqa: E402
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
from .hookspecs import hookimpl  # noqa: E402
from .layout import ClusterConfig, DbscanClusterer  # noqa: E402
from .templates.matcher import FuzzyTemplateMatcher, MatcherConfig  # noqa: E402
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
