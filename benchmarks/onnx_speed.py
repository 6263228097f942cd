"""torch against onnxruntime on CPU for the three networks, at the shapes a page gives them.

    python benchmarks/onnx_speed.py [--threads 1] [--repeat 5] [--out benchmarks/results/onnx_speed.json]

Detector: one A4 page at 150 dpi (1248×1760 after padding) through the shipped weights (or a
randomly initialised afd-slim when none ship: the speed is the architecture's, not the
weights'). Recogniser: 64 word crops 32 px high, 40–200 px wide, through the shipped
vitstr-tiny weights — torch fp32, torch dynamic int8 (kocr's default CPU path), ONNX fp32 and
ONNX dynamic int8. Script identifier: the same crops through a randomly initialised script-cnn
(no weights ship yet). Reported: median milliseconds a call, and the largest absolute
difference between the torch and ONNX fp32 outputs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kocr_sdk.runtime.export import export_detector, export_recognizer, export_script_identifier  # noqa: E402
from kocr_sdk.runtime.onnx import OnnxModule, quantize_int8  # noqa: E402


def timed(fn, repeat: int) -> float:
    fn()  # warm-up (first call allocates)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    tmp = Path(tempfile.mkdtemp(prefix="kocr-onnx-"))
    rows = []

    from kocr_sdk.detection.anchor_free import inference as det
    from kocr_sdk.detection.anchor_free.stage import WEIGHTS_PATH as DETECTOR_WEIGHTS
    from kocr_sdk.detection.anchor_free.model import create_model, fuse_batchnorm, normalise

    if DETECTOR_WEIGHTS.exists():
        dmodel, _ = det.load_weights(DETECTOR_WEIGHTS)
        dname = "shipped"
    else:
        dmodel, dname = fuse_batchnorm(create_model("afd-slim").eval()), "random"
    x = normalise(torch.randint(0, 256, (1, 3, 1760, 1248), dtype=torch.uint8)).contiguous(memory_format=torch.channels_last)
    donnx = OnnxModule(export_detector(dmodel, tmp / "det.onnx"), args.threads)
    dmodel = dmodel.to(memory_format=torch.channels_last)
    with torch.inference_mode():
        ref = dmodel(x)
    got = {k: torch.from_numpy(v) for k, v in donnx(x).items()}  # sessions return numpy arrays
    diff = max(float((ref[k] - got[k]).abs().max()) for k in ref)
    with torch.inference_mode():
        rows.append({"model": f"detector ({dname}), A4 150 dpi", "runtime": "torch fp32", "ms": timed(lambda: dmodel(x), args.repeat)})
    rows.append({"model": f"detector ({dname}), A4 150 dpi", "runtime": "onnx fp32", "ms": timed(lambda: donnx(x), args.repeat), "max_abs_diff": diff})

    rng = np.random.default_rng(0)
    widths = sorted(int(w) // 4 * 4 for w in rng.integers(40, 200, 64))
    crops = torch.rand(64, 1, 32, max(widths))
    for i, w in enumerate(widths):
        crops[i, :, :, w:] = 0
    w = torch.tensor(widths)

    from kocr_sdk.recognition.charset import CHARSETS
    from kocr_sdk.recognition import stage as rec
    from kocr_sdk.recognition.vitstr.model import create_model as create_rec

    path = rec.WEIGHTS_DIR / "vitstr-tiny-hangul.safetensors"
    if path.exists():
        rmodel, _, _ = rec.load_weights(path)
        rname = "shipped vitstr-tiny-hangul"
    else:
        rmodel, rname = create_rec("vitstr-tiny", len(CHARSETS["hangul"]())).eval(), "random vitstr-tiny"
    ronnx_path = export_recognizer(rmodel, tmp / "rec.onnx")
    ronnx = OnnxModule(ronnx_path, args.threads)
    rq = OnnxModule(quantize_int8(ronnx_path, tmp / "rec-int8.onnx"), args.threads)
    with torch.inference_mode():
        ref = rmodel(crops, w)
    got = torch.from_numpy(ronnx(crops, w))
    frames = rmodel.frames(w)
    diff = max(float((ref[i, :n] - got[i, :n]).abs().max()) for i, n in enumerate(frames.tolist()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rint8 = torch.ao.quantization.quantize_dynamic(rmodel, {torch.nn.Linear}, dtype=torch.qint8)
    label = f"recogniser ({rname}), 64 crops"
    with torch.inference_mode():
        rows.append({"model": label, "runtime": "torch fp32", "ms": timed(lambda: rmodel(crops, w), args.repeat)})
        rows.append({"model": label, "runtime": "torch int8 (default CPU path)", "ms": timed(lambda: rint8(crops, w), args.repeat)})
    rows.append({"model": label, "runtime": "onnx fp32", "ms": timed(lambda: ronnx(crops, w), args.repeat), "max_abs_diff": diff})
    rows.append({"model": label, "runtime": "onnx int8", "ms": timed(lambda: rq(crops, w), args.repeat)})

    from kocr_sdk.script_id.model import create_model as create_script, fuse_for_inference

    smodel = fuse_for_inference(create_script("script-cnn", 6)).to(memory_format=torch.channels_last)
    sonnx = OnnxModule(export_script_identifier(smodel, tmp / "sid.onnx"), args.threads)
    xs = crops.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        ref = smodel(xs.clone(), w)
    diff = float((ref.softmax(-1) - torch.from_numpy(sonnx(xs, w)).softmax(-1)).abs().max())
    label = "script identifier (random script-cnn), 64 crops"
    with torch.inference_mode():
        rows.append({"model": label, "runtime": "torch fp32", "ms": timed(lambda: smodel(xs.clone(), w), args.repeat)})
    rows.append({"model": label, "runtime": "onnx fp32", "ms": timed(lambda: sonnx(xs, w), args.repeat), "max_abs_diff (probabilities)": diff})

    for r in rows:
        extra = "".join(f"  {k}={v:.2e}" for k, v in r.items() if k.startswith("max_abs"))
        print(f"{r['model']:52s} {r['runtime']:30s} {r['ms']:9.1f} ms{extra}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"threads": args.threads, "repeat": args.repeat, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
