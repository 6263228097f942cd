"""The ``TextDetector`` stage around the CRAFT-style baseline (``detector: craft``).

The same scaling as the anchor-free stage (:func:`~kocr_sdk.detection.anchor_free.inference.detect_array`:
``max_side``, auto-scale to the text height the model was trained for, padding to a multiple
of 32, folded batch norms, channels-last), with CRAFT's decoding (:mod:`.decode`) — so a
comparison of the two measures the detectors, not their plumbing.

Weights are ``kocr_sdk/weights/detector-craft.safetensors``, written by
``kocr_sdk.lab.training.detector.export_weights`` like the anchor-free ones. The stage registers
only when that file exists, and even then ``auto`` never picks it (``auto = False``, priority
below the anchor-free detector): it is the baseline of a comparison, without an orientation
head, and users ask for it by name.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from ...errors import KocrModelError
from ...interfaces import Detection, TextDetector
from ...resources import WEIGHTS_DIR
from ..anchor_free.inference import InferenceConfig, detect_array, load_weights, to_detection
from .decode import CraftDecodeConfig, decode
from .targets import CraftTargetConfig

WEIGHTS_PATH = WEIGHTS_DIR / "detector-craft.safetensors"


class CraftInferenceConfig(InferenceConfig):
    """:class:`~kocr_sdk.detection.anchor_free.inference.InferenceConfig` with CRAFT's decoding settings."""

    decode: CraftDecodeConfig = Field(default_factory=CraftDecodeConfig)  # type: ignore[assignment]


class CraftDetector(TextDetector):
    """CRAFT-style segmentation: region and affinity heatmaps, thresholds, connected components.

    Options (engine config ``options: {craft: {...}}``): ``weights`` (a path), any field of
    :class:`CraftInferenceConfig` (``max_side``, ``scale``, ``auto_scale``, ...), and ``decode``
    (a dict of :class:`~kocr_sdk.detection.craft.decode.CraftDecodeConfig` fields). Orientation
    is always 0: the baseline has no orientation head.
    """

    name: ClassVar[str] = "craft"
    priority: ClassVar[int] = 5  # below the anchor-free detector's 10
    auto: ClassVar[bool] = False
    description: ClassVar[str] = "AS-IS baseline: CRAFT-style region + affinity heatmaps, connected components; no orientation"
    runtimes: ClassVar[tuple[str, ...]] = ("torch",)

    def __init__(self, device: str = "cpu", weights: str | Path | None = None, **options: Any) -> None:
        options.pop("runtime", None)  # torch only
        super().__init__(device=device, **options)
        from .model import ARCHS, create_model  # torch: imported when the stage is built, not registered

        path = Path(weights) if weights else WEIGHTS_PATH
        self.model, self.meta = load_weights(path, device, create=create_model)
        if self.meta.get("arch") not in ARCHS:  # load_weights would have failed already; kept explicit
            raise KocrModelError(f"{path}: not CRAFT weights (arch {self.meta.get('arch')!r})")
        settings = dict(self.meta.get("inference", {}))
        opts = dict(options)
        decode_opts = {**settings.pop("decode", {}), **(opts.pop("decode", None) or {})}
        self.config = CraftInferenceConfig.model_validate({**settings, **opts, "decode": decode_opts})
        targets = CraftTargetConfig.model_validate(self.meta.get("targets", {}))
        self.stride = targets.stride
        self.decoder = partial(decode, sigma=targets.sigma)

    def detect(self, image: np.ndarray) -> Detection:
        decoded, scale = detect_array(self.model, image, self.config, self.device, self.stride, self.decoder)
        return to_detection(decoded, scale)  # the scale travels in the Detection: no per-call state on the stage
