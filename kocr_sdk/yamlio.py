"""YAML reading with pydantic validation errors mapped back to ``file:line: key: message``."""

from __future__ import annotations

import difflib
import types
from pathlib import Path
from typing import Annotated, Any, Callable, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from .errors import KocrError

M = TypeVar("M", bound=BaseModel)


def node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """The YAML node a pydantic error location points at (as deep as the location exists)."""
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(key):
                    node = v
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return node
    return node


def read_yaml_mapping(path: Path, error: type[KocrError], what: str) -> tuple[dict[str, Any], yaml.Node | None]:
    """Parse ``path`` as a YAML mapping, returning the data and its node tree (for line numbers)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start}); save the {what} as UTF-8") from None
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise error(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:  # PyYAML composes nested collections recursively
        raise error(f"{path}: not valid YAML: nested too deeply") from None
    except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        # PyYAML's safe constructors raise these, not YAMLError, for a date that is no date
        # (2024-02-30) or an explicit tag on the wrong kind of value (!!int '', !!bool maybe).
        raise error(f"{path}: not valid YAML: a value cannot be read ({type(exc).__name__}: {exc})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise error(f"{path}:1: a {what} must be a YAML mapping")
    key_nodes = [k for k, _ in root.value] if isinstance(root, yaml.MappingNode) else []
    for i, key in enumerate(data):
        if not isinstance(key, str):  # `1:`, `on:` (YAML 1.1 reads it as true), a date
            line = key_nodes[i].start_mark.line + 1 if i < len(key_nodes) else 1
            raise error(f"{path}:{line}: key {key!r} is not a name; quote it if it is one "
                        "(YAML reads on/off/yes/no as booleans)")
    return data, root


def _concrete(ann: Any) -> Any:
    """``Annotated``/``Optional``/union annotations unwrapped to the first model or container arm."""
    origin = get_origin(ann)
    if origin is Annotated:
        return _concrete(get_args(ann)[0])
    if origin in (Union, types.UnionType):
        for arm in get_args(ann):
            arm = _concrete(arm)
            if (isinstance(arm, type) and issubclass(arm, BaseModel)) or get_origin(arm) in (dict, list, tuple):
                return arm
        return None
    return ann


def model_keys_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """The keys the model at ``loc`` (a path of keys and indices below ``model``) accepts, or None."""
    ann: Any = model
    for key in loc:
        ann = _concrete(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            found = ann.model_fields.get(str(key))
            ann = found.annotation if found is not None else None
        elif get_origin(ann) is dict and len(get_args(ann)) == 2:
            ann = get_args(ann)[1]
        elif get_origin(ann) in (list, tuple) and isinstance(key, int) and get_args(ann):
            ann = get_args(ann)[0]
        else:
            return None
    ann = _concrete(ann)
    return list(ann.model_fields) if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def _unknown_key(loc: tuple[Any, ...], model: type[BaseModel]) -> str:
    """"unknown key; did you mean 'anchors'?" for a key the model does not have (difflib)."""
    keys = model_keys_at(model, loc[:-1]) if loc else None
    if not keys:
        return "unknown key (not part of the format)"
    close = difflib.get_close_matches(str(loc[-1]), keys, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key (keys here: {', '.join(keys)})"


def located_errors(exc: ValidationError, path: Path | str, root: yaml.Node | None,
                   relocate: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None = None,
                   model: type[BaseModel] | None = None) -> str:
    """One ``file:line: key: message`` line per validation error; ``relocate`` maps a model's error
    location to the keys the file wrote (a config's flat shortcut names). With ``model``, a key it
    does not have is answered with the closest one it has (``anchor`` -> "did you mean 'anchors'?")."""
    lines = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        if relocate is not None:
            loc = relocate(loc)
        node = node_at(root, loc) if root is not None else None
        line = node.start_mark.line + 1 if node is not None else 1
        key = ".".join(str(p) for p in loc) or "(top level)"
        msg = _unknown_key(loc, model) if model is not None and err["type"] == "extra_forbidden" else err["msg"]
        lines.append(f"{path}:{line}: {key}: {msg}")
    return "\n".join(lines)


def validate_yaml_file(
    path: str | Path, build: Callable[[dict[str, Any]], M], error: type[KocrError], what: str,
    model: type[BaseModel] | None = None,
) -> M:
    """Read ``path`` and build a model from it with ``build``; errors name file, line and key
    (and, given the ``model`` that ``build`` validates, the key meant for an unknown one)."""
    path = Path(path)
    data, root = read_yaml_mapping(path, error, what)
    try:
        return build(data)
    except ValidationError as exc:
        raise error(located_errors(exc, path, root, model=model)) from None
