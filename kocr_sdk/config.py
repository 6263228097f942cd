"""Engine configuration: a Python object, a YAML file, or ``KOCR_*`` environment variables.

The settings are grouped by concern — ``compute``, ``input``, ``pdf``, ``rectification``,
``detection``, ``scripts``, ``recognition``, ``orientation``, ``ner``, ``layout``, ``templates`` — plus
``options`` (constructor options per implementation name). Precedence, highest first: keyword
overrides, environment variables, the YAML file, defaults. Nested keys use ``__`` in the
environment (``KOCR_COMPUTE__DEVICE=cpu``, ``KOCR_RECOGNITION__RECOGNIZERS__HANGUL=vitstr-tiny``).

Every setting also keeps the flat name it had before the settings were grouped (``device``,
``batch_size``, ``recognizers`` …; :data:`FLAT_NAMES`), in a file, a keyword
(``Engine(device="cpu")``) or a variable (``KOCR_DEVICE=cpu``): they are shortcuts for the
grouped keys, so existing configs keep working and a one-off override stays short.

``kocr config schema`` prints the JSON Schema and docs/configuration.md is generated from it, so
the reference cannot drift from the code.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError

from .errors import KocrConfigError
from .yamlio import located_errors, read_yaml_mapping

Device = Literal["auto", "cpu", "cuda"]
ENV_PREFIX = "KOCR_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ComputeConfig(_Section):
    """Where and how the models run."""

    device: Device = Field("auto", description="`auto` picks CUDA when torch sees a GPU.")
    threads: int | None = Field(None, ge=1, description="torch intra-op threads; None leaves torch's default.")
    runtime: Literal["auto", "torch", "onnx"] = Field(
        "auto",
        description="What runs the built-in models: `auto` picks onnxruntime on a CPU (the faster there) and torch on "
        "a GPU or where onnxruntime is not installed; `torch`; or `onnx` (graphs are exported on first use into a "
        "cache, or beforehand with `kocr export onnx`). Stages without an ONNX path run on torch.",
    )


class InputConfig(_Section):
    """Limits on the images the engine accepts, and how large it reads them."""

    max_side: int = Field(4096, ge=64, description="Longer image side above which the engine downscales.")
    max_pixels: int = Field(500_000_000, ge=1, description="Images (any frame) above this many pixels are refused.")
    min_side: int = Field(8, ge=1, description="Images with a shorter side hold no readable text.")


class PdfConfig(_Section):
    """How PDF pages become images."""

    dpi: float = Field(150, ge=18, le=1200, description="Resolution PDF pages are rasterised at.")
    text_layer: Literal["report", "use"] = Field(
        "report",
        description="A PDF page with its own text layer: `report` marks it on the Page and reads the pixels anyway; "
        "`use` takes its words from the text layer (detection, script identification and recognition skipped).",
    )


class RectificationConfig(_Section):
    """Which page rectifier runs before detection (flattening a photographed page)."""

    implementation: str = Field(
        "auto",
        description="A registered rectifier name, `auto` or `none` (off). kocr's `paper` finds the sheet in a photo "
        "by its edges and undoes its perspective; a page with no paper edge, one that runs off the picture or one "
        "already flat and upright (every scan) is left as it is, and the page's stage record says why. Boxes stay "
        "in the pixels of the image as given (`Page.rectification` holds the transform).",
    )


class DetectionConfig(_Section):
    """Which text detector runs, and how."""

    implementation: str = Field("auto", description="A registered detector name, `auto` or `none`.")
    upright_redetect: bool = Field(
        True,
        description="When the detector finds a page turned sideways (90° or 270°), turn the image upright and "
        "detect again: the detector splits fewer words on upright text. Costs a second detection on sideways "
        "pages only.",
    )


class ScriptsConfig(_Section):
    """Which script identifier runs, and how words are sent to recognisers by script."""

    identifier: str = Field("auto", description="A registered script identifier, `auto` or `none`.")
    default: str = Field("hangul", description="Script assumed for every word when no script identifier runs.")
    fallback_threshold: float = Field(
        0.0, ge=0, le=1, description="Below this script confidence, the top two recognisers both read the word."
    )
    page_prior: bool = Field(
        True, description="Re-weight each word's script probabilities by the page's own script shares, so a lone "
        "non-Latin guess on an English page loses its weight (kocr_sdk.script_id.page_prior).",
    )
    min_page_share: float = Field(
        0.05, ge=0, le=1, description="With `page_prior`, a script of `need_page_support` holding less than this "
        "share of the page's words is taken to be absent from the page.",
    )
    need_page_support: list[str] = Field(
        default_factory=lambda: ["han", "kana"],
        description="Scripts a page must show some evidence of (`min_page_share`) before a word is read as one: "
        "a lone Han or Kana guess on a Korean or English page is far more often a misread than a word.",
    )
    minority_check: list[str] = Field(
        default_factory=lambda: ["hangul", "han", "kana"],
        description="Scripts whose words, where the script holds less than `min_page_share` of the page's words and "
        "the page's main script's recogniser cannot read it (a `hangul` guess among English words), are also read by "
        "the main script's recogniser, and take that reading and script when it is the more confident. [] turns it off.",
    )
    relabel_by_reading: list[str] = Field(
        default_factory=lambda: ["hangul", "han", "kana"],
        description="Scripts with letters of their own: a word labelled with one whose reading holds none of its "
        "letters (a `hangul` word read `001`) takes the script of what was read. [] turns it off.",
    )
    routes: dict[str, str] = Field(
        default_factory=lambda: {"digits": "latin", "other": "hangul"},
        description="script -> script whose recogniser reads it, when `recognition.recognizers` names none for it: "
        "digits go to the Latin weights (more numbers in their training mixture, a smaller charset to confuse them "
        "with); symbols to the Korean weights, whose charset holds the symbols of Korean documents. A route to a "
        "script with no recogniser installed is ignored.",
    )


class ConfidenceMap(_Section):
    """A recogniser's confidence -> the probability that its reading is right, piecewise linear.

    Why: recognisers' confidences are on different scales (one is sure at 0.9 and often wrong,
    another rarely says more than 0.8 and is right), so comparing them word by word needs each
    mapped to one scale first. ``benchmarks/choice_calibration.py`` fits these on generated crops.
    """

    confidence: list[float] = Field(min_length=1, description="Confidences, ascending, in [0, 1].")
    probability: list[float] = Field(min_length=1, description="Probability right at each confidence, in [0, 1].")

    @model_validator(mode="after")
    def _check(self) -> "ConfidenceMap":
        if len(self.confidence) != len(self.probability):
            raise ValueError(f"confidence has {len(self.confidence)} points and probability {len(self.probability)}")
        if any(b < a for a, b in zip(self.confidence, self.confidence[1:])):
            raise ValueError("confidence points must be ascending")
        if any(not 0.0 <= v <= 1.0 for v in (*self.confidence, *self.probability)):
            raise ValueError("confidence and probability points must lie in [0, 1]")
        return self


class RecognitionConfig(_Section):
    """Which recogniser reads each script, and how word crops are cut and batched."""

    recognizers: dict[str, str] = Field(
        default_factory=dict, description="script -> recogniser name; scripts not listed pick automatically."
    )
    choose: dict[str, list[str]] = Field(
        default_factory=dict,
        description="script -> two or more recogniser names: each reads every word of the script and the engine "
        "keeps the reading most likely right by `calibration` (word-level choice, kocr_sdk.recognition.choice). "
        "Costs one recogniser pass per name over those words; empty (the default): one recogniser per word.",
    )
    calibration: dict[str, ConfidenceMap] = Field(
        default_factory=dict,
        description="recogniser name -> map from its confidence to the probability its reading is right, used "
        "by `choose` (and as the chosen word's confidence); a recogniser without one is compared on its raw "
        "confidence. `benchmarks/choice_calibration.py` writes them from generated crops.",
    )
    batch_size: int = Field(64, ge=1, description="Crops a recogniser reads at once.")
    crop_margin: float = Field(
        0.15, ge=0, le=1,
        description="Room around each word crop, as a fraction of the word's height on every side.",
    )
    trim_neighbours: bool = Field(
        True,
        description="End a word crop's side margin where a neighbouring word begins, so a recogniser does not "
        "read a letter of the next word (kocr_sdk.geometry.crop_quad).",
    )
    split_at_spaces: bool = Field(
        True,
        description="Split a word whose reading holds a space into one word per piece, each with its part of the "
        "box: the detector boxes words with narrow gaps between them as one (kocr_sdk.recognition.spaces).",
    )

    @model_validator(mode="after")
    def _check_choose(self) -> "RecognitionConfig":
        for script, names in self.choose.items():
            if len(names) < 2 or len(set(names)) != len(names):
                raise ValueError(f"choose.{script}: name two or more different recognisers, not {names}")
        return self


class OrientationConfig(_Section):
    """The recogniser's check of which way up the page is."""

    check: bool = Field(
        True,
        description="Read a few long words both ways up and let the recogniser's confidence decide between the "
        "detector's page orientation and its 180° opposite (kocr_sdk.orientation). Costs one extra recogniser "
        "pass over `probes` crops per page.",
    )
    probes: int = Field(16, ge=1, description="Words read both ways up by the orientation check, at most.")
    first_probes: int = Field(
        4,
        ge=0,
        description="The check reads this many probe words first and the rest only when they disagree or their "
        "mean confidence gain is within `sure_margin` of zero (0: read all at once).",
    )
    sure_margin: float = Field(0.3, ge=0.0, le=1.0)
    other_axis: bool = Field(
        True,
        description="Also read each word on the page's other axis (a vertical label or document number on an "
        "upright page) both ways round and keep the more confident: the detector's per-word 90°/270° call is a "
        "guess. Costs two recogniser reads of those words only.",
    )


class NerConfig(_Section):
    """Which entity recogniser runs."""

    implementation: str = Field("auto", description="A registered entity recogniser, `auto` or `none`.")


class LayoutConfig(_Section):
    """Which text clusterer (lines, blocks, reading order) runs."""

    implementation: str = Field("auto", description="A registered clusterer, `auto` or `none`.")


class TemplatesConfig(_Section):
    """Which template matcher runs, and on which templates."""

    matcher: str = Field("auto", description="A registered template matcher, `auto` or `none`.")
    template: str | None = Field(None, description="Force one template: an id or a YAML path.")
    dirs: list[Path] = Field(default_factory=list, description="Extra directories of YAML templates.")


#: Flat name -> (section, key): the shortcuts, and the names settings had before they were grouped.
FLAT_NAMES: dict[str, tuple[str, str]] = {
    "device": ("compute", "device"), "threads": ("compute", "threads"), "runtime": ("compute", "runtime"),
    "max_side": ("input", "max_side"), "max_pixels": ("input", "max_pixels"), "min_side": ("input", "min_side"),
    "pdf_dpi": ("pdf", "dpi"), "pdf_text_layer": ("pdf", "text_layer"),
    "rectifier": ("rectification", "implementation"),
    "detector": ("detection", "implementation"), "upright_redetect": ("detection", "upright_redetect"),
    "script_identifier": ("scripts", "identifier"), "default_script": ("scripts", "default"),
    "script_fallback_threshold": ("scripts", "fallback_threshold"), "script_routes": ("scripts", "routes"),
    "script_minority_check": ("scripts", "minority_check"),
    "recognizers": ("recognition", "recognizers"), "batch_size": ("recognition", "batch_size"),
    "crop_margin": ("recognition", "crop_margin"), "trim_neighbours": ("recognition", "trim_neighbours"),
    "orientation_check": ("orientation", "check"), "orientation_probes": ("orientation", "probes"),
    "orientation_first_probes": ("orientation", "first_probes"),
    "orientation_sure_margin": ("orientation", "sure_margin"),
    "entity_recognizer": ("ner", "implementation"), "clusterer": ("layout", "implementation"),
    "template_matcher": ("templates", "matcher"), "template": ("templates", "template"),
    "template_dirs": ("templates", "dirs"),
}

#: Stage key (as the engine and the plugin registry name stages) -> (section, key) of its choice.
STAGE_CHOICE: dict[str, tuple[str, str]] = {
    "rectifier": ("rectification", "implementation"),
    "detector": ("detection", "implementation"), "script_identifier": ("scripts", "identifier"),
    "entity_recognizer": ("ner", "implementation"), "clusterer": ("layout", "implementation"),
    "template_matcher": ("templates", "matcher"),
}


def nest(data: dict[str, Any]) -> dict[str, Any]:
    """``{"device": "cpu", "recognition": {...}}`` -> every flat name moved into its section."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in FLAT_NAMES:
            section, name = FLAT_NAMES[key]
            out[section] = merge(out.get(section, {}), {name: value})
        else:
            out[key] = merge(out[key], value) if key in out else value
    return out


def merge(low: Any, high: Any) -> Any:
    """``high`` over ``low``, section by section (dicts merge key by key; anything else replaces)."""
    if isinstance(low, dict) and isinstance(high, dict):
        return {**low, **{k: merge(low.get(k), v) if k in low else v for k, v in high.items()}}
    return high


class _FlatEnvironment(PydanticBaseSettingsSource):
    """``KOCR_<FLAT NAME>`` variables (``KOCR_DEVICE``, ``KOCR_RECOGNIZERS__HANGUL``) as grouped keys.

    pydantic-settings reads the grouped variables (``KOCR_COMPUTE__DEVICE``); this source reads the
    flat shortcuts, below them in precedence. Dict-valued ones take JSON or ``__`` keys.
    """

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover - unused
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for var, raw in os.environ.items():
            if not var.upper().startswith(ENV_PREFIX):
                continue
            flat, _, sub = var[len(ENV_PREFIX):].lower().partition("__")
            if flat not in FLAT_NAMES:
                continue
            if sub:
                found.setdefault(flat, {})
                if isinstance(found[flat], dict):
                    found[flat][sub] = raw
                continue
            if flat in ("recognizers", "script_routes", "template_dirs"):
                try:
                    found[flat] = json.loads(raw)
                except json.JSONDecodeError:
                    raise SettingsError(f'error parsing value for field "{flat}" from source "environment"') from None
            else:
                found[flat] = raw
        return nest(found)


class EngineConfig(BaseSettings):
    """Which implementation serves each stage, and how the engine runs them.

    A stage's implementation is a registered name, ``"auto"`` (the installed implementation with
    the highest priority, if any) or ``"none"`` (skip the stage).
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid")

    compute: ComputeConfig = Field(default_factory=ComputeConfig)
    input: InputConfig = Field(default_factory=InputConfig)
    pdf: PdfConfig = Field(default_factory=PdfConfig)
    rectification: RectificationConfig = Field(default_factory=RectificationConfig)
    detection: DetectionConfig = Field(default_factory=DetectionConfig)
    scripts: ScriptsConfig = Field(default_factory=ScriptsConfig)
    recognition: RecognitionConfig = Field(default_factory=RecognitionConfig)
    orientation: OrientationConfig = Field(default_factory=OrientationConfig)
    ner: NerConfig = Field(default_factory=NerConfig)
    layout: LayoutConfig = Field(default_factory=LayoutConfig)
    templates: TemplatesConfig = Field(default_factory=TemplatesConfig)
    options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Constructor options per implementation name."
    )

    @model_validator(mode="before")
    @classmethod
    def _flat_names(cls, data: Any) -> Any:
        return nest(data) if isinstance(data, dict) else data

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return init_settings, env_settings, _FlatEnvironment(settings_cls), dotenv_settings, file_secret_settings

    def implementation(self, stage: str) -> str:
        """The configured implementation of ``stage`` (``detector``, ``clusterer`` …): a name, auto or none."""
        section, key = STAGE_CHOICE[stage]
        return getattr(getattr(self, section), key)

    def set_by_user(self, section: str, key: str) -> bool:
        """Whether ``section.key`` was given (by file, environment or keyword) rather than defaulted."""
        part = getattr(self, section)
        return section in self.model_fields_set and key in part.model_fields_set

    def updated(self, **overrides: Any) -> "EngineConfig":
        """A copy with ``overrides`` (grouped or flat names) applied over this config, validated."""
        if not overrides:
            return self
        data = merge(self.model_dump(exclude_unset=True), nest(overrides))
        try:
            return type(self).model_validate(data)
        except ValidationError as exc:
            raise KocrConfigError(located_errors(exc, "config", None)) from None

    @classmethod
    def load(cls, path: str | Path | None = None, **overrides: Any) -> "EngineConfig":
        """Defaults ← YAML file ← ``KOCR_*`` environment ← ``overrides``."""
        file_data: dict[str, Any] = {}
        root = None
        if path is not None:
            path = Path(path)
            if not path.exists():
                raise KocrConfigError(f"config file not found: {path}")
            file_data, root = read_yaml_mapping(path, KocrConfigError, "config")
        try:
            env_only = cls()
        except ValidationError as exc:
            raise KocrConfigError("invalid KOCR_* environment variable:\n" + located_errors(exc, "environment", None)) from None
        except SettingsError as exc:  # a dict-valued variable (KOCR_OPTIONS, KOCR_RECOGNIZERS ...) that is not JSON
            raise KocrConfigError(f"invalid KOCR_* environment variable: {_settings_message(exc)}; dict-valued "
                                  "variables take JSON, e.g. KOCR_RECOGNIZERS='{\"latin\": \"vitstr-tiny-latin\"}'") from None
        env_data = env_only.model_dump(exclude_unset=True)
        try:
            return cls(**merge(merge(nest(file_data), env_data), nest(overrides)))
        except ValidationError as exc:
            raise KocrConfigError(located_errors(exc, path or "config", root, _flat_location(file_data))) from None


def _flat_location(file_data: dict[str, Any]):
    """For errors in a file that used flat names: a grouped error location as the file wrote it."""
    flat_of = {where: flat for flat, where in FLAT_NAMES.items() if flat in file_data}

    def relocate(loc: tuple[Any, ...]) -> tuple[Any, ...]:
        if len(loc) >= 2 and (loc[0], loc[1]) in flat_of:
            return (flat_of[(loc[0], loc[1])], *loc[2:])
        return loc

    return relocate


def _settings_message(exc: SettingsError) -> str:
    """pydantic-settings' ``error parsing value for field "recognizers" from source ...`` as KOCR_RECOGNIZERS."""
    text = str(exc)
    if 'for field "' in text:
        name = text.split('for field "', 1)[1].split('"', 1)[0]
        return f"KOCR_{name.upper()} is not valid JSON"
    return text


def resolve_device(requested: Device, cuda_available: bool | None = None) -> str:
    """``auto`` picks CUDA when torch sees a GPU; asking for CUDA without one is an error.

    ``cpu`` asks torch nothing, and without torch installed no GPU is seen: the onnx runtime
    reads pages on a CPU with no torch at all."""
    if requested == "cpu":
        return requested
    if cuda_available is None and requested == "auto" and "torch" not in sys.modules and not _gpu_device_nodes():
        return "cpu"  # no GPU device on this machine: not worth a second of importing torch to be told so
    if cuda_available is None:
        try:
            import torch
        except ImportError:
            cuda_available = False
        else:
            cuda_available = bool(torch.cuda.is_available())
    if requested == "auto":
        return "cuda" if cuda_available else "cpu"
    if requested == "cuda" and not cuda_available:
        raise KocrConfigError("device 'cuda' was requested but torch sees no CUDA GPU; use device 'auto' or 'cpu'")
    return requested


def _gpu_device_nodes() -> bool:
    """Whether the kernel shows a GPU that torch could use: NVIDIA's device nodes or driver, or
    ROCm's ``/dev/kfd``. Where none exists torch sees no CUDA device either."""
    import glob

    return bool(glob.glob("/dev/nvidia[0-9]*") or os.path.exists("/proc/driver/nvidia") or os.path.exists("/dev/kfd"))


def resolve_runtime(requested: str, device: str) -> str:
    """What ``runtime: auto`` means here: onnxruntime on a CPU, where it reads a page in about half
    torch's time (docs/benchmarks.md) and needs no torch, when onnxruntime is installed; torch on a
    GPU or without onnxruntime. ``torch`` and ``onnx`` stand as asked."""
    if requested != "auto":
        return requested
    if device != "cpu":
        return "torch"
    import importlib.util

    return "onnx" if importlib.util.find_spec("onnxruntime") is not None else "torch"
