"""Training a text detector on synthetic pages (``kocr train detector``).

Two families train here (:mod:`kocr_sdk.lab.training.detector_families`), chosen by ``arch``: ``afd-*``,
the one-shot anchor-free detector, and ``craft-*``, the CRAFT-style baseline it is compared
with. The family decides the network, the target maps, the loss and the decoding — and the
types of the ``targets``, ``loss`` and ``inference.decode`` settings; the data stream, the
crops and their augmentation, the optimiser, checkpoints and validation are the same for both.

Pages come from ``kocr_sdk.lab.synth.pages.PageGenerator`` on the fly; each is cut into
``crops_per_page`` training crops. The data stream is a pure function of (seed, sample index):
sample ``i`` is crop ``i % crops_per_page`` of page ``i // crops_per_page``, augmented with a
generator seeded by ``(seed, i)``, and batch ``t`` is samples ``[t·B, (t+1)·B)``. DataLoader
workers each build every ``n``-th batch and the loader hands them out in batch order, so the
stream is the same for any number of workers, and resuming from a checkpoint that recorded
``samples_seen`` continues it exactly.

Augmentation, per crop: a scale chosen so that the page's median word height (across the
reading direction) lands log-uniformly in ``text_height_range`` pixels — the sizes the model
must handle at inference, where pages run at ≤ ``inference.max_side`` and auto-scaling moves
stray text sizes back into that range; a crop centred near a random word (``text_focus``) or
anywhere; a rotation by a random multiple of 90° (``rotate_prob``, so every orientation is seen
whatever the generator renders); and colour inversion (``invert_prob``: white text on dark
fills). Boxes cut by the crop edge become "don't care".

Validation runs the real inference path (scaling, padding, decoding — :mod:`kocr_sdk.detection.anchor_free.inference`)
on whole held-out pages in held-out fonts and scores them with :mod:`kocr_sdk.lab.eval`'s matching:
word and character H-mean at IoU ≥ 0.5, page orientation accuracy, duplicate rate.
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
from pydantic import Field, ValidationError, field_validator, model_validator
from torch.utils.data import IterableDataset, get_worker_info

from ...detection.anchor_free.decode import decode
from ...detection.anchor_free.loss import LossConfig
from ...detection.anchor_free.model import PAD_VALUE, normalise
from ...detection.anchor_free.targets import GroundTruth, TargetConfig, collate
from ...detection.craft.loss import CraftLossConfig
from ...detection.craft.stage import CraftInferenceConfig
from ...detection.craft.targets import CraftTargetConfig
from ...detection.anchor_free.inference import Decoder, InferenceConfig, base_scale, detect_array
from .detector_families import DetectorFamily, family_of
from ...weights_file import read_checkpoint, write_weights
from .base import ConfigDeprecation, RunConfig, Trainer, renamed
from .run import Precision, stream_loader

GeneratorFactory = Callable[[str, int], Any]
"""``(split, seed) -> generator`` whose ``.sample(index)`` returns ``(RGB uint8 image, record)``."""


def _amp_precision(amp: Any) -> str:
    if not isinstance(amp, bool):
        raise ValueError(f"amp: true or false, not {amp!r} (better: precision: bf16 or fp32)")
    return "bf16" if amp else "fp32"


class DetectorTrainConfig(RunConfig):
    """A detector training run (YAML-loadable): :class:`RunConfig`'s fields and these.

    Config files written before the shared config keep working: ``amp: true|false`` is read as
    ``precision: bf16|fp32`` and ``val_pages`` as ``val_size``, each with a deprecation note.
    """

    arch: str = Field("afd-slim", description="afd-slim/-tiny/-small: anchor-free; craft-slim/-tiny: the CRAFT baseline.")
    batch_size: int = Field(8, ge=1)
    crop_size: int = Field(512, ge=64, description="Square training crops; a multiple of 32.")
    crops_per_page: int = Field(2, ge=1)
    text_height_range: tuple[float, float] = (10.0, 80.0)
    min_scale: float = 0.15
    max_scale: float = 4.0
    text_focus: float = Field(0.8, ge=0, le=1)
    rotate_prob: float = Field(0.5, ge=0, le=1)
    invert_prob: float = Field(0.05, ge=0, le=1)
    lr: float = Field(2e-3, gt=0)
    total_steps: int = Field(30_000, ge=1, description="Length of the cosine schedule, across all sessions.")
    log_every: int = Field(20, ge=1)
    val_size: int = Field(20, ge=1, description="Whole held-out pages each validation scores.")
    # bf16 on GPUs only (DetectorTrainer.bf16_on_cpu): the shipped detectors trained with it on CUDA, and on
    # a CPU the depthwise convolutions have no bf16 fast path (0.24 s a step either way, docs/training.md).
    precision: Precision = Field("bf16", description="bf16: the forward pass under bfloat16 autocast on CUDA "
                                 "(on a CPU the detector trains in fp32 whatever this says).")
    # Not measured against the shared 1.0: it is the recipe every shipped detector and its resume
    # checkpoints were trained with (docs/models.md), and a continued run keeps its recipe.
    grad_clip: float | None = Field(5.0, gt=0, description="Clip the gradients' global norm to this; null: no clipping.")
    out: Path = Path("runs/detector")
    data: dict[str, Any] = Field(default_factory=dict, description="Options passed to the page generator.")
    init_from: Path | None = Field(
        None, description="Start from another detector's weights or checkpoint whose architecture this one extends "
        "(afd-slim weights for afd-slim-line): every tensor it holds is copied, the new modules keep their "
        "initialisation, and the step and data position continue from it with the learning rate re-warmed.")
    targets: TargetConfig | CraftTargetConfig = Field(default_factory=TargetConfig, description="The family's.")
    loss: LossConfig | CraftLossConfig = Field(default_factory=LossConfig, description="The family's.")
    inference: InferenceConfig | CraftInferenceConfig = Field(default_factory=InferenceConfig,
                                                              description="Scaling, and the family's decoding.")

    @model_validator(mode="before")
    @classmethod
    def _family_settings(cls, data: Any) -> Any:
        """Read ``targets``, ``loss`` and ``inference`` as the settings of ``arch``'s family (a
        YAML mapping fits either family's class only by its keys; defaults differ by family)."""
        if not isinstance(data, dict):
            return data
        data = renamed(renamed(data, "amp", "precision", _amp_precision), "val_pages", "val_size")
        family = family_of(str(data.get("arch", cls.model_fields["arch"].default)))
        data = dict(data)
        for key, kind in (("targets", family.target_config), ("loss", family.loss_config),
                          ("inference", family.inference_config)):
            value = data.get(key)
            if value is None:
                data[key] = kind()
            elif isinstance(value, dict):
                try:
                    data[key] = kind.model_validate(value)
                except ValidationError as exc:  # say which section, and for which family
                    raise ValueError(f"{key} ({family.name} settings): {exc}") from None
        return data

    @model_validator(mode="after")
    def _family_consistent(self) -> "DetectorTrainConfig":
        family = self.family
        for key, kind in (("targets", family.target_config), ("loss", family.loss_config),
                          ("inference", family.inference_config)):
            if type(getattr(self, key)) is not kind:
                raise ValueError(f"{key}: {type(getattr(self, key)).__name__} given, {self.arch} needs {kind.__name__}")
        if self.targets.stride != family.stride(self.arch):
            raise ValueError(f"targets.stride {self.targets.stride}: {self.arch} outputs maps at stride "
                             f"{family.stride(self.arch)}")
        return self

    @property
    def family(self) -> DetectorFamily:
        return family_of(self.arch)

    @field_validator("crop_size")
    @classmethod
    def _multiple_of_32(cls, v: int) -> int:
        if v % 32:
            raise ValueError("crop_size must be a multiple of 32 (the network's deepest stride)")
        return v


def page_generator(split: str, seed: int, **options: Any):
    """The synthetic page generator (imported here so this module loads without it)."""
    from ..synth.pages import PageGenerator

    return PageGenerator(split=split, seed=seed, **options)


def word_heights(gt: GroundTruth) -> np.ndarray:
    """Height of each kept word across its reading direction (the mean of its two side edges)."""
    q = gt.word_quads[~gt.word_ignore]
    if not len(q):
        return np.zeros(0)
    return (np.linalg.norm(q[:, 3] - q[:, 0], axis=1) + np.linalg.norm(q[:, 2] - q[:, 1], axis=1)) / 2


def make_sample(image: np.ndarray, record: dict[str, Any], index: int, cfg: DetectorTrainConfig) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Training crop ``index`` of a page: (RGB uint8 crop, its target maps). Pure in (seed, index)."""
    import cv2

    rng = np.random.default_rng([cfg.seed, index])
    size = cfg.crop_size
    gt = GroundTruth.from_record(record)
    height, width = image.shape[:2]
    heights = word_heights(gt)
    lo, hi = cfg.text_height_range
    if len(heights):
        scale = math.exp(rng.uniform(math.log(lo), math.log(hi))) / max(float(np.median(heights)), 1.0)
    else:
        scale = math.exp(rng.uniform(math.log(0.5), math.log(1.5)))
    scale = min(max(scale, cfg.min_scale), cfg.max_scale)
    region = max(1, round(size / scale))
    scale = size / region

    kept = np.nonzero(~gt.word_ignore)[0]
    if len(kept) and rng.random() < cfg.text_focus:
        q = gt.word_quads[kept[rng.integers(len(kept))]]
        centre = q.mean(axis=0) + rng.uniform(-0.4, 0.4, 2) * region
    else:
        centre = rng.uniform([0, 0], [width, height])
    x0, y0 = int(round(centre[0] - region / 2)), int(round(centre[1] - region / 2))
    patch = np.full((region, region, 3), PAD_VALUE, np.uint8)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + region, width), min(y0 + region, height)
    if sx0 < sx1 and sy0 < sy1:
        patch[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = image[sy0:sy1, sx0:sx1, :3]
    crop = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    gt = gt.affine(scale, -x0 * scale, -y0 * scale)
    if rng.random() < cfg.rotate_prob:
        k = int(rng.integers(1, 4))
        crop = np.ascontiguousarray(np.rot90(crop, k))
        gt = gt.rot90(k, size, size)
    if rng.random() < cfg.invert_prob:
        crop = 255 - crop
    gt = gt.clip(size, size, cfg.targets.min_visible)
    return crop, cfg.family.encode(gt, size, size, cfg.targets)


class PageStream(IterableDataset):
    """Endless batches ``(uint8 images (B, 3, S, S), target maps)`` from batch ``start_batch`` on."""

    def __init__(self, cfg: DetectorTrainConfig, start_batch: int, factory: GeneratorFactory | None = None) -> None:
        self.cfg, self.start_batch, self.factory = cfg, start_batch, factory

    def __iter__(self) -> Iterator[tuple[torch.Tensor, dict[str, torch.Tensor]]]:
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        cfg = self.cfg
        gen = (self.factory or (lambda split, seed: page_generator(split, seed, **cfg.data)))("train", cfg.seed)
        cached: tuple[int, Any] | None = None
        t = self.start_batch + wid
        while True:
            images, maps = [], []
            for i in range(t * cfg.batch_size, (t + 1) * cfg.batch_size):
                page = i // cfg.crops_per_page
                if cached is None or cached[0] != page:
                    cached = (page, gen.sample(page))
                image, record = cached[1]
                crop, target = make_sample(image, record, i, cfg)
                images.append(torch.from_numpy(crop).permute(2, 0, 1))
                maps.append(target)
            yield torch.stack(images), collate(maps)
            t += nw


def validation_set(cfg: DetectorTrainConfig, factory: GeneratorFactory | None = None) -> list[tuple[np.ndarray, dict[str, Any]]]:
    """Whole pages in held-out fonts, from a seed training never uses."""
    gen = (factory or (lambda split, seed: page_generator(split, seed, **cfg.data)))("heldout", cfg.val_seed)
    return [gen.sample(i) for i in range(cfg.val_size)]


@torch.no_grad()
def evaluate(model: torch.nn.Module, pages: list[tuple[np.ndarray, dict[str, Any]]], cfg: InferenceConfig,
             device: str = "cpu", stride: int = 4, decoder: Decoder = decode) -> dict[str, Any]:
    """Word and character H-mean (kocr_sdk.lab.eval matching), orientation accuracy, duplicates, the
    share of pages auto-scale ran a second time (``second_pass_share``: what s/page hides), and
    why words went unmatched (``word_misses`` / ``word_extras``, :mod:`kocr_sdk.lab.eval.errors`).

    ``decoder`` reads the model's maps (the anchor-free decoding by default; another family's
    from :func:`kocr_sdk.lab.training.detector_families.family_of`).
    """
    from ..eval.errors import tally_errors
    from ..eval.format import EvalPage
    from ..eval.matching import iou_matrix
    from ..eval.metrics import figures, score_page, total

    was_training = model.training
    model.eval()
    results, correct, duplicated, gt_words, seconds, rescaled = [], 0, 0, 0, 0.0, 0
    try:
        for n, (image, record) in enumerate(pages):
            start = time.perf_counter()
            decoded, scale = detect_array(model, image, cfg, device, stride, decoder)
            seconds += time.perf_counter() - start
            rescaled += int(scale != base_scale(*image.shape[:2], cfg))
            word_quads, char_quads = decoded.word_quads(), decoded.char_quads()
            pred_words = [{"poly": word_quads[i].tolist(),
                           "chars": [{"poly": char_quads[j].tolist()} for j in decoded.chars_of(i)]}
                          for i in range(len(decoded))]
            gt = EvalPage.model_validate({**record, "image": str(record.get("image", f"val-{n}"))})
            pred = EvalPage(image=gt.image, words=pred_words)
            results.append(score_page(gt, pred))
            correct += int(decoded.orientation == int(record.get("orientation", 0) or 0) % 360)
            kept = [w.poly for w in gt.words if not w.ignore]
            gt_words += len(kept)
            if kept and len(decoded):
                duplicated += int(((iou_matrix(kept, word_quads) >= 0.5).sum(axis=1) >= 2).sum())
    finally:
        model.train(was_training)
    f = figures(total(results))
    misses, extras = tally_errors(results)
    keys = ("word_precision", "word_recall", "word_hmean", "char_precision", "char_recall", "char_hmean")
    out = {k: (round(f[k], 4) if f[k] is not None else None) for k in keys}
    out.update(pages=len(pages), orientation_accuracy=round(correct / max(len(pages), 1), 4),
               duplicate_rate=round(duplicated / max(gt_words, 1), 5),
               seconds_per_page=round(seconds / max(len(pages), 1), 3),
               second_pass_share=round(rescaled / max(len(pages), 1), 3),
               word_misses=misses, word_extras=extras)
    return out


def init_from_weights(model: torch.nn.Module, path: Path) -> dict[str, int]:
    """Copy every tensor of another detector's weights (or resume checkpoint) into ``model``,
    whose architecture extends it; return the counts and the source's step and data position.

    Why: a new head module (``afd-slim-line``'s line context) should start from the shipped
    detector, not from noise — 20,000 steps of training are in the rest of it. Unlike the
    recogniser's ``init_from`` nothing may be left over: a source tensor with no place in the
    model, or of another shape, means the two architectures differ in more than added modules.
    """
    from ...errors import KocrError

    if not Path(path).is_file():
        raise KocrError(f"init_from: no weights file at {path}")
    payload = read_checkpoint(path, "detector weights file or checkpoint")  # never unpickles code
    state = model.state_dict()
    source = payload["model"]
    misfits = [k for k, v in source.items() if k not in state or state[k].shape != v.shape]
    if misfits:
        raise KocrError(f"init_from {path}: {len(misfits)} tensors do not fit {type(model).__name__} "
                        f"(first: {misfits[0]}); it must be an architecture this one extends")
    for name, value in source.items():
        state[name].copy_(value.float() if value.is_floating_point() else value)
    model.load_state_dict(state)
    meta = payload.get("meta") or payload
    return {"copied": len(source), "new": len(state) - len(source), "step": int(meta.get("step", 0)),
            "samples_seen": int(meta.get("samples_seen", 0))}


class DetectorTrainer(Trainer[DetectorTrainConfig]):
    """Crops of synthetic pages, the family's targets and loss; validation on whole held-out pages."""

    # bf16 only where it pays: on a CPU the detector's depthwise convolutions have no bf16 fast path.
    bf16_on_cpu = False

    def __init__(self, cfg: DetectorTrainConfig, resume: Path | None = None, progress: bool | None = None,
                 generator: GeneratorFactory | None = None) -> None:
        super().__init__(cfg, resume, progress)
        self.generator = generator

    def prepare(self) -> None:
        # Before any OpenCV call and before the DataLoader forks: a worker forked after OpenCV has
        # started its thread pool deadlocks in its first parallel call (seen here: cv2.setNumThreads
        # in the worker hung forever).
        import cv2

        cv2.setNumThreads(1)

    def build_model(self) -> torch.nn.Module:
        family = self.cfg.family
        self.criterion = family.criterion(self.cfg.loss)
        self.decoder = family.decoder_for(self.cfg.targets)
        return family.create_model(self.cfg.arch)

    def start_fresh(self) -> None:
        if self.cfg.init_from is not None:
            report = init_from_weights(self.model, self.cfg.init_from)
            self.step, self.samples_seen = report["step"], report["samples_seen"]
            self.history.append({"init_from": str(self.cfg.init_from), **report})
            self.rewarm_from = self.step

    def validation_data(self) -> list[tuple[np.ndarray, dict[str, Any]]]:
        return validation_set(self.cfg, self.generator)

    def batches(self) -> Iterator:
        return stream_loader(PageStream(self.cfg, self.samples_seen // self.cfg.batch_size, self.generator),
                             self.cfg.workers)

    def to_device(self, batch: Any) -> Any:
        images, targets = batch
        return (normalise(images.to(self.device, non_blocking=True)),
                {k: v.to(self.device, non_blocking=True) for k, v in targets.items()})

    def forward(self, batch: Any) -> Any:
        return self.model(batch[0])

    def loss(self, batch: Any, out: Any) -> tuple[torch.Tensor, dict[str, float]]:
        return self.criterion(out, batch[1])

    def validate(self, data: list[tuple[np.ndarray, dict[str, Any]]]) -> dict[str, Any]:
        return evaluate(self.model, data, self.cfg.inference, self.device, self.cfg.targets.stride, self.decoder)

    def checkpoint_extras(self) -> dict[str, Any]:
        return {"arch": self.cfg.arch}

    def export(self, checkpoint: Path, out: Path) -> dict[str, Any]:
        return export_weights(checkpoint, out)


def train(cfg: DetectorTrainConfig, resume: Path | None = None, progress: bool | None = None,
          generator: GeneratorFactory | None = None) -> dict[str, Any]:
    """Train (or continue training) and return the step, data position and last validation.

    ``generator`` replaces the synthetic page generator (``(split, seed) -> object with
    .sample(index)``), e.g. to train on pages read from disk.
    """
    return DetectorTrainer(cfg, resume, progress, generator).fit()


def export_weights(checkpoint: Path, out: Path, inference: InferenceConfig | None = None) -> dict[str, Any]:
    """Write the shippable weights: fp16 state, architecture, target/inference settings, figures.

    ``inference`` replaces the training config's inference settings (scaling and decoding are
    chosen after training, on held-out pages, and travel with the weights).
    """
    payload = read_checkpoint(checkpoint, "detector training checkpoint",
                              require=("config", "arch", "step", "samples_seen"))
    with warnings.catch_warnings():  # a checkpoint's config may use the old key names: no note for those
        warnings.simplefilter("ignore", ConfigDeprecation)
        cfg = DetectorTrainConfig.model_validate(payload["config"])
    if inference is not None:
        cfg = cfg.model_copy(update={"inference": inference})
    state = {k: v.half() if v.is_floating_point() else v for k, v in payload["model"].items()}
    meta = {"arch": payload["arch"], "targets": cfg.targets.model_dump(mode="json"),
            "inference": cfg.inference.model_dump(mode="json"), "step": payload["step"],
            "samples_seen": payload["samples_seen"], "val": payload["history"][-1] if payload.get("history") else None}
    write_weights(out, state, meta)  # safetensors: the file others load carries no code
    return meta
