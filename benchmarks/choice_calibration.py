"""Calibrate recognisers' confidences on generated crops, and write the per-word choice's config.

Why: ``recognition.choose`` keeps, word by word, the reading most likely right, which needs each
recogniser's confidence mapped to the probability that its reading is right. That map is fitted
here on crops kocr generates in its held-out fonts (``CropGenerator(split="heldout")``, the
``latin`` profile: English words, numbers, dates, amounts ...), never on an evaluation set:

1. ``--n`` crops from seed ``--seed`` (the fit half) and ``--n`` from seed ``--seed + 1`` (the
   test half), each scaled to the engine's 32 px crop height;
2. every recogniser in ``--recognizers`` reads both halves (through ``Engine.read_crops``, as the
   engine reads a page's words);
3. an isotonic map per recogniser on the fit half (:func:`kocr_sdk.recognition.choice.fit`);
4. on the test half: word accuracy of each recogniser alone, of the choice by raw confidence, by
   calibrated confidence, and of an oracle that always keeps a right reading when there is one.

    python benchmarks/choice_calibration.py --recognizers vitstr-tiny-latin ppocr-latin \\
        --config-out benchmarks/configs/choose-latin.yaml --out benchmarks/results/choice-calibration.json

The config it writes names the choice for ``latin`` and ``digits`` words and holds the maps;
``kocr read --config`` / ``kocr eval --config`` take it as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def crops_of(seed: int, n: int, profile: str) -> tuple[list[np.ndarray], list[str]]:
    """``n`` generated crops of held-out fonts, RGB, 32 px high as the engine cuts them."""
    import cv2

    from kocr_sdk.engine import CROP_HEIGHT
    from kocr_sdk.lab.synth.crops import CropGenerator

    gen = CropGenerator(split="heldout", seed=seed, profile=profile)
    images, texts = [], []
    for i in range(n):
        image, label = gen.sample(i)
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
        h, w = image.shape[:2]
        width = max(1, round(w * CROP_HEIGHT / h))
        images.append(cv2.resize(image, (width, CROP_HEIGHT), interpolation=cv2.INTER_AREA if h > CROP_HEIGHT
                                 else cv2.INTER_CUBIC))
        texts.append(label["text"])
    return images, texts


def page_crops_of(seed: int, n: int, capture: str) -> tuple[list[np.ndarray], list[str]]:
    """``n`` Latin and digit word crops cut, as the engine cuts them, from whole generated pages
    in held-out fonts sent through ``capture`` (``scan``: office scans, typewritten and tightly
    spaced pages among them): crops that look like real scans' words, not like the recogniser's
    own training crops."""
    from kocr_sdk.engine import CROP_HEIGHT
    from kocr_sdk.geometry import crop_quad
    from kocr_sdk.lab.synth.pages import PageGenerator

    gen = PageGenerator(split="heldout", seed=seed, capture=capture, rotate_prob=0.0, typewriter_prob=0.3,
                        tight_spacing_prob=0.3)
    images: list[np.ndarray] = []
    texts: list[str] = []
    index = 0
    while len(images) < n:
        image, record = gen.sample(index)
        index += 1
        for word in record["words"]:
            if word.get("script") in ("latin", "digits") and len(images) < n:
                images.append(crop_quad(image, word["poly"], height=CROP_HEIGHT, margin=0.15))
                texts.append(word["text"])
    return images, texts


def read_with(name: str, crops: list[np.ndarray], threads: int) -> tuple[list[str], list[float]]:
    """``name``'s readings of ``crops`` through the engine (detector and script identifier off)."""
    from kocr_sdk import Engine

    engine = Engine(detector="none", script_identifier="none", orientation_check=False, threads=threads,
                    recognizers={"latin": name})
    out = engine.read_crops(crops, scripts=["latin"] * len(crops))
    return ([r.reading.text if r.reading else "" for r in out],
            [float(r.reading.confidence) if r.reading else 0.0 for r in out])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recognizers", nargs="+", required=True, help="registered recogniser names, two or more")
    ap.add_argument("--n", type=int, default=3000, help="crops in each half (fit, test)")
    ap.add_argument("--seed", type=int, default=301, help="seed of the fit half; the test half uses seed + 1")
    ap.add_argument("--profile", default="latin", help="CropGenerator profile the crops are drawn from")
    ap.add_argument("--capture", help="cut the crops from whole generated pages sent through this capture kind "
                                      "(e.g. scan) instead of drawing them with CropGenerator")
    ap.add_argument("--scripts", nargs="+", default=["latin", "digits"], help="scripts the written config chooses for")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--config-out", type=Path, help="write the engine config (choose + calibration) here")
    ap.add_argument("--out", type=Path, help="write the JSON report here")
    args = ap.parse_args(argv)
    if len(args.recognizers) < 2:
        ap.error("name two or more recognisers")

    from kocr_sdk.config import EngineConfig
    from kocr_sdk.errors import KocrError
    from kocr_sdk.interfaces import Reading
    from kocr_sdk.recognition import choice

    try:
        if args.capture:
            halves = {"fit": page_crops_of(args.seed, args.n, args.capture),
                      "test": page_crops_of(args.seed + 1, args.n, args.capture)}
        else:
            halves = {"fit": crops_of(args.seed, args.n, args.profile), "test": crops_of(args.seed + 1, args.n, args.profile)}
        reads: dict[str, dict[str, tuple[list[str], list[float]]]] = {}
        seconds: dict[str, float] = {}
        for name in args.recognizers:
            start = time.perf_counter()
            reads[name] = {half: read_with(name, crops, args.threads) for half, (crops, _) in halves.items()}
            seconds[name] = time.perf_counter() - start
            print(f"{name}: read {2 * args.n} crops in {seconds[name]:.0f} s", file=sys.stderr)
    except KocrError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    fit_truth, test_truth = halves["fit"][1], halves["test"][1]
    calibration = {}
    for name in args.recognizers:
        texts, confs = reads[name]["fit"]
        calibration[name] = choice.fit(confs, [t == g for t, g in zip(texts, fit_truth)])

    def accuracy(picks: list[str]) -> float:
        return round(sum(p == g for p, g in zip(picks, test_truth)) / len(test_truth), 4)

    def chosen(maps: dict) -> list[str]:
        picks = []
        for i in range(len(test_truth)):
            readings = [(n, Reading(text=reads[n]["test"][0][i], confidence=min(1.0, max(0.0, reads[n]["test"][1][i]))))
                        for n in args.recognizers]
            picks.append(choice.choose(readings, maps)[1].text)
        return picks

    report = {
        "crops": {"fit": {"split": "heldout", "seed": args.seed, "n": args.n},
                  "test": {"split": "heldout", "seed": args.seed + 1, "n": args.n},
                  **({"pages_capture": args.capture} if args.capture else {"profile": args.profile}), "height": 32},
        "word_accuracy_test": {
            **{f"{n} alone": accuracy(reads[n]["test"][0]) for n in args.recognizers},
            "choice, raw confidence": accuracy(chosen({})),
            "choice, calibrated": accuracy(chosen(calibration)),
            "oracle (a right reading kept when any is right)": round(sum(
                any(reads[n]["test"][0][i] == g for n in args.recognizers) for i, g in enumerate(test_truth))
                / len(test_truth), 4),
        },
        "seconds_a_crop": {n: round(s / (2 * args.n), 5) for n, s in seconds.items()},
        "calibration": {n: m.model_dump() for n, m in calibration.items()},
    }
    print(json.dumps(report["word_accuracy_test"], indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    if args.config_out:
        import yaml

        config = {"recognition": {"choose": {s: list(args.recognizers) for s in args.scripts},
                                  "calibration": {n: m.model_dump() for n, m in calibration.items()}}}
        EngineConfig.model_validate(config)  # what is written loads
        header = ("# Per-word choice between recognisers for Latin and digit words, written by\n"
                  f"#   python benchmarks/choice_calibration.py --recognizers {' '.join(args.recognizers)} "
                  f"--n {args.n} --seed {args.seed}{f' --capture {args.capture}' if args.capture else ''} "
                  f"--config-out {args.config_out}\n"
                  "# The maps were fitted on generated crops in kocr's held-out fonts, never on evaluation data.\n")
        args.config_out.parent.mkdir(parents=True, exist_ok=True)
        args.config_out.write_text(header + yaml.safe_dump(config, sort_keys=False, default_flow_style=None, width=100))
    return 0


if __name__ == "__main__":
    sys.exit(main())
