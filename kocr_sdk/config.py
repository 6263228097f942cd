"""Engine configuration: a Python object, a YAML file, or ``KOCR_*`` environment variables.

Precedence, highest first: keyword overrides, environment variables, the YAML file, defaults.
Nested keys use ``__`` in the environment (``KOCR_RECOGNIZERS__HANGUL=vitstr-tiny``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from .errors import KocrConfigError
from .yamlio import located_errors, read_yaml_mapping

Device = Literal["auto", "cpu", "cuda"]


class EngineConfig(BaseSettings):
    """Which implementation serves each stage, and how the engine runs them.

    A stage value is a registered name, ``"auto"`` (the installed implementation with the
    highest priority, if any) or ``"none"`` (skip the stage).
    """

    model_config = SettingsConfigDict(env_prefix="KOCR_", env_nested_delimiter="__", extra="forbid")

    device: Device = "auto"
    detector: str = "auto"
    script_identifier: str = "auto"
    recognizers: dict[str, str] = Field(
        default_factory=dict, description="script -> recogniser name; scripts not listed pick automatically."
    )
    script_routes: dict[str, str] = Field(
        default_factory=lambda: {"digits": "latin", "other": "hangul"},
        description="script -> script whose recogniser reads it, when `recognizers` names none for it: "
        "digits go to the Latin weights (more numbers in their training mixture, a smaller charset "
        "to confuse them with); symbols to the Korean weights, whose charset holds the symbols of "
        "Korean documents. A route to a script with no recogniser installed is ignored.",
    )
    default_script: str = Field(
        "hangul", description="Script assumed for every word when no script identifier runs."
    )
    script_fallback_threshold: float = Field(
        0.0, ge=0, le=1, description="Below this script confidence, the top two recognisers both read the word."
    )
    entity_recognizer: str = "auto"
    clusterer: str = "auto"
    template_matcher: str = "auto"
    template: str | None = Field(None, description="Force one template: an id or a YAML path.")
    template_dirs: list[Path] = Field(default_factory=list, description="Extra directories of YAML templates.")
    max_side: int = Field(4096, ge=64, description="Longer image side above which the engine downscales.")
    max_pixels: int = Field(500_000_000, ge=1, description="Images above this many pixels are refused.")
    min_side: int = Field(8, ge=1, description="Images with a shorter side hold no readable text.")
    batch_size: int = Field(64, ge=1)
    crop_margin: float = Field(
        0.15, ge=0, le=1,
        description="Room around each word crop, as a fraction of the word's height on every side.",
    )
    trim_neighbours: bool = Field(
        True,
        description="End a word crop's side margin where a neighbouring word begins, so a recogniser does not "
        "read a letter of the next word (kocr_sdk.geometry.crop_quad).",
    )
    orientation_check: bool = Field(
        True,
        description="Read a few long words both ways up and let the recogniser's confidence decide between the "
        "detector's page orientation and its 180° opposite (kocr_sdk.orientation). Costs one extra "
        "recogniser pass over `orientation_probes` crops per page.",
    )
    orientation_probes: int = Field(16, ge=1, description="Words read both ways up by the orientation check, at most.")
    orientation_first_probes: int = Field(
        4,
        ge=0,
        description="The orientation check reads this many probe words first and the rest only when they "
        "disagree or their mean confidence gain is within `orientation_sure_margin` of zero (0: read all at once).",
    )
    orientation_sure_margin: float = Field(0.3, ge=0.0, le=1.0)
    upright_redetect: bool = Field(
        True,
        description="When the detector finds a page turned sideways (90° or 270°), turn the image upright and "
        "detect again: the detector splits fewer words on upright text. Costs a second detection on sideways "
        "pages only.",
    )
    threads: int | None = Field(None, ge=1, description="torch intra-op threads; None leaves torch's default.")
    runtime: Literal["torch", "onnx"] = Field(
        "torch",
        description="What runs the built-in models: torch, or onnxruntime (the `[onnx]` extra; models are exported "
        "on first use into a cache, or beforehand with `kocr export onnx`). Stages without an ONNX path run on torch.",
    )
    pdf_dpi: float = Field(150, ge=18, le=1200, description="Resolution PDF pages are rasterised at.")
    pdf_text_layer: Literal["report", "use"] = Field(
        "report",
        description="A PDF page with its own text layer: `report` marks it on the Page and reads the pixels anyway; "
        "`use` takes its words from the text layer (detection, script identification and recognition skipped).",
    )
    options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Constructor options per implementation name."
    )

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
        env_data = {k: getattr(env_only, k) for k in env_only.model_fields_set}
        try:
            return cls(**{**file_data, **env_data, **overrides})
        except ValidationError as exc:
            raise KocrConfigError(located_errors(exc, path or "config", root)) from None


def _settings_message(exc: SettingsError) -> str:
    """pydantic-settings' ``error parsing value for field "recognizers" from source ...`` as KOCR_RECOGNIZERS."""
    text = str(exc)
    if 'for field "' in text:
        name = text.split('for field "', 1)[1].split('"', 1)[0]
        return f"KOCR_{name.upper()} is not valid JSON"
    return text


def resolve_device(requested: Device, cuda_available: bool | None = None) -> str:
    """``auto`` picks CUDA when torch sees a GPU; asking for CUDA without one is an error."""
    if cuda_available is None:
        import torch

        cuda_available = bool(torch.cuda.is_available())
    if requested == "auto":
        return "cuda" if cuda_available else "cpu"
    if requested == "cuda" and not cuda_available:
        raise KocrConfigError("device 'cuda' was requested but torch sees no CUDA GPU; use device 'auto' or 'cpu'")
    return requested
