"""The anchor-free detector as the engine's ``anchor-free`` text-detector stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...errors import KocrConfigError
from ...interfaces import Detection, TextDetector
from ...resources import WEIGHTS_DIR
from .inference import (
    InferenceConfig,
    detect_array,
    load_weights,
    to_detection,
)

WEIGHTS_PATH = WEIGHTS_DIR / "detector-anchor-free.safetensors"


class AnchorFreeDetector(TextDetector):
    """One-shot anchor-free detector: word and character boxes, orientation, no NMS.

    Options (engine config ``options: {anchor-free: {...}}``): ``weights`` (a path), ``runtime``
    (``torch`` or ``onnx``; the engine passes its ``runtime`` setting), ``quantize`` (onnx only:
    a static int8 graph but for the full-resolution layers, :mod:`.calibration`; unset, int8
    where the CPU has an int8 dot product, :func:`~kocr_sdk.runtime.cpu.int8_by_default`), any
    field of :class:`InferenceConfig` (``max_side``, ``scale``, ``auto_scale``, ...), and
    ``decode`` (a dict of :class:`~kocr_sdk.detection.anchor_free.decode.DecodeConfig` fields).
    """

    name: ClassVar[str] = "anchor-free"
    priority: ClassVar[int] = 10
    description: ClassVar[str] = "one-shot anchor-free (FCOS-like) words + characters + orientation, no NMS"
    runtimes: ClassVar[tuple[str, ...]] = ("torch", "onnx")

    def __init__(self, device: str = "cpu", weights: str | Path | None = None, runtime: str = "torch",
                 quantize: bool | None = None, **options: Any) -> None:
        super().__init__(device=device, **options)
        path = Path(weights) if weights else WEIGHTS_PATH
        if runtime == "onnx":  # the settings from the header; the network from its graph, no torch
            from ...weights_file import read_meta

            self.meta = read_meta(path, "detector")
        else:
            self.model, self.meta = load_weights(path, device)
        settings = dict(self.meta.get("inference", {}))
        opts = dict(options)
        decode_opts = {**settings.pop("decode", {}), **(opts.pop("decode", None) or {})}
        self.config = InferenceConfig.model_validate({**settings, **opts, "decode": decode_opts})
        self.stride = int(self.meta.get("targets", {}).get("stride", 4))
        if runtime == "onnx":  # the same scaling and decoding around an onnxruntime session
            from ...runtime.cpu import int8_by_default
            from ...runtime.onnx import OnnxModule, graph_path
            from .calibration import detector_quantizer

            if quantize is None:
                quantize = int8_by_default(device)
            quantizer = detector_quantizer(self.meta.get("inference", {})) if quantize else None

            def export() -> Path:  # weights without a shipped graph: exported with torch, cached
                from ...runtime.export import export_detector, exported_graph

                return exported_graph("detector", load_weights(path)[0], export_detector, path, quantizer)

            self.model = OnnxModule(graph_path("detector", [path], export, quantizer), device=device)
        elif quantize:
            raise KocrConfigError("detector option quantize: true needs runtime: onnx (the torch path runs fp32)")

    def detect(self, image: np.ndarray) -> Detection:
        decoded, scale = detect_array(self.model, image, self.config, self.device, self.stride)
        return to_detection(decoded, scale)  # the scale travels in the Detection: no per-call state on the stage
