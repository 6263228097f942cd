"""The detector's static int8 graph (``quantize`` on the onnx runtime): which layers, and the
pages that calibrate it.

Which layers: all but the full-resolution ones. The stem and the stride-4 stage see the page at
half and quarter resolution, where int8 activations blur the stroke edges that word boxes are
cut along, and where onnxruntime's int8 depthwise kernels are no faster than fp32. Kept in fp32
(:data:`FULL_RESOLUTION_LAYERS`), the graph read FUNSD's real scans as fp32 does (word H 0.733
against 0.733; all-int8: 0.728, with 6 % more words whose box was too loose) and ran the network
on an A4 page in 0.090 s against 0.106 s all-int8 and 0.142 s fp32, one thread of a VNNI Xeon.

Static quantisation fixes each activation's int8 range ahead of time, from the ranges seen on a
few inputs. Those inputs must look like what the detector meets: whole pages at the scale it
runs them (:func:`~.detector.base_scale`). By default that is the bundled sample page, so every
machine calibrates the same graph without fonts or a data generator; measured against eight
generated pages it gave the same FUNSD word H (0.733) and held-out word H 0.912 against 0.914.
Users calibrate on their own documents with ``kocr export onnx --quantize --calibration DIR``,
which fits the ranges to what they read (written into the cache, that graph is the one the
``onnx`` runtime then uses).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from ...resources import SAMPLE_PAGE

#: graph-node name prefixes of the full-resolution layers (the afd backbone's stem and stride-4
#: stage, as torch's exporter names them); a graph without them is quantised whole.
FULL_RESOLUTION_LAYERS = ("/model/stem/", "/model/s4/")
CALIBRATION_PAGES = 8


def calibration_images(source: str | Path | None = None, pages: int = CALIBRATION_PAGES) -> Iterator[np.ndarray]:
    """RGB pages to calibrate on: the first ``pages`` pages under ``source`` (a folder or file of
    images or PDFs), or the bundled sample page."""
    from ...io import iter_pages

    found = 0
    for page in iter_pages(str(source) if source is not None else SAMPLE_PAGE, max_side=1 << 30):
        yield page.image
        found += 1
        if found >= pages:
            return


def calibration_feeds(cfg, source: str | Path | None = None,
                      pages: int = CALIBRATION_PAGES) -> Iterator[dict[str, np.ndarray]]:
    """The detector graph's ``image`` input for each calibration page, prepared as ``run_pass`` does."""
    from .inference import base_scale, normalise_array, prepare_array

    for image in calibration_images(source, pages):
        x, _, _ = prepare_array(image, base_scale(*image.shape[:2], cfg))
        yield {"image": normalise_array(x)}


def detector_quantizer(inference: dict, source: str | Path | None = None, pages: int = CALIBRATION_PAGES):
    """A :data:`~kocr_sdk.runtime.onnx.Quantizer` for detector graphs: static int8 calibrated on ``source``'s pages.

    ``inference`` is the weights' own ``meta["inference"]``, not a stage's options: the cache holds
    one int8 graph per weights file, so the stage and ``kocr export onnx`` must calibrate alike."""
    from ...runtime.onnx import quantize_static_int8
    from .inference import InferenceConfig

    cfg = InferenceConfig.model_validate(inference)

    def quantize(src: Path, dst: Path) -> Path:
        return quantize_static_int8(src, dst, calibration_feeds(cfg, source, pages), keep_fp32=FULL_RESOLUTION_LAYERS)

    return quantize
