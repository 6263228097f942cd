"""Reading template YAML files, with errors that point at the file, line and field."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..errors import KocrTemplateError
from ..yamlio import validate_yaml_file
from .schema import Template


def load_template(path: str | Path) -> Template:
    """Load and validate one template file.

    Raises :class:`KocrTemplateError` naming ``file:line`` and the dotted field path.
    """
    return validate_yaml_file(
        path, lambda data: Template.model_validate({**data, "source": str(path)}), KocrTemplateError, "template"
    )


def discover_templates(dirs: Iterable[Path]) -> list[Template]:
    """Every ``*.yaml``/``*.yml`` template under ``dirs``; ids must be unique."""
    templates: dict[str, Template] = {}
    for directory in dirs:
        for path in sorted(Path(directory).glob("*.y*ml")):
            template = load_template(path)
            if template.id in templates:
                raise KocrTemplateError(
                    f"{path}: template id {template.id!r} is already defined in {templates[template.id].source}"
                )
            templates[template.id] = template
    return list(templates.values())
