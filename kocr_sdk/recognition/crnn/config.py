"""The CNN baseline's sizes by name: plain data, importable without torch (architecture names
are listed when recogniser weights files are registered, before any network is built)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConvConfig:
    channels: tuple[int, ...] = (64, 128, 256, 256)
    dim: int = 256
    depth: int = 2
    heads: int = 4
    dropout: float = 0.1
    height: int = 32


ARCHS: dict[str, ConvConfig] = {
    "crnn-sa": ConvConfig(),
}
