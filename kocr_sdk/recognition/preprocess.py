"""Crop normalisation shared by training and inference, so the two never drift apart.

A crop becomes one channel, ``height`` pixels high with its aspect ratio kept, contrast-stretched
and inverted so that ink is high and paper is 0, and padded with zeros on the right to a width
the batch shares. The valid width travels with it: the model masks padded columns out of
attention, so a word reads the same in any bucket it is padded into.

Speed: the definition (``normalise_reference``) spends most of its ~190 µs per crop in the Python
overhead of two ``np.percentile`` calls and an ``np.median`` — more than a small model needs per
crop. A uint8 crop stays uint8 through ``cv2.resize``, so every statistic it needs is an order
statistic of at most 256 distinct values: one ``bincount`` gives them all. ``normalise``
repeats numpy's ``linear`` percentile step by step (float64 virtual index, float32 lerp, the
``t >= 0.5`` branch) and takes the median over the two middle values after the same float32
transform, so its result is bit-identical — ``tests/test_recognition.py`` checks it on
thousands of crops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:  # batches become tensors only on the torch runtime
    import torch

HEIGHT = 32


def _resized_gray(crop: np.ndarray, height: int, max_width: int, patch_width: int) -> np.ndarray:
    """One channel, ``height`` high, aspect kept, width a multiple of ``patch_width`` (≤ ``max_width``);
    the dtype is the crop's (a uint8 crop stays uint8, which the fast path relies on)."""
    gray = crop if crop.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(crop[..., :3]), cv2.COLOR_RGB2GRAY)
    h, w = gray.shape[:2]
    new_w = int(round(w * height / max(h, 1)))
    new_w = max(patch_width, min(max_width, new_w))
    new_w = -(-new_w // patch_width) * patch_width
    interp = cv2.INTER_AREA if h > height else cv2.INTER_LINEAR
    return cv2.resize(gray, (new_w, height), interpolation=interp)


def normalise_reference(crop: np.ndarray, height: int = HEIGHT, max_width: int = 512, patch_width: int = 4) -> np.ndarray:
    """The definition of :func:`normalise`, in numpy statistics; any dtype. ``normalise`` takes
    a faster, bit-identical path for uint8 crops (the usual case) and this one for the rest."""
    img = _resized_gray(crop, height, max_width, patch_width).astype(np.float32)
    lo, hi = np.percentile(img, 2), np.percentile(img, 98)
    if hi - lo < 1e-3:
        return np.zeros_like(img)
    img = np.clip((img - lo) / (hi - lo), 0.0, 1.0)
    # Dark text on light paper is the common case; light-on-dark crops are flipped to match it.
    if np.median(img) > 0.5:
        img = 1.0 - img
    return img


def _neighbours(n: int, q: int) -> tuple[int, int, float]:
    """Sorted positions numpy's ``linear`` percentile interpolates between, and the weight."""
    virtual = (n - 1) * np.true_divide(q, 100)  # float64, as numpy computes it
    if virtual >= n - 1:
        return n - 1, n - 1, 0.0  # both ends the maximum: the weight does not matter
    below = np.floor(virtual)
    return int(below), int(below) + 1, float(virtual - below)


def _lerp(a: np.float32, b: np.float32, t: float) -> np.float32:
    """numpy's ``_lerp`` on float32 bounds and a (weak) Python-float weight."""
    diff = b - a
    if t >= 0.5:
        return np.float32(b - diff * np.float32(1 - t))
    return np.float32(a + diff * np.float32(t))


def normalise(crop: np.ndarray, height: int = HEIGHT, max_width: int = 512, patch_width: int = 4) -> np.ndarray:
    """float32 (height, w) with ink ≈ 1 and paper ≈ 0; ``w`` is a multiple of ``patch_width``.

    For uint8 crops the statistics come from one histogram instead of ``np.percentile`` and
    ``np.median`` (see the module docstring): the output is bit-identical to
    :func:`normalise_reference`, ~4× faster.
    """
    if crop.dtype != np.uint8:
        return normalise_reference(crop, height, max_width, patch_width)
    small = _resized_gray(crop, height, max_width, patch_width)
    n = small.size
    cum = np.cumsum(np.bincount(small.ravel(), minlength=256))
    i2, j2, t2 = _neighbours(n, 2)
    i98, j98, t98 = _neighbours(n, 98)
    middle = (n // 2, n // 2) if n % 2 else (n // 2 - 1, n // 2)
    # the k-th smallest value is the first grey level whose cumulative count exceeds k
    stats = np.searchsorted(cum, [i2, j2, i98, j98, *middle], side="right").astype(np.float32)
    lo, hi = _lerp(stats[0], stats[1], t2), _lerp(stats[2], stats[3], t98)
    img = small.astype(np.float32)
    if hi - lo < 1e-3:
        return np.zeros_like(img)
    scale = hi - lo
    # np.median: the mean of the two middle values (float32 sum, then halved) of the image as
    # normalised below; the transform is monotone, so they are the transformed middle values
    mids = np.clip((stats[4:] - lo) / scale, 0.0, 1.0)
    median = (mids[0] + mids[1]) / np.float32(2)
    img = np.clip((img - lo) / scale, 0.0, 1.0)
    if median > 0.5:
        img = 1.0 - img
    return img


def batch_arrays(images: list[np.ndarray], pad_to: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stack normalised crops into (B, 1, H, W) float32 zero-padded on the right, and their int64 widths."""
    widths = [im.shape[1] for im in images]
    width = max(widths) if pad_to is None else max(pad_to, max(widths))
    batch = np.zeros((len(images), 1, images[0].shape[0], width), dtype=np.float32)
    for i, im in enumerate(images):
        batch[i, 0, :, : im.shape[1]] = im
    return batch, np.asarray(widths, dtype=np.int64)


def batch_tensors(images: list[np.ndarray], pad_to: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`batch_arrays` as torch tensors (the torch runtime and training)."""
    import torch

    batch, widths = batch_arrays(images, pad_to)
    return torch.from_numpy(batch), torch.from_numpy(widths)
