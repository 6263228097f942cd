"""What a recogniser weights file says about the stage it builds.

New files carry a ``stage`` block in their metadata, written by the trainer's export; files
written before weights described themselves get the same description derived from their
charset and architecture (:func:`spec_of`), so both load the same way. The description is the
one source of the stage's settings: the name users put in ``recognizers: {script: name}``, the
scripts it reads, its priority among recognisers of a script, and the crop width it was
trained on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import KocrModelError
from .charset import CHARSET_SCRIPTS


class RecognizerSpec(BaseModel):
    """The ``stage`` block of a recogniser weights file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", description="Registered name (default: the file's stem).")
    scripts: tuple[str, ...] = Field(min_length=1, description="Scripts the weights read.")
    priority: int = Field(0, description="Among recognisers of one script, the highest is chosen by `auto`.")
    auto: bool = Field(True, description="False: used only when named in `recognizers`.")
    description: str = ""
    max_width: int = Field(256, ge=32, description="Widest crop (pixels at height 32) training used; wider "
                           "crops are squeezed to it, since positions past it were never trained.")


#: Files written before weights described themselves: what their architecture implied.
_LEGACY_ARCH = {"crnn-sa": {"priority": -1, "label": "AS-IS baseline: CNN + self-attention + CTC, fp32"}}


def spec_of(path: Path, meta: dict[str, Any]) -> RecognizerSpec:
    """The stage description of a recogniser weights file (its ``stage`` block, or derived)."""
    try:
        if "stage" in meta:
            return RecognizerSpec.model_validate({"name": path.stem, "max_width": meta.get("max_width", 256), **meta["stage"]})
        charset = meta.get("charset")
        if charset not in CHARSET_SCRIPTS:
            raise KocrModelError(f"{path}: recogniser weights with neither a `stage` block nor a known charset "
                                 f"({charset!r})")
        scripts = CHARSET_SCRIPTS[charset]
        arch = str(meta.get("arch"))
        legacy = _LEGACY_ARCH.get(arch, {})
        # Weights that read fewer scripts are the specialists: they win the scripts they share
        # with broader weights (the latin weights win Latin words over the hangul weights').
        priority = legacy.get("priority", 3 - len(scripts))
        label = legacy.get("label", f"{arch}, {charset} charset")
        return RecognizerSpec(name=path.stem, scripts=scripts, priority=priority,
                              description=f"{label}, {charset} weights", max_width=int(meta.get("max_width", 256)))
    except ValidationError as exc:
        raise KocrModelError(f"{path}: invalid `stage` block in the weights' metadata: {exc}") from None
