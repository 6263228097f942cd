"""Form templates: the YAML format (``schema``) and how files of it are found and loaded."""

from .loader import discover_templates, load_template
from .schema import FieldSpec, KeywordRule, MatchRules, Template

__all__ = ["Template", "FieldSpec", "KeywordRule", "MatchRules", "load_template", "discover_templates"]
