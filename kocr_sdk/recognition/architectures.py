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

from torch import nn

_BUILDERS: dict[str, Callable[[int], nn.Module]] = {}


def register_architecture(name: str, builder: Callable[[int], nn.Module]) -> None:
    """Make ``create_model(name, n_classes)`` call ``builder(n_classes)``."""
    _BUILDERS[name] = builder


def _builtin() -> dict[str, Callable[[int], nn.Module]]:
    # Imported here, not at module top: the model modules register themselves on import, and
    # this keeps ``import kocr_sdk.recognition`` free of both until a model is wanted.
    from .crnn import model as _crnn  # noqa: F401
    from .vitstr import model as _vitstr  # noqa: F401

    return _BUILDERS


def list_architectures() -> list[str]:
    return sorted(_builtin())


def create_model(arch: str, n_classes: int) -> nn.Module:
    builders = _builtin()
    if arch not in builders:
        raise ValueError(f"unknown recogniser architecture {arch!r}; known: {', '.join(sorted(builders))}")
    return builders[arch](n_classes)
