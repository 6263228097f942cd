"""Turning word crops into the batches the script CNN reads, shared by training and inference.

Crops go through the recogniser's own normalisation
(:func:`kocr_sdk.recognition.preprocess.normalise`): the script identifier must see a crop exactly as the recogniser that it routes to will, or the two disagree
about what a crop looks like (an inverted crop, a squeezed long line). Batches are formed from
crops of similar width, so that little compute is spent on padding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import numpy as np

from ..recognition.preprocess import HEIGHT, batch_arrays, batch_tensors, normalise

if TYPE_CHECKING:  # tensors only on the torch runtime and in training
    import torch

#: Crops wider than this (after scaling to 32 px high) are squeezed to it: a script is told
#: apart within a few characters, and a 48-character line costs no more than 256 px of them.
MAX_WIDTH = 256


def prepare(crop: np.ndarray, max_width: int = MAX_WIDTH) -> np.ndarray:
    """A crop as the model reads it: float32 (32, w), ink ≈ 1, w a multiple of 4."""
    return normalise(crop, HEIGHT, max_width)


def width_batches(images: list[np.ndarray], batch_size: int) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
    """(indices, (B, 1, 32, W) tensor, widths) over ``images`` sorted by width."""
    for idx in _width_order(images, batch_size):
        x, widths = batch_tensors([images[i] for i in idx])
        yield idx, x, widths


def width_batch_arrays(images: list[np.ndarray], batch_size: int) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
    """:func:`width_batches` as numpy arrays (the onnx runtime, no torch)."""
    for idx in _width_order(images, batch_size):
        x, widths = batch_arrays([images[i] for i in idx])
        yield idx, x, widths


def _width_order(images: list[np.ndarray], batch_size: int) -> Iterator[list[int]]:
    """Index lists of up to ``batch_size`` crops of similar width, narrowest first."""
    order = sorted(range(len(images)), key=lambda i: images[i].shape[1])
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]
