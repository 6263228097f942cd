"""Loading plugins and collecting what they register.

One ``pluggy.PluginManager("kocr")`` holds kocr's own stage modules (``DEFAULT_PLUGINS``) and every
plugin found through the ``kocr`` entry-point group. ``KOCR_LOAD_PLUGINS`` pins which third-party
plugins load (comma-separated entry-point or distribution names; empty loads none), which is how
the test suite keeps a stray installed plugin from changing its results.

Each ``register_*`` hook implementation is called on its own, with a ``register`` bound to the
plugin that implements it, so that a name claimed twice is reported with both distributions.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

import pluggy

from . import hookspecs
from .errors import KocrConfigError, KocrPluginConflict, KocrPluginError
from .interfaces import STAGE_BASES, EntityRecognizer, Recognizer, Stage
from .vocabulary.entities import LABELS

ENTRY_POINT_GROUP = "kocr"
LOAD_ENV = "KOCR_LOAD_PLUGINS"

# kocr's own implementations, registered exactly like third-party plugins.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "kocr_sdk.default_plugins.templates",
    "kocr_sdk.default_plugins.script_id",
    "kocr_sdk.default_plugins.recognition",
    "kocr_sdk.default_plugins.detection",
    "kocr_sdk.default_plugins.layout",
    "kocr_sdk.default_plugins.ner",
    "kocr_sdk.default_plugins.rectify",
)

# hook name -> stage key (as in interfaces.STAGE_BASES)
STAGE_HOOKS: dict[str, str] = {
    "register_rectifiers": "rectifier",
    "register_detectors": "detector",
    "register_script_identifiers": "script_identifier",
    "register_recognizers": "recognizer",
    "register_entity_recognizers": "entity_recognizer",
    "register_clusterers": "clusterer",
    "register_template_matchers": "template_matcher",
}


@dataclass(frozen=True)
class PluginInfo:
    """Where a plugin came from."""

    name: str
    distribution: str
    version: str | None

    def describe(self) -> str:
        return f"{self.distribution} {self.version}" if self.version else self.distribution


@dataclass(frozen=True)
class Registration:
    """One implementation a plugin registered for a stage."""

    stage: str
    name: str
    factory: type[Stage]
    plugin: PluginInfo

    @property
    def scripts(self) -> tuple[str, ...]:
        return tuple(getattr(self.factory, "scripts", ()))

    @property
    def priority(self) -> int:
        return int(getattr(self.factory, "priority", 0))

    @property
    def entity_labels(self) -> tuple[str, ...]:
        """Entity labels beyond kocr's own that an entity recogniser declares it gives."""
        if not issubclass(self.factory, EntityRecognizer):
            return ()
        return tuple(getattr(self.factory, "entity_labels", ()))


@dataclass
class Registry:
    """Everything the loaded plugins registered, by stage and name."""

    stages: dict[str, dict[str, Registration]] = field(default_factory=lambda: {k: {} for k in STAGE_BASES})
    template_dirs: list[tuple[Path, PluginInfo]] = field(default_factory=list)
    plugins: list[PluginInfo] = field(default_factory=list)
    #: every hook each plugin implements, in the order of ``kocr_sdk.hookspecs``
    hooks: dict[PluginInfo, list[str]] = field(default_factory=dict)

    def get(self, stage: str, name: str) -> Registration:
        try:
            return self.stages[stage][name]
        except KeyError:
            available = ", ".join(sorted(self.stages[stage])) or "none installed"
            raise KocrConfigError(f"no {stage.replace('_', ' ')} named {name!r} is registered (available: {available})") from None

    def choose(self, stage: str) -> Registration | None:
        """The registered implementation with the highest priority, or None when there is none.

        Implementations with ``auto = False`` (those that cannot run without options, such as a
        model path) are chosen only by name.
        """
        regs = [r for r in self.stages[stage].values() if getattr(r.factory, "auto", True)]
        if not regs:
            return None
        return max(regs, key=lambda r: (r.priority, r.name))

    def recognizers_for(self, script: str) -> list[Registration]:
        """Recognisers whose weights cover ``script``, best first."""
        regs = [r for r in self.stages["recognizer"].values() if script in r.scripts]
        return sorted(regs, key=lambda r: (-r.priority, r.name))

    def registered_by(self, plugin: PluginInfo) -> list[str]:
        """Human-readable list of what ``plugin`` registered."""
        out = [f"{stage}: {reg.name}" + (f" ({', '.join(reg.scripts)})" if reg.scripts else "")
               for stage, regs in self.stages.items() for reg in regs.values() if reg.plugin == plugin]
        out += [f"templates: {path}" for path, p in self.template_dirs if p == plugin]
        return out

    def hooks_of(self, plugin: PluginInfo) -> list[str]:
        """The hooks ``plugin`` implements, those that register nothing (``postprocess_page``) included."""
        return list(self.hooks.get(plugin, []))

    def entity_labels(self) -> set[str]:
        """Entity labels a template may name: kocr's own and those installed entity recognisers declare."""
        return set(LABELS).union(*(reg.entity_labels for reg in self.stages["entity_recognizer"].values()))

    def template_warnings(self) -> list[tuple[PluginInfo, str]]:
        """The plugin and a line for each registered template folder that does not exist or holds no YAML.

        Why: such a folder is not an error (kocr reads on without its templates), so nothing else
        says that a plugin's templates are missing, which is what an install that dropped its
        package data looks like.
        """
        out = []
        for path, plugin in self.template_dirs:
            if not path.exists():
                problem = "does not exist"
            elif not path.is_dir():
                problem = "is not a folder"
            elif not any(path.glob("*.y*ml")):
                problem = "holds no YAML templates (*.yaml, *.yml)"
            else:
                continue
            out.append((plugin, f"template folder {path} {problem} (registered by {plugin.describe()}); if the "
                                "plugin ships templates, its package data was not installed (docs/plugins.md, "
                                "\"Shipping templates\")"))
        return out


def _selected_entry_points() -> list[metadata.EntryPoint]:
    eps = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    pinned = os.environ.get(LOAD_ENV)
    if pinned is None:
        return eps
    wanted = {s.strip() for s in pinned.split(",") if s.strip()}
    chosen = [ep for ep in eps if ep.name in wanted or (ep.dist is not None and ep.dist.name in wanted)]
    found = {ep.name for ep in chosen} | {ep.dist.name for ep in chosen if ep.dist is not None}
    unknown = sorted(wanted - found)
    if unknown:  # a pinned plugin that is not installed must not leave its stages silently missing
        installed = sorted({ep.dist.name if ep.dist else ep.name for ep in eps})
        raise KocrPluginError(f"{LOAD_ENV} names plugin(s) that are not installed: {', '.join(unknown)} "
                              f"(installed: {', '.join(installed) or 'none'})")
    return chosen


def create_plugin_manager(
    extra_plugins: Iterable[Any] = (), load_entrypoints: bool = True, default_plugins: Iterable[str] = DEFAULT_PLUGINS
) -> tuple[pluggy.PluginManager, dict[int, PluginInfo]]:
    """A plugin manager with kocr's own plugins, installed ones and ``extra_plugins`` registered.

    Returns the manager and, for each registered plugin object's ``id``, where it came from.
    """
    pm = pluggy.PluginManager("kocr")
    pm.add_hookspecs(hookspecs)
    infos: dict[int, PluginInfo] = {}
    version = _own_version()
    for modname in default_plugins:
        module = importlib.import_module(modname)
        pm.register(module, name=modname)
        infos[id(module)] = PluginInfo(modname, "kocr-sdk", version)
    if load_entrypoints:
        for ep in _selected_entry_points():
            if pm.get_plugin(ep.name) is not None:
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must not look like a kocr bug
                dist = ep.dist.name if ep.dist else "unknown distribution"
                raise KocrPluginError(
                    f"plugin {ep.name!r} from {dist} failed to import: {type(exc).__name__}: {exc} "
                    f"(uninstall it, or set {LOAD_ENV} to the plugins you want)"
                ) from exc
            pm.register(plugin, name=ep.name)
            dist = ep.dist
            infos[id(plugin)] = PluginInfo(ep.name, dist.name if dist else ep.name, dist.version if dist else None)
    for plugin in extra_plugins:
        name = getattr(plugin, "__name__", None) or type(plugin).__name__
        pm.register(plugin, name=name)
        infos[id(plugin)] = PluginInfo(name, f"(registered in code: {name})", None)
    return pm, infos


def collect(pm: pluggy.PluginManager, infos: dict[int, PluginInfo]) -> Registry:
    """Call every registration hook of every plugin and gather the results, refusing conflicts."""
    registry = Registry()
    seen: list[PluginInfo] = []
    for plugin in pm.get_plugins():
        info = infos.get(id(plugin)) or PluginInfo(str(pm.get_name(plugin)), str(pm.get_name(plugin)), None)
        if info not in seen:
            seen.append(info)
    registry.plugins = seen
    spec_order = {name: i for i, name in enumerate(_hook_names())}
    for plugin in pm.get_plugins():
        info = infos.get(id(plugin)) or PluginInfo(str(pm.get_name(plugin)), str(pm.get_name(plugin)), None)
        names = {caller.name for caller in pm.get_hookcallers(plugin) or []}
        registry.hooks[info] = sorted(names, key=lambda n: (spec_order.get(n, len(spec_order)), n))

    for hook_name, stage in STAGE_HOOKS.items():
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            info = infos.get(id(impl.plugin)) or PluginInfo(impl.plugin_name, impl.plugin_name, None)
            impl.function(register=_stage_registrar(registry, stage, info))
    for impl in pm.hook.register_template_sources.get_hookimpls():
        info = infos.get(id(impl.plugin)) or PluginInfo(impl.plugin_name, impl.plugin_name, None)

        def add_dir(path: Any, _info: PluginInfo = info) -> None:
            registry.template_dirs.append((Path(path), _info))

        impl.function(register=add_dir)
    return registry


def _stage_registrar(registry: Registry, stage: str, info: PluginInfo):
    base = STAGE_BASES[stage]

    def register(factory: type[Stage]) -> None:
        if not (isinstance(factory, type) and issubclass(factory, base)):
            raise KocrPluginError(
                f"plugin {info.describe()} registered {factory!r} as a {stage}, "
                f"but it is not a subclass of kocr_sdk.interfaces.{base.__name__}"
            )
        name = getattr(factory, "name", None)
        if not isinstance(name, str) or not name:
            raise KocrPluginError(f"plugin {info.describe()} registered {factory.__name__} without a `name`")
        if issubclass(factory, Recognizer) and not factory.scripts:
            raise KocrPluginError(f"recognizer {name!r} from {info.describe()} declares no `scripts`")
        existing = registry.stages[stage].get(name)
        if existing is not None and existing.factory is not factory:
            raise KocrPluginConflict(
                f"two plugins register a {stage.replace('_', ' ')} named {name!r}: "
                f"{existing.plugin.describe()} and {info.describe()}; uninstall one, or set "
                f"{LOAD_ENV} to the plugins you want"
            )
        registry.stages[stage][name] = Registration(stage, name, factory, info)

    return register


def load_registry(extra_plugins: Iterable[Any] = (), load_entrypoints: bool = True) -> Registry:
    """Load every plugin and return what they registered."""
    pm, infos = create_plugin_manager(extra_plugins, load_entrypoints)
    return collect(pm, infos)


def _hook_names() -> list[str]:
    """Hook names in the order ``kocr_sdk.hookspecs`` defines them (its registration hooks first)."""
    return [name for name, obj in vars(hookspecs).items() if callable(obj) and hasattr(obj, "kocr_spec")]


def _own_version() -> str | None:
    try:
        return metadata.version("kocr-sdk")
    except metadata.PackageNotFoundError:  # running from a source tree
        return None

