"""Crop normalisation shared by training and inference, so the two never drift apart.

A crop becomes one channel, ``height`` pixels high with its aspect ratio kept, contrast-stretched
and inverted so that ink is high and paper is 0, and padded with zeros on the right to a width
the batch shares. The valid width travels with it: the model masks padded columns out of
attention, so a word reads the same in any bucket it is padded into.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

HEIGHT = 32


def normalise(crop: np.ndarray, height: int = HEIGHT, max_width: int = 512, patch_width: int = 4) -> np.ndarray:
    """float32 (height, w) with ink ≈ 1 and paper ≈ 0; ``w`` is a multiple of ``patch_width``."""
    gray = crop if crop.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(crop[..., :3]), cv2.COLOR_RGB2GRAY)
    h, w = gray.shape[:2]
    new_w = int(round(w * height / max(h, 1)))
    new_w = max(patch_width, min(max_width, new_w))
    new_w = -(-new_w // patch_width) * patch_width
    interp = cv2.INTER_AREA if h > height else cv2.INTER_LINEAR
    img = cv2.resize(gray, (new_w, height), interpolation=interp).astype(np.float32)
    lo, hi = np.percentile(img, 2), np.percentile(img, 98)
    if hi - lo < 1e-3:
        return np.zeros_like(img)
    img = np.clip((img - lo) / (hi - lo), 0.0, 1.0)
    # Dark text on light paper is the common case; light-on-dark crops are flipped to match it.
    if np.median(img) > 0.5:
        img = 1.0 - img
    return img


def batch_tensors(images: list[np.ndarray], pad_to: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack normalised crops into (B, 1, H, W) zero-padded on the right, and their widths."""
    widths = [im.shape[1] for im in images]
    width = max(widths) if pad_to is None else max(pad_to, max(widths))
    batch = np.zeros((len(images), 1, images[0].shape[0], width), dtype=np.float32)
    for i, im in enumerate(images):
        batch[i, 0, :, : im.shape[1]] = im
    return torch.from_numpy(batch), torch.tensor(widths, dtype=torch.long)
