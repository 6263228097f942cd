"""Running a detector network on a page: scaling, padding, decoding, and loading weights files.

Every detector family's stage (:mod:`.anchor_free.stage`, :mod:`.craft.stage`) runs through
this module. A page goes through the network at a scale chosen for it, and its boxes come back in the pixels
of the image the engine passed in:

1. **Scale.** Pages are shrunk so that their long side is at most ``max_side`` (1792: an A4 page
   at 150 dpi, 1240×1754, runs at full size; at 300 dpi at half size). With ``auto_scale``, the
   median height of the words found (across their reading direction) is then checked: when it
   lies outside ``text_height_range`` — pixels at the network's input the model was trained
   for — the page is run once more at the scale that brings it to ``target_text_height``
   (never beyond ``max_upscaled_side``). Typical pages take one pass; a phone photo of a
   receipt with 6-pixel digits, or a poster with 200-pixel letters, takes two.
2. **Network.** The image is padded with white to a multiple of 32, run in channels-last
   memory layout with its batch norms folded into the convolutions (measured at A4 size: 1.5×
   faster than the training graph on 1 CPU thread, 2.7× on 2), and decoded
   (:mod:`.anchor_free.decode`).

A weights file holds the fp16 state and a ``meta`` dict with the architecture, the target and
inference settings, and the validation figures (:mod:`kocr_sdk.weights_file`); a stage is
registered only when its shipped file exists (:mod:`kocr_sdk.default_plugins.detection`).
``run_pass`` and ``detect_array`` take the decoder of the weights' family, so that every
family shares this scaling.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ...errors import KocrModelError
from ...interfaces import DetectedChar, DetectedWord, Detection
from ...weights_file import read_weights
from .constants import PAD_VALUE
from .decode import DecodeConfig, Decoded, decode

if TYPE_CHECKING:  # torch is imported only on the torch runtime
    import torch

    from .model import AnchorFreeNet


class InferenceConfig(BaseModel):
    """How a page is scaled and decoded (defaults come with the weights; stage options override)."""

    model_config = ConfigDict(extra="forbid")

    max_side: int = Field(1792, ge=64, description="Long side of the page at the network's input, at most.")
    scale: float | None = Field(None, gt=0, description="A fixed scale instead of max_side and auto_scale.")
    auto_scale: bool = True
    text_height_range: tuple[float, float] = (12.0, 64.0)
    target_text_height: float = 28.0
    max_upscaled_side: int = 2560
    min_side: int = Field(64, description="Pages are never shrunk below this short side.")
    decode: DecodeConfig = Field(default_factory=DecodeConfig)


def prepare_array(image: np.ndarray, scale: float) -> tuple[np.ndarray, int, int]:
    """RGB uint8 (H, W, 3) → (H', W', 3) uint8 at ``scale``, padded with white to a multiple of
    32; and the unpadded ``(h, w)``."""
    import cv2

    h0, w0 = image.shape[:2]
    h, w = max(1, round(h0 * scale)), max(1, round(w0 * scale))
    if (h, w) != (h0, w0):
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    ph, pw = -h % 32, -w % 32
    if ph or pw:
        image = cv2.copyMakeBorder(image, 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    return np.ascontiguousarray(image), h, w


def normalise_array(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 → the network's (1, 3, H, W) float32 input, as :func:`.model.normalise`
    computes it (``(x - 127.5) / 64`` in float32: both steps exact, so bit-identical)."""
    x = np.ascontiguousarray(image.transpose(2, 0, 1)[None]).astype(np.float32)
    x -= np.float32(127.5)
    x /= np.float32(64.0)
    return x


def prepare(image: np.ndarray, scale: float) -> tuple[torch.Tensor, int, int]:
    """:func:`prepare_array` as a (1, 3, H', W') uint8 tensor in channels-last layout (the torch runtime)."""
    import torch

    array, h, w = prepare_array(image, scale)
    # HWC memory *is* channels-last NCHW: no copy
    return torch.from_numpy(array).permute(2, 0, 1)[None], h, w


def text_height(decoded: Decoded) -> float | None:
    """Median height of the decoded words across their reading direction, or None without words."""
    if not len(decoded):
        return None
    return float(np.median(decoded.text_heights()))


Decoder = Callable[[Any, int, int, Any, int], Decoded]
"""``(maps, height, width, decode config, stride) -> Decoded``: how a detector family reads its
maps (a dict of torch tensors or numpy arrays; :func:`.anchor_free.decode.decode` by default;
:mod:`.craft` brings its own)."""


def run_pass(model: Any, image: np.ndarray, scale: float, cfg: InferenceConfig, device: str = "cpu",
             stride: int = 4, decoder: Decoder = decode) -> Decoded:
    """One forward pass and decoding at ``scale``; boxes in the pixels of ``image``.

    ``model`` is a torch module, or an onnxruntime stand-in (``takes_arrays``) that runs with no
    torch: then the page goes in as a plain NCHW numpy array and the maps come back as arrays."""
    array, h, w = prepare_array(image, scale)
    if getattr(model, "takes_arrays", False):
        decoded = decoder(model(normalise_array(array)), h, w, cfg.decode, stride)
        return decoded.scaled(1.0 / scale)
    import torch

    from .model import normalise

    with torch.inference_mode():
        # Laid out channels-last while still uint8 (a quarter of the bytes to move): torch's
        # convolutions run fastest that way. HWC memory *is* channels-last NCHW: no copy.
        x = torch.from_numpy(array).permute(2, 0, 1)[None].contiguous(memory_format=torch.channels_last)
        out = model(normalise(x.to(device)))
        decoded = decoder(out, h, w, cfg.decode, stride)
    return decoded.scaled(1.0 / scale)


def base_scale(height: int, width: int, cfg: InferenceConfig) -> float:
    if cfg.scale is not None:
        return cfg.scale
    scale = min(1.0, cfg.max_side / max(height, width))
    return max(scale, min(1.0, cfg.min_side / min(height, width)))


def detect_array(model: Any, image: np.ndarray, cfg: InferenceConfig, device: str = "cpu",
                 stride: int = 4, decoder: Decoder = decode) -> tuple[Decoded, float]:
    """Detect on an RGB page; returns the decoding (original pixels) and the scale it ran at."""
    h, w = image.shape[:2]
    scale = base_scale(h, w, cfg)
    decoded = run_pass(model, image, scale, cfg, device, stride, decoder)
    if cfg.scale is None and cfg.auto_scale:
        height = text_height(decoded)
        lo, hi = cfg.text_height_range
        if height is not None and height > 0 and not (lo <= height * scale <= hi):
            wanted = cfg.target_text_height / height
            wanted = min(wanted, cfg.max_upscaled_side / max(h, w))
            wanted = max(wanted, min(1.0, cfg.min_side / min(h, w)))
            if abs(math.log(wanted / scale)) > math.log(1.25):
                scale = wanted
                decoded = run_pass(model, image, scale, cfg, device, stride, decoder)
    return decoded, scale


def to_detection(decoded: Decoded, scale: float | None = None) -> Detection:
    """The engine's ``Detection`` (quads in reading order) from decoded boxes.

    Built with ``model_construct``: the values are floats and 4-point tuples by construction, and
    validating a dense page's ~4,000 boxes one by one would cost more than decoding them (~120 ms
    against ~25 ms on a 900-word page).
    """
    word_quads = decoded.word_quads().tolist()
    char_quads = decoded.char_quads().tolist()
    char_scores = decoded.char_scores.tolist()
    chars_by_word: list[list[DetectedChar]] = [[] for _ in range(len(decoded))]
    for j, owner in enumerate(decoded.char_word.tolist()):
        chars_by_word[owner].append(DetectedChar.model_construct(quad=_quad(char_quads[j]), confidence=char_scores[j]))
    words = [DetectedWord.model_construct(quad=_quad(q), confidence=score, chars=chars)
             for q, score, chars in zip(word_quads, decoded.word_scores.tolist(), chars_by_word)]
    return Detection.model_construct(words=words, orientation=int(decoded.orientation),
                                     orientation_confidence=decoded.orientation_confidence,
                                     scale=None if scale is None else float(scale))


def _quad(points: list[list[float]]):
    return tuple((x, y) for x, y in points)


def load_weights(path: Path, device: str = "cpu",
                 create: Callable[[str], torch.nn.Module] | None = None) -> tuple[AnchorFreeNet, dict[str, Any]]:
    """(model ready for inference, meta) from a file written by ``training.detector.export_weights``;
    ``create`` builds the network of ``meta["arch"]`` (another family's constructor for its weights;
    default: the anchor-free one). Needs torch."""
    import torch

    from .model import create_model, fuse_batchnorm

    create = create or create_model
    state, meta = read_weights(path, "detector")  # safetensors (or an older .pt, weights only): never code
    try:
        model = create(meta["arch"])
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise KocrModelError(f"{path}: not valid detector weights ({type(exc).__name__}: {exc})") from None
    model.eval()
    fuse_batchnorm(model)
    model.to(device).to(memory_format=torch.channels_last)
    return model, meta
