"""Recogniser architectures by name (timm style): one registry, one constructor.

Every architecture maps ``(B, 1, 32, W)`` normalised crops and their valid widths to
``(B, T, classes)`` CTC logits and says, through ``frames(widths)``, how many of the ``T``
frames are valid — so the trainer, the decoder and the inference stage treat them all alike.
``forward`` is ``head(features(x, widths))``: the encoder's frame sequence is reachable on its
own, which is what SeqCLR pre-training trains.
A weights file records its architecture's name; ``create_model`` rebuilds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .crnn.config import ARCHS as CONV_ARCHS
from .vitstr.config import ARCHS as VIT_ARCHS

if TYPE_CHECKING:  # the networks are torch modules; listing their names needs no torch
    from torch import nn

_BUILDERS: dict[str, Callable[[int], nn.Module]] = {}


def register_architecture(name: str, builder: Callable[[int], nn.Module]) -> None:
    """Make ``create_model(name, n_classes)`` call ``builder(n_classes)`` (a plugin's own network)."""
    _BUILDERS[name] = builder


def _builtin() -> dict[str, Callable[[int], nn.Module]]:
    # Imported here, not at module top, to keep ``import kocr_sdk.recognition`` free of torch
    # models until one is wanted. The families hand over their sizes; they never import this
    # module, so the registry depends on them and not the other way round.
    from .crnn import model as crnn
    from .vitstr import model as vitstr

    return {**crnn.builders(), **vitstr.builders(), **_BUILDERS}


def list_architectures() -> list[str]:
    """Every architecture's name, without building or importing a network (the built-in families'
    size tables and the registered builders): recognisers are registered from weights files this way
    even where torch is not installed."""
    return sorted({*CONV_ARCHS, *VIT_ARCHS, *_BUILDERS})


def create_model(arch: str, n_classes: int) -> nn.Module:
    builders = _builtin()
    if arch not in builders:
        raise ValueError(f"unknown recogniser architecture {arch!r}; known: {', '.join(sorted(builders))}")
    return builders[arch](n_classes)
