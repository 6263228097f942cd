"""Sequence-aligned views of a normalised word crop, for SeqCLR pre-training and SeqFixMatch.

Both methods compare two views of one crop *frame by frame*: SeqCLR pulls the i-th window of
one view towards the i-th window of the other, and SeqFixMatch trains the strong view to read
the sequence the weak view read. That only works if column ``x`` of one view shows what column
``x`` of the other shows. So every operation here keeps the crop's shape (same width, hence the
same number of frames) and moves ink horizontally by a few pixels at most: no flips, no
resizing, no horizontal crops that could drop a letter. "Cropping within bounds" is a shift by
at most the blank margin on the side it moves towards, so no ink leaves the crop.

Crops are float32 (32, W) arrays with ink ≈ 1 and paper 0 (``recognition.preprocess``); every
operation returns the same kind of array, clipped to [0, 1].

``weak_view`` is FixMatch's weak augmentation (a small shift and contrast change);
``strong_view`` is RandAugment for text: ``n`` operations drawn from ``OPERATIONS``, each at a
random strength up to ``magnitude``. SeqCLR uses two strong views.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

#: The most any operation moves a column of ink horizontally, in pixels (one patch is 4).
MAX_SHIFT = 3


def shift(img: np.ndarray, rng: np.random.Generator, m: float) -> np.ndarray:
    """Translate horizontally by up to ``MAX_SHIFT``·m px, never further than the blank margin."""
    cols = np.flatnonzero(img.max(axis=0) > 0.1)
    if cols.size == 0:
        return img
    left, right = int(cols[0]), img.shape[1] - 1 - int(cols[-1])
    limit = int(round(MAX_SHIFT * m))
    dx = int(rng.integers(-min(limit, left), min(limit, right) + 1))
    if dx == 0:
        return img
    out = np.zeros_like(img)
    if dx > 0:
        out[:, dx:] = img[:, :-dx]
    else:
        out[:, :dx] = img[:, -dx:]
    return out


def contrast(img: np.ndarray, rng: np.random.Generator, m: float) -> np.ndarray:
    """Fainter or bolder ink and a greyer paper: ``a·x + b``."""
    a = 1.0 - float(rng.uniform(0, 0.6 * m))
    b = float(rng.uniform(0, 0.25 * m))
    return np.clip(img * a + b, 0.0, 1.0)


def blur(img: np.ndarray, rng: np.random.Generator, m: float) -> np.ndarray:
    sigma = float(rng.uniform(0.3, 0.3 + 1.4 * m))
    return cv2.GaussianBlur(img, (0, 0), sigmaX=sigma, sigmaY=sigma)


def sharpen(img: np.ndarray, rng: np.random.Generator, m: float) -> np.ndarray:
    amount = float(rng.uniform(0.2, 0.2 + 1.3 * m))
    soft = cv2.GaussianBlur(img, (0, 0), sigmaX=1.0)
    return np.clip(img + amount * (img - soft), 0.0, 1.0)


def noise(img: np.ndarray, rng: np.random.Generator, m: float) -> np.ndarray:
    sigma = float(rng.uniform(0.02, 0.02 + 0.2 * m))
    return np.clip(img + rng.normal(0.0, sigma, img.shape).astype(np.float32), 0.0, 1.0)


def affine(img: np.ndarray, rng: np.random.Generator, m: float) -> np.ndarray:
    """A light shear, rotation and vertical scale about the crop's centre (columns stay put on average)."""
    h, w = img.shape
    shear = float(rng.uniform(-0.25, 0.25) * m)
    angle = np.deg2rad(float(rng.uniform(-2.0, 2.0) * m))
    scale_y = 1.0 + float(rng.uniform(-0.15, 0.1) * m)
    cos, sin = np.cos(angle), np.sin(angle)
    linear = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1.0, shear], [0.0, scale_y]])
    centre = np.array([w / 2.0, h / 2.0])
    matrix = np.hstack([linear, (centre - linear @ centre)[:, None]]).astype(np.float32)
    return cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def thickness(img: np.ndarray, rng: np.random.Generator, m: float) -> np.ndarray:
    """Bolder (dilate) or thinner (erode) strokes, as different printers and fonts give."""
    kernel = np.ones((2, 2), np.uint8)
    if m < 0.3:
        return img
    return cv2.dilate(img, kernel) if rng.random() < 0.5 else cv2.erode(img, kernel)


def stripe(img: np.ndarray, rng: np.random.Generator, m: float) -> np.ndarray:
    """A faint horizontal rule through or under the text (form lines, strike-throughs)."""
    out = img.copy()
    row = int(rng.integers(0, img.shape[0]))
    out[row:row + 1 + int(m > 0.6)] = np.maximum(out[row:row + 1 + int(m > 0.6)], float(rng.uniform(0.3, 0.3 + 0.5 * m)))
    return out


def binarize(img: np.ndarray, rng: np.random.Generator, m: float) -> np.ndarray:
    """A black-and-white scan at a lower resolution (a fax, a copier's text mode): scaled down by
    up to 45 %·m, thresholded, scaled back up — strokes become staircases of big pixels, faint ink
    drops out or fills in. Quantisation, as RandAugment's posterize is for photographs; the crop
    keeps its width, so columns stay where they were (to within a pixel of the rounding)."""
    h, w = img.shape
    f = 1.0 - float(rng.uniform(0.0, 0.45 * m))
    small = cv2.resize(img, (max(2, round(w * f)), max(2, round(h * f))), interpolation=cv2.INTER_AREA)
    small = (small > float(rng.uniform(0.35, 0.65))).astype(np.float32)
    interp = cv2.INTER_NEAREST if rng.random() < 0.5 else cv2.INTER_LINEAR
    return cv2.resize(small, (w, h), interpolation=interp)


Operation = Callable[[np.ndarray, np.random.Generator, float], np.ndarray]

OPERATIONS: dict[str, Operation] = {
    "shift": shift, "contrast": contrast, "blur": blur, "sharpen": sharpen, "noise": noise,
    "affine": affine, "thickness": thickness, "stripe": stripe, "binarize": binarize,
}

#: The strong view's operations unless a run names others: every operation but ``binarize``
#: (added later; arms recorded before it drew from these eight).
DEFAULT_STRONG: tuple[str, ...] = ("shift", "contrast", "blur", "sharpen", "noise", "affine", "thickness", "stripe")


def weak_view(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """FixMatch's weak view: a small shift and a small contrast change."""
    return contrast(shift(img, rng, 0.5), rng, 0.3).astype(np.float32)


def strong_view(img: np.ndarray, rng: np.random.Generator, n: int = 2, magnitude: float = 1.0,
                operations: tuple[str, ...] | list[str] = DEFAULT_STRONG) -> np.ndarray:
    """RandAugment for text: ``n`` of ``operations`` (without repeats), each at strength U(0, magnitude)."""
    names = rng.choice(list(operations), size=min(n, len(operations)), replace=False)
    out = img
    for name in names:
        out = OPERATIONS[str(name)](out, rng, float(rng.uniform(0.0, magnitude)))
    return np.ascontiguousarray(out, dtype=np.float32)
