"""Form templates: the YAML format (``schema``), loading (``loader``), field types
(``normalize``) and matching pages against templates (``matcher``)."""

from .loader import discover_templates, load_template
from .schema import FieldSpec, KeywordRule, MatchRules, Template

__all__ = ["Template", "FieldSpec", "KeywordRule", "MatchRules", "load_template", "discover_templates"]
