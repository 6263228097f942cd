"""The detector's static int8 graph (``quantize`` on the onnx runtime): which layers, and the
pages that calibrate it.

Which layers: all but the full-resolution ones. The stem and the stride-4 stage see the page at
half and quarter resolution, where int8 activations blur the stroke edges that word boxes are
cut along, and where onnxruntime's int8 depthwise kernels are no faster than fp32. Kept in fp32
(:data:`FULL_RESOLUTION_LAYERS`), the graph read FUNSD's real scans as fp32 does (word H 0.733
against 0.733; all-int8: 0.728, with 6 % more words whose box was too loose) and ran the network
on an A4 page in 0.090 s against 0.106 s all-int8 and 0.142 s fp32, one thread of a VNNI Xeon
(docs/benchmarks.md, "Detector", session 18).

Static quantisation fixes each activation's int8 range ahead of time, from the ranges seen on a
few inputs. Those inputs must look like what the detector meets: whole pages at the scale it
runs them, so they are pages from kocr's own generator — training fonts and a seed of their own,
never the held-out fonts or seeds the detector is measured on — at :func:`~.detector.base_scale`.
The same seed gives the same pages, so every machine calibrates the same graph. Where the
generator cannot run (no fonts installed), the bundled sample page stands in, alone — measured
as good: FUNSD word H 0.733, held-out 0.912 / char H 0.847 (the generated pages: 0.733, 0.914 /
0.845).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import KocrError

#: graph-node name prefixes of the full-resolution layers (the afd backbone's stem and stride-4
#: stage, as torch's exporter names them); a graph without them is quantised whole.
FULL_RESOLUTION_LAYERS = ("/model/stem/", "/model/s4/")
CALIBRATION_PAGES = 8
CALIBRATION_SEED = 8128  # not a seed training, validation or the benchmarks use
SAMPLE_PAGE = Path(__file__).resolve().parents[1] / "data" / "sample_ko.png"


def calibration_images(pages: int = CALIBRATION_PAGES) -> Iterator[np.ndarray]:
    """RGB pages from the generator (training fonts), or the bundled sample page without fonts."""
    try:
        from ..synth.pages import PageGenerator

        generator = PageGenerator(split="train", seed=CALIBRATION_SEED)
    except KocrError:
        from PIL import Image

        with Image.open(SAMPLE_PAGE) as im:
            yield np.asarray(im.convert("RGB"))
        return
    for i in range(pages):
        yield generator.sample(i)[0]


def calibration_feeds(cfg, pages: int = CALIBRATION_PAGES) -> Iterator[dict[str, np.ndarray]]:
    """The detector graph's ``image`` input for each calibration page, prepared as ``run_pass`` does."""
    from .anchor_free.model import normalise
    from .detector import base_scale, prepare

    for image in calibration_images(pages):
        x, _, _ = prepare(image, base_scale(*image.shape[:2], cfg))
        yield {"image": normalise(x.float()).contiguous().numpy()}


def detector_quantizer(inference: dict, pages: int = CALIBRATION_PAGES):
    """A :data:`~kocr_sdk.runtime.onnx.Quantizer` for detector graphs: static int8 calibrated on these pages.

    ``inference`` is the weights' own ``meta["inference"]``, not a stage's options: the cache holds
    one int8 graph per weights file, so the stage and ``kocr export onnx`` must calibrate alike."""
    from ..runtime.onnx import quantize_static_int8
    from .detector import InferenceConfig

    cfg = InferenceConfig.model_validate(inference)

    def quantize(src: Path, dst: Path) -> Path:
        return quantize_static_int8(src, dst, calibration_feeds(cfg, pages), keep_fp32=FULL_RESOLUTION_LAYERS)

    return quantize
