"""Training a column-patch ViTSTR recogniser on synthetic crops (``kocr train recognizer``).

The data stream is a pure function of (seed, sample index): a worker generating sample ``i``
always renders the same crop, so resuming from a checkpoint that recorded ``samples_seen``
continues the very same stream. Validation uses crops in *held-out fonts* (never trained on)
from a different seed, reported overall and by kind of text.

One process thread for the model and one DataLoader worker for rendering is the fastest split
of two CPU cores (measured: one thread per process beats two threads).

Two ways to use crops nobody labelled (docs/training.md):

- ``init_from:`` starts from another model's weights — the ``hangul`` weights for a ``latin``
  run, or an encoder that ``kocr train recognizer-pretrain`` (SeqCLR, ``training.seqclr``)
  pre-trained on unlabelled crops.
- ``unlabeled:`` adds SeqFixMatch to every step: the model reads a weak view of each unlabelled
  crop; readings sure enough (``pseudo_mask``/``pseudo_threshold``) become CTC targets for a
  strong view of the same crop, weighted by ``unlabeled_weight``. A step then costs about twice
  as much (one more no-grad forward pass and one more training pass over ``unlabeled_ratio``
  times the batch). The log reports the acceptance rate and, where the source knows the texts,
  the pseudo-labels' accuracy.
"""

from __future__ import annotations

import random
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, field_validator
from torch.utils.data import IterableDataset, get_worker_info

from ...recognition.charset import CHARSETS, Charset
from ...recognition.preprocess import HEIGHT, batch_tensors, normalise
from ...recognition.architectures import create_model
from ...recognition.vitstr import greedy_decode
from ...weights_file import read_checkpoint, write_weights
from ...recognition.spec import spec_of
from .base import RunConfig, Trainer
from .run import stream_loader
from .views import DEFAULT_STRONG, OPERATIONS, strong_view

#: RandAugment operations in a strong view, and their strength at most (the view of SeqFixMatch and
#: of ``labeled_augment``): the values every recorded run used. benchmarks/semi_supervised.py varies them.
STRONG_OPS = 2
STRONG_MAGNITUDE = 1.0

StrongView = Callable[[np.ndarray, np.random.Generator], np.ndarray]


class RecognizerTrainConfig(RunConfig):
    """A recogniser training run (YAML-loadable): :class:`RunConfig`'s fields and these."""

    script: str = Field("hangul", description="The crop generator's text profile, and the charset when "
                        "`charset` is unset (kocr_sdk.lab.synth.crops.PROFILES; recognition.charset.CHARSETS).")
    arch: str = "vitstr-tiny"
    charset: str | None = Field(None, description="Charset name; default: the script's own.")
    weight_decay: float = Field(0.05, ge=0)
    warmup_steps: int = Field(500, ge=0)
    total_steps: int = Field(150_000, ge=1, description="Length of the cosine schedule, across all sessions.")
    log_every: int = Field(50, ge=1)
    max_width: int = Field(256, ge=4)
    out: Path = Path("runs/recognizer-hangul")
    data: dict[str, Any] = Field(default_factory=dict, description="Options passed to the crop generator.")
    unlabeled: str | None = Field(
        None, description="SeqFixMatch: a folder of unlabelled crop images, or synth:N (see training.unlabeled).")
    unlabeled_seed: int = 424_242
    unlabeled_ratio: int = Field(1, ge=1, description="μ: unlabelled crops per labelled crop in each step.")
    unlabeled_weight: float = Field(1.0, ge=0, description="λ_u: weight of the unlabelled loss.")
    pseudo_threshold: float = Field(0.9, ge=0, le=1, description="Confidence a pseudo-label needs to be kept.")
    pseudo_mask: Literal["char", "sequence"] = Field(
        "char", description="char: every character's confidence ≥ threshold; sequence: their product ≥ threshold.")
    teacher_ema: float | None = Field(
        None, gt=0, le=1, description="Read the weak views with an exponential moving average of the model (decay, "
        "e.g. 0.999) instead of the model itself: a teacher that drifts slowly does not confirm its own fresh "
        "mistakes, which is how a run on shifted data collapses (docs/training.md). 1.0: a frozen teacher, the "
        "weights the run started from — one the student's pseudo-labels can never make confidently wrong.")
    teacher_views: int = Field(
        1, ge=1, description="SeqFixMatch: weak views of each unlabelled crop the teacher reads; a pseudo-label is "
        "kept only when all of them read the same text (and it passes the threshold). Each view beyond the first "
        "costs one more no-grad forward pass.")
    strong_operations: list[str] = Field(
        default_factory=lambda: list(DEFAULT_STRONG),
        description="The operations the strong view draws from (training.views.OPERATIONS; default: all but "
        "binarize, the set arms recorded before it was added used).")
    labeled_augment: float = Field(
        0.0, ge=0, le=1, description="Share of labelled crops that also get a strong view (the same operations, "
        "count and magnitude): the control that tells what SeqFixMatch owes to its strong view's operations "
        "from what it owes to the unlabelled crops.")
    page_crops: Path | None = Field(
        None, description="A folder of labelled crops cut from generated pages (training.page_crops; "
        "`--labelled-pages` cuts one): a share of the labelled stream is drawn from it instead of the crop generator.")
    page_crops_share: float = Field(0.5, ge=0, le=1, description="Share of labelled crops drawn from `page_crops`.")
    val_page_crops: Path | None = Field(
        None, description="A labelled crop folder cut from held-out pages: each validation also reports word "
        "accuracy on its first `val_size` crops, as kind `page crops` (not counted in `all`).")
    init_from: Path | None = Field(
        None, description="Start a new run from another recogniser's weights (e.g. the hangul weights for a latin "
        "run): matching tensors are copied, and output rows are copied for the tokens both charsets share.")

    @field_validator("strong_operations")
    @classmethod
    def _known_operations(cls, names: list[str]) -> list[str]:
        unknown = [n for n in names if n not in OPERATIONS]
        if unknown or not names:
            raise ValueError(f"strong_operations: unknown {unknown or 'empty list'}; known: {', '.join(OPERATIONS)}")
        return names

    @field_validator("script")
    @classmethod
    def _known_script(cls, name: str) -> str:
        from ..synth.crops import PROFILES

        if name not in PROFILES:
            raise ValueError(f"no crop profile for script {name!r}; known: {', '.join(PROFILES)}")
        return name

    @field_validator("charset")
    @classmethod
    def _known_charset(cls, name: str | None) -> str | None:
        if name is not None and name not in CHARSETS:
            raise ValueError(f"unknown charset {name!r}; known: {', '.join(CHARSETS)}")
        return name

    def strong_view(self) -> StrongView:
        """The strong view of this run's crops (RandAugment over ``strong_operations``)."""
        return partial(strong_view, n=STRONG_OPS, magnitude=STRONG_MAGNITUDE, operations=self.strong_operations)


def _generator(cfg: RecognizerTrainConfig, split: str, seed: int):
    from ..synth.crops import CropGenerator

    return CropGenerator(split=split, seed=seed, profile=cfg.script, **cfg.data)


class CropStream(IterableDataset):
    """Endless batches of (normalised crops, widths, targets, target lengths), from ``start`` on.

    Each worker renders every ``num_workers``-th sample; inside a worker, 4 batches' worth are
    sorted by width before batching so that little compute is spent on padding.
    """

    def __init__(self, cfg: RecognizerTrainConfig, charset: Charset, start: int, strong: StrongView | None = None) -> None:
        self.cfg, self.charset, self.start = cfg, charset, start
        self.strong = strong if strong is not None else cfg.strong_view()

    def sample_index(self, index: int) -> int:
        """The generator's sample for stream position ``index`` (itself: every crop is new)."""
        return index

    def _augment(self, img: np.ndarray, index: int) -> np.ndarray:
        """``labeled_augment``: a strong view of a share of the crops, drawn as a function of the
        crop's index (a resumed run augments the same crops the same way)."""
        cfg = self.cfg
        rng = np.random.default_rng([cfg.seed, index, 7])
        if rng.random() >= cfg.labeled_augment:
            return img
        return self.strong(img, rng)

    def _from_pages(self, index: int) -> bool:
        """Whether stream position ``index`` is a ``page_crops`` crop (a pure function of seed and index)."""
        return random.Random(self.cfg.seed * 7_919 + index).random() < self.cfg.page_crops_share

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, list[str]]]:
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        gen = _generator(self.cfg, "train", self.cfg.seed)
        pages = None
        if self.cfg.page_crops is not None and self.cfg.page_crops_share > 0:
            from .page_crops import LabelledCrops

            pages = LabelledCrops(self.cfg.page_crops)
        bs = self.cfg.batch_size
        index = self.start + wid
        rng = random.Random(self.cfg.seed * 1000 + self.start + wid)
        while True:
            pool = []
            while len(pool) < bs * 4:
                i, index = index, index + nw
                if pages is not None and self._from_pages(i):
                    image, text = pages.item(i)
                else:
                    image, label = gen.sample(self.sample_index(i))
                    text = label["text"]
                try:
                    ids = self.charset.encode(text)
                except ValueError:
                    continue
                img = normalise(image, HEIGHT, self.cfg.max_width)
                if self.cfg.labeled_augment > 0:
                    img = self._augment(img, i)
                frames = img.shape[1] // 4
                if not ids or len(ids) * 2 > frames:  # CTC needs room for blanks between repeats
                    continue
                pool.append((img, ids, text))
            pool.sort(key=lambda s: s[0].shape[1])
            batches = [pool[i:i + bs] for i in range(0, len(pool), bs)]
            rng.shuffle(batches)
            for batch in batches:
                x, widths = batch_tensors([b[0] for b in batch])
                targets = torch.tensor([t for b in batch for t in b[1]], dtype=torch.long)
                lengths = torch.tensor([len(b[1]) for b in batch], dtype=torch.long)
                yield x, widths, targets, lengths, [b[2] for b in batch]


#: The kind of validation crops cut from held-out pages (``val_page_crops``); kept out of ``all``,
#: which stays the generator's held-out crops that every recorded run reported.
PAGE_CROPS = "page crops"


def validation_set(cfg: RecognizerTrainConfig, charset: Charset,
                   data: dict[str, Any] | None = None) -> list[tuple[np.ndarray, str, str]]:
    """Held-out fonts, a different seed: (normalised crop, text, kind). ``data``: generator options
    of the validation crops instead of the training crops' (e.g. a degradation those lack)."""
    from ..synth.crops import CropGenerator

    options = cfg.data if data is None else data
    gen = CropGenerator(split="heldout", seed=cfg.val_seed, profile=cfg.script, **options)
    out = []
    i = 0
    while len(out) < cfg.val_size:
        image, label = gen.sample(i)
        i += 1
        if charset.unknown(label["text"]):
            continue
        out.append((normalise(image, HEIGHT, cfg.max_width), label["text"], label.get("kind", label.get("script", "?"))))
    if cfg.val_page_crops is not None:
        from .page_crops import LabelledCrops

        pages = LabelledCrops(cfg.val_page_crops)
        for i in range(min(cfg.val_size, len(pages))):
            image, text = pages.item(i)
            if text and not charset.unknown(text):
                out.append((normalise(image, HEIGHT, cfg.max_width), text, PAGE_CROPS))
    return out


@torch.no_grad()
def predict(model, charset: Charset, data: list[tuple[np.ndarray, str, str]],
            batch_size: int = 128) -> list[tuple[str, float, list[float]]]:
    """Greedy readings of ``data``'s crops, in its order (batched by width, so little is padding):
    (text, confidence, character confidences) each, as :func:`greedy_decode` gives them."""
    model.eval()
    order = sorted(range(len(data)), key=lambda i: data[i][0].shape[1])
    preds: dict[int, tuple[str, float, list[float]]] = {}
    for s in range(0, len(order), batch_size):
        idx = order[s:s + batch_size]
        x, widths = batch_tensors([data[i][0] for i in idx])
        x, widths = x.to(next(model.parameters()).device), widths.to(next(model.parameters()).device)
        decoded = greedy_decode(model(x, widths), model.frames(widths), charset)
        for i, reading in zip(idx, decoded):
            preds[i] = reading
    model.train()
    return [preds[i] for i in range(len(data))]


def evaluate(model, charset: Charset, data: list[tuple[np.ndarray, str, str]], batch_size: int = 128) -> dict[str, Any]:
    """Word accuracy and CER overall and by kind of text."""
    from rapidfuzz.distance import Levenshtein

    preds = [text for text, _, _ in predict(model, charset, data, batch_size)]
    groups: dict[str, list[tuple[str, str]]] = {}
    for i, (_, gt, kind) in enumerate(data):
        if kind != PAGE_CROPS:
            groups.setdefault("all", []).append((gt, preds[i]))
        groups.setdefault(kind, []).append((gt, preds[i]))
    result = {}
    for name, pairs in groups.items():
        correct = sum(g == p for g, p in pairs)
        edits = sum(Levenshtein.distance(g, p) for g, p in pairs)
        chars = sum(len(g) for g, _ in pairs)
        result[name] = {"n": len(pairs), "word_acc": correct / len(pairs), "cer": edits / max(chars, 1)}
    return result


def pseudo_label_mask(char_confidences: list[list[float]], threshold: float, mode: str = "char") -> list[bool]:
    """Which pseudo-labels to keep: ``char`` keeps a reading whose every character is at least
    ``threshold`` sure (the word confidence kocr reports); ``sequence`` keeps one whose characters'
    confidences multiply to at least ``threshold`` (a long word needs surer letters). Empty
    readings are never kept: "nothing here" is not a label to learn."""
    keep = []
    for confs in char_confidences:
        if not confs:
            keep.append(False)
        elif mode == "char":
            keep.append(min(confs) >= threshold)
        elif mode == "sequence":
            keep.append(float(np.prod(confs)) >= threshold)
        else:
            raise ValueError(f"unknown pseudo-label mask {mode!r}: char or sequence")
    return keep


def fixmatch_loss(model, charset: Charset, weak: torch.Tensor, strong: torch.Tensor, widths: torch.Tensor,
                  texts: list[str | None], threshold: float, mode: str,
                  teacher: torch.nn.Module | None = None,
                  more_weak: list[torch.Tensor] | tuple[torch.Tensor, ...] = ()) -> tuple[torch.Tensor, dict[str, int]]:
    """SeqFixMatch's unlabelled loss for one batch, and counts for the acceptance report.

    The weak view is read without gradients (in eval mode: no dropout in the teacher's reading)
    by ``teacher`` — the model itself unless an EMA copy is given; readings that pass
    ``pseudo_label_mask`` become CTC targets for the strong view. With ``more_weak`` (further
    weak views of the same crops), a reading is kept only if every one of them reads the same
    text: an over-confident teacher is sure of many wrong readings, but seldom of the same
    wrong reading under several views (docs/training.md). The loss is summed over
    the kept crops and divided by *all* crops in the batch, as FixMatch does, so it grows as the
    model grows surer instead of jumping when few crops pass.
    """
    frames = model.frames(widths)
    reader = model if teacher is None else teacher
    was_training = reader.training
    reader.eval()
    with torch.no_grad():
        decoded = greedy_decode(reader(weak, widths), frames, charset)
        votes = [[text for text, _, _ in greedy_decode(reader(view, widths), frames, charset)] for view in more_weak]
    reader.train(was_training)
    keep = pseudo_label_mask([d[2] for d in decoded], threshold, mode)
    keep = [ok and all(vote[i] == decoded[i][0] for vote in votes) for i, ok in enumerate(keep)]
    chosen, targets = [], []
    for i, ok in enumerate(keep):
        if not ok:
            continue
        try:
            ids = charset.encode(decoded[i][0])
        except ValueError:
            continue
        if ids and len(ids) * 2 <= int(frames[i]):
            chosen.append(i)
            targets.append(ids)
    stats = {"total": len(keep), "kept": len(chosen), "known": 0, "correct": 0}
    for i in chosen:
        if texts[i] is not None:
            stats["known"] += 1
            stats["correct"] += int(decoded[i][0] == texts[i])
    if not chosen:
        return strong.new_zeros(()), stats
    idx = torch.tensor(chosen, device=strong.device)
    logits = model(strong[idx], widths[idx]).float()  # CTC in fp32 under a bf16 autocast too
    lengths = torch.tensor([len(t) for t in targets], dtype=torch.long)
    flat = torch.tensor([t for ids in targets for t in ids], dtype=torch.long)
    per_crop = F.ctc_loss(logits.log_softmax(-1).transpose(0, 1), flat, frames[idx].cpu(), lengths,
                          blank=0, reduction="none", zero_infinity=True)
    return (per_crop / lengths.to(per_crop.device)).sum() / len(keep), stats


# SeqFixMatch teachers by name (``kocr train recognizer --teacher``): the settings each stands for.
# ``frozen`` is the one to adapt trained weights with: on the shifted domains measured (heavy blur, fax)
# it was the only teacher that beat training without the unlabelled crops; teachers the student
# updates made it confidently wrong on blur (docs/training.md).
TEACHERS: dict[str, dict[str, Any]] = {
    "frozen": {"teacher_ema": 1.0, "teacher_views": 3, "pseudo_threshold": 0.95, "unlabeled_weight": 3.0},
    "ema": {"teacher_ema": 0.999},
    "self": {"teacher_ema": None, "teacher_views": 1},
}


def ema_teacher(model: torch.nn.Module, state: dict[str, torch.Tensor] | None = None) -> torch.nn.Module:
    """A frozen copy of ``model`` (or of a checkpointed teacher ``state``) for reading weak views."""
    import copy

    teacher = copy.deepcopy(model)
    if state is not None:
        teacher.load_state_dict(state)
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher.eval()


@torch.no_grad()
def update_ema(teacher: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """``teacher ← decay · teacher + (1 − decay) · model``, parameters and buffers alike."""
    for t, m in zip(teacher.state_dict().values(), model.state_dict().values()):
        if t.is_floating_point():
            t.mul_(decay).add_(m.detach(), alpha=1 - decay)
        else:
            t.copy_(m)


# The schedule a run gets when it starts from a finished recogniser of its own script and no config
# file says otherwise: the default (lr 1e-3 on a 150,000-step cosine) is for training from scratch,
# and would shake trained weights hard for the whole of a short run — the shipped weights finished
# at 3e-5, and a restart at 2.7e-4 costs them 3 points for the first 2,000 steps (docs/models.md).
# The adaptation experiments ran this one (docs/training.md).
FINE_TUNE: dict[str, Any] = {"lr": 1e-4, "warmup_steps": 100, "total_steps": 4000}


def _read_init_weights(path: Path) -> tuple[dict[str, Any], str | None]:
    """The payload of an ``init_from`` file and the charset it was trained for — from an export's
    ``meta`` or a checkpoint's top level — with a clear error for anything that is not kocr weights.
    Exports are safetensors; checkpoints and older exports load with ``weights_only=True``, so an
    ``init_from`` file from anywhere never runs code (:mod:`kocr_sdk.weights_file`)."""
    from ...errors import KocrError, KocrModelError

    if not Path(path).is_file():
        raise KocrError(f"init_from: no weights file at {path}")
    try:
        payload = read_checkpoint(path, "weights file or checkpoint")
    except KocrModelError as exc:
        raise KocrModelError(f"init_from: {exc}") from None
    return payload, (payload.get("meta") or {}).get("charset") or payload.get("charset")


def is_trained_recognizer(path: Path, script: str) -> bool:
    """Whether ``path`` holds a whole recogniser for ``script`` (exported weights or a checkpoint),
    not a SeqCLR encoder or another script's recogniser — i.e. whether starting from it is fine-tuning."""
    payload, charset = _read_init_weights(path)
    meta = payload.get("meta") or payload
    return charset == script and "pretrain" not in meta and payload.get("kind") != "seqclr"


def init_from_weights(model: torch.nn.Module, charset: Charset, path: Path) -> dict[str, int]:
    """Copy what fits from another recogniser's weights into a fresh ``model``; return counts.

    Why: a script's recogniser learns the same strokes, baselines and spacing as any other's,
    so a ``latin`` run started from the ``hangul`` encoder reads English from its first step
    instead of relearning vision from noise. Tensors of equal name and shape are copied; the
    output layer, whose rows are charset tokens, gets the rows of the tokens both charsets hold
    (a Latin letter's row in the hangul head is exactly the row it needs). The rest stays at
    its initialisation.
    """
    payload, source_charset = _read_init_weights(path)
    source = {k: v.float() if v.is_floating_point() else v for k, v in payload["model"].items()}
    src_index = CHARSETS[source_charset]().index if source_charset in CHARSETS else {}
    pairs = [(i, src_index[t]) for t, i in charset.index.items() if t in src_index]
    state = model.state_dict()
    copied = skipped = 0
    for name, target in state.items():
        value = source.get(name)
        if value is not None and value.shape == target.shape:
            target.copy_(value)
            copied += 1
        elif value is not None and name.startswith("head.") and value.shape[1:] == target.shape[1:] and pairs:
            for i, j in pairs:
                target[i].copy_(value[j])
            copied += 1
        else:
            skipped += 1
    model.load_state_dict(state)
    return {"copied": copied, "skipped": skipped, "head_rows": len(pairs)}


class RecognizerTrainer(Trainer[RecognizerTrainConfig]):
    """CTC on synthetic crops, plus SeqFixMatch's unlabelled loss when the run has ``unlabeled``.

    Hooks a variant overrides (benchmarks/semi_supervised.py does, for its experiments):
    :meth:`labelled_stream`, :meth:`strong`, :meth:`unlabeled_source`, :meth:`unlabeled_weight_at`
    and :meth:`validation_data`.
    """

    smoothing = 0.98

    def __init__(self, cfg: RecognizerTrainConfig, resume: Path | None = None, progress: bool | None = None) -> None:
        super().__init__(cfg, resume, progress)
        self.charset = CHARSETS[self.cfg.charset or self.cfg.script]()
        self.unlabeled_seen = 0
        self.saved_teacher: dict[str, torch.Tensor] | None = None
        self.teacher: torch.nn.Module | None = None
        self.unlabeled: Iterator | None = None
        self.pseudo = {"total": 0, "kept": 0, "known": 0, "correct": 0}

    def build_model(self) -> torch.nn.Module:
        return create_model(self.cfg.arch, len(self.charset))

    def decays(self, name: str, param: torch.nn.Parameter) -> bool:
        # Learned positions are a table the patches add to, not weights to shrink.
        return param.ndim >= 2 and "pos" not in name

    def start_fresh(self) -> None:
        if self.cfg.init_from is not None:
            report = init_from_weights(self.model, self.charset, self.cfg.init_from)
            self.history.append({"step": 0, "init_from": str(self.cfg.init_from), **report})

    def restore(self, path: Path) -> dict[str, Any]:
        payload = super().restore(path)
        self.unlabeled_seen = int(payload.get("unlabeled_seen", 0))
        self.saved_teacher = payload.get("teacher")
        return payload

    def validation_data(self) -> list[tuple[np.ndarray, str, str]]:
        return validation_set(self.cfg, self.charset)

    def strong(self) -> StrongView:
        """The strong view, of SeqFixMatch's unlabelled crops and of ``labeled_augment``'s."""
        return self.cfg.strong_view()

    def labelled_stream(self, start: int) -> IterableDataset:
        """The labelled crops from stream position ``start`` on."""
        return CropStream(self.cfg, self.charset, start, self.strong())

    def unlabeled_source(self):
        """SeqFixMatch's unlabelled crops (:func:`~.unlabeled.open_unlabeled`)."""
        from .unlabeled import open_unlabeled

        return open_unlabeled(self.cfg.unlabeled, profile=self.cfg.script, seed=self.cfg.unlabeled_seed)

    def unlabeled_weight_at(self, step: int) -> float:
        """λ_u at global step ``step``."""
        return self.cfg.unlabeled_weight

    def batches(self) -> Iterator:
        cfg = self.cfg
        self.ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
        loader = stream_loader(self.labelled_stream(self.samples_seen), cfg.workers)
        self.unlabeled = self._unlabeled_batches()
        self.teacher = ema_teacher(self.model, self.saved_teacher) if self.unlabeled is not None and cfg.teacher_ema else None
        return loader

    def _unlabeled_batches(self) -> Iterator | None:
        """SeqFixMatch's (weak view, strong view, widths, known texts) batches, or None without ``unlabeled``."""
        cfg = self.cfg
        if cfg.unlabeled is None:
            return None
        from .unlabeled import ViewStream
        from .views import weak_view

        stream = ViewStream(self.unlabeled_source(), self.unlabeled_seen, cfg.batch_size * cfg.unlabeled_ratio,
                            weak_view, self.strong(), seed=cfg.seed + 1, max_width=cfg.max_width,
                            extra_a=cfg.teacher_views - 1)
        return iter(stream_loader(stream, cfg.workers))

    def to_device(self, batch: Any) -> Any:
        x, widths, targets, lengths, texts = batch  # targets and lengths stay on the CPU, as CTC wants them
        return x.to(self.device), widths.to(self.device), targets, lengths, texts

    def forward(self, batch: Any) -> torch.Tensor:
        x, widths = batch[:2]
        return self.model(x, widths)

    def loss(self, batch: Any, logits: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        cfg, device = self.cfg, self.device
        _, widths, targets, lengths, _ = batch
        log_probs = logits.float().log_softmax(-1).transpose(0, 1)
        loss = self.ctc(log_probs, targets, self.model.frames(widths), lengths)
        if self.unlabeled is not None:
            weak, strong, u_widths, texts, *more = next(self.unlabeled)
            with self.autocast():
                u_loss, counts = fixmatch_loss(self.model, self.charset, weak.to(device), strong.to(device),
                                               u_widths.to(device), texts, cfg.pseudo_threshold, cfg.pseudo_mask,
                                               self.teacher, [view.to(device) for view in (more[0] if more else [])])
            loss = loss + self.unlabeled_weight_at(self.step) * u_loss
            self.unlabeled_seen += weak.shape[0]
            for k, v in counts.items():
                self.pseudo[k] += v
        return loss, {}

    def after_step(self) -> None:
        if self.teacher is not None and self.cfg.teacher_ema is not None and self.cfg.teacher_ema < 1:
            update_ema(self.teacher, self.model, self.cfg.teacher_ema)

    def log_fields(self) -> dict[str, Any]:
        if self.unlabeled is None:
            return {}
        row = {**_pseudo_report(self.pseudo), "unlabeled": self.unlabeled_seen}
        self.pseudo = dict.fromkeys(self.pseudo, 0)
        return row

    def validate(self, data: list[tuple[np.ndarray, str, str]]) -> dict[str, Any]:
        return evaluate(self.model, self.charset, data)

    def checkpoint_extras(self) -> dict[str, Any]:
        extras: dict[str, Any] = {"charset": self.charset.name, "arch": self.cfg.arch,
                                  "unlabeled_seen": self.unlabeled_seen}
        if self.teacher is not None:
            extras["teacher"] = self.teacher.state_dict()
        return extras

    def export(self, checkpoint: Path, out: Path) -> dict[str, Any]:
        return export_weights(checkpoint, out)


def train(cfg: RecognizerTrainConfig, resume: Path | None = None, progress: bool | None = None) -> dict[str, Any]:
    """Train (or continue training) and return the step, data position and last validation."""
    return RecognizerTrainer(cfg, resume, progress).fit()


def _pseudo_report(counts: dict[str, int]) -> dict[str, float | None]:
    """Acceptance rate of pseudo-labels, and their accuracy where the source knows the text."""
    return {"pseudo_accept": round(counts["kept"] / max(counts["total"], 1), 4),
            "pseudo_acc": round(counts["correct"] / counts["known"], 4) if counts["known"] else None}


def export_weights(checkpoint: Path, out: Path) -> dict[str, Any]:
    """Write the shippable weights (safetensors, :mod:`kocr_sdk.weights_file`): fp16 model,
    architecture, charset, validation figures and the ``stage`` block
    (:class:`~kocr_sdk.recognition.spec.RecognizerSpec`)."""
    payload = read_checkpoint(checkpoint, "recogniser training checkpoint",
                              require=("arch", "charset", "step", "samples_seen"))
    state = {k: v.half() if v.is_floating_point() else v for k, v in payload["model"].items()}
    meta = {"arch": payload["arch"], "charset": payload["charset"], "step": payload["step"],
            "max_width": int(payload.get("config", {}).get("max_width", 256)),
            "samples_seen": payload["samples_seen"], "val": payload["history"][-1] if payload.get("history") else None}
    # The stage block: what the engine builds from this file alone (name, scripts, priority, crop
    # width), so that dropping it into a weights folder serves its scripts with no code.
    meta["stage"] = spec_of(out, meta).model_dump(mode="json")
    write_weights(out, state, meta)  # safetensors: the file others load carries no code
    return meta
