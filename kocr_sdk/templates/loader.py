"""Reading template YAML files, with errors that point at the file, line and field."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..errors import KocrTemplateError
from ..yamlio import validate_yaml_file
from .schema import ENTITY_LABELS_CONTEXT, Template


def load_template(path: str | Path, entity_labels: Iterable[str] | None = None) -> Template:
    """Load and validate one template file.

    ``entity_labels`` are the labels a field's ``entity`` may name: kocr's own by default, more
    where an installed entity recogniser declares them (``Registry.entity_labels``). Raises
    :class:`KocrTemplateError` naming ``file:line`` and the dotted field path.
    """
    context = {ENTITY_LABELS_CONTEXT: frozenset(entity_labels)} if entity_labels is not None else None
    return validate_yaml_file(
        path, lambda data: Template.model_validate({**data, "source": str(path)}, context=context),
        KocrTemplateError, "template", model=Template,
    )


def discover_templates(dirs: Iterable[Path], entity_labels: Iterable[str] | None = None) -> list[Template]:
    """Every ``*.yaml``/``*.yml`` template under ``dirs``; ids must be unique."""
    labels = frozenset(entity_labels) if entity_labels is not None else None
    templates: dict[str, Template] = {}
    for directory in dirs:
        for path in sorted(Path(directory).glob("*.y*ml")):
            template = load_template(path, labels)
            if template.id in templates:
                raise KocrTemplateError(
                    f"{path}: template id {template.id!r} is already defined in {templates[template.id].source}"
                )
            templates[template.id] = template
    return list(templates.values())
