"""ViTSTR with column patches: the TO-BE recogniser kocr ships (the design is in docs/)."""

from .model import ARCHS, ColumnViT, create_model
from .decode import greedy_decode

__all__ = ["ColumnViT", "ARCHS", "create_model", "greedy_decode"]
