"""Unlabelled word crops for SeqCLR pre-training and SeqFixMatch, and the streams that view them.

Where they come from (``open_unlabeled``):

- ``DIR`` — a folder of crop images (``.png``/``.jpg``/…, searched recursively). If the folder
  holds a ``gt.jsonl`` in ``kocr synth lines`` format, its texts are used *only* to report how
  accurate the pseudo-labels are; training never sees them.
- ``synth:N`` — the first ``N`` crops of the synthetic generator under a seed of its own: how
  the low-label experiments get "100,000 unlabelled crops" without 100,000 files on disk.
- a folder of *page* images becomes a crop folder through ``crop_pages``, which runs kocr's own
  detector (and orientation check) over each page and writes its word crops; it records the
  pages it has finished, so an interrupted run resumes where it stopped.

``ViewStream`` turns a source into endless batches of two views per crop (see ``views``), in
a pure function of (seed, position), so a resumed run continues the very same stream.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from ...errors import KocrError
from ...recognition.preprocess import HEIGHT, batch_tensors, normalise

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


class CropSource:
    """Indexable unlabelled crops: ``item(i)`` → (uint8 image, known text or None). Any ``i`` ≥ 0 is
    valid; sources wrap around, so a stream can run for more steps than there are crops."""

    def __len__(self) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def item(self, index: int) -> tuple[np.ndarray, str | None]:  # pragma: no cover - interface
        raise NotImplementedError


class FolderCrops(CropSource):
    def __init__(self, directory: Path) -> None:
        directory = Path(directory)
        if not directory.is_dir():
            raise KocrError(f"unlabelled crops: {directory} is not a directory")
        self.files = sorted(p for p in directory.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise KocrError(f"unlabelled crops: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) under {directory}")
        self.texts: dict[str, str] = {}
        gt = directory / "gt.jsonl"
        if gt.is_file():
            for line in gt.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    record = json.loads(line)
                    words = record.get("words") or []
                    if len(words) == 1:
                        self.texts[str(directory / record["image"])] = words[0]["text"]

    def __len__(self) -> int:
        return len(self.files)

    def item(self, index: int) -> tuple[np.ndarray, str | None]:
        import cv2

        path = self.files[index % len(self.files)]
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise KocrError(f"unlabelled crops: cannot read {path}")
        return image, self.texts.get(str(path))


class SyntheticCrops(CropSource):
    """The first ``count`` crops of the generator under ``seed`` (a seed no labelled run uses).

    With ``start_data`` and ``ramp``, a curriculum: crop ``i`` comes from a generator with the
    ``start_data`` options (an easier domain) with probability ``1 - i / ramp`` and from the
    ``data`` one otherwise — the same text and font either way, only the degradation differs —
    so a stream moves from the easy domain to the target one over its first ``ramp`` crops. The
    draw is a pure function of (seed, i), so a resumed run sees the same crops.
    """

    def __init__(self, count: int, seed: int = 424_242, split: str = "train", profile: str = "hangul",
                 data: dict[str, Any] | None = None, start_data: dict[str, Any] | None = None, ramp: int = 0) -> None:
        from ..synth.crops import CropGenerator

        if count < 1:
            raise KocrError("unlabelled crops: synth:N needs N ≥ 1")
        self.count, self.seed, self.ramp = count, seed, ramp
        self.generator = CropGenerator(split=split, seed=seed, profile=profile, **dict(data or {}))
        self.start_generator = (CropGenerator(split=split, seed=seed, profile=profile, **dict(start_data))
                                if start_data is not None and ramp > 0 else None)

    def __len__(self) -> int:
        return self.count

    def from_start(self, index: int) -> bool:
        """Whether crop ``index`` is drawn from the curriculum's easier domain."""
        if self.start_generator is None:
            return False
        return random.Random(self.seed * 7_919 + index).random() >= index / self.ramp

    def item(self, index: int) -> tuple[np.ndarray, str | None]:
        generator = self.start_generator if self.from_start(index) else self.generator
        image, label = generator.sample(index % self.count)
        return image, label["text"]


def open_unlabeled(spec: str | Path, profile: str = "hangul", data: dict[str, Any] | None = None,
                   seed: int = 424_242, start_data: dict[str, Any] | None = None, ramp: int = 0) -> CropSource:
    """``synth:N`` or a folder of crop images (see the module docstring); ``start_data`` and
    ``ramp``: the curriculum of :class:`SyntheticCrops` (refused for a folder, which has one domain)."""
    text = str(spec)
    if text.startswith("synth:"):
        try:
            count = int(text.split(":", 1)[1].replace("_", "").replace(",", ""))
        except ValueError:
            raise KocrError(f"unlabelled crops: {text!r} is not synth:N (N a number of crops)") from None
        return SyntheticCrops(count, seed=seed, profile=profile, data=data, start_data=start_data, ramp=ramp)
    if start_data is not None and ramp > 0:
        raise KocrError("unlabelled crops: a curriculum (unlabeled_data_start) needs synth:N, not a folder of crops")
    return FolderCrops(Path(spec))


def cropping_engine() -> Any:
    """kocr's installed detector and orientation check alone (no script identifier, NER,
    clustering or templates): the engine that cuts training crops the way reading cuts them."""
    from ...config import EngineConfig
    from ...engine import Engine

    return Engine(EngineConfig(script_identifier="none", entity_recognizer="none", clusterer="none",
                               template_matcher="none"))


def unfinished(items: list[Any], key: Callable[[Any], str], out: Path, label: str, progress: bool) -> Iterator[Any]:
    """``items`` not yet listed (by ``key``) in ``out/pages.done``, behind a progress bar when
    ``progress``; each is listed there once the caller's work on it is done (the loop comes back
    for the next), so an interrupted cut resumes at the page it was on."""
    out.mkdir(parents=True, exist_ok=True)
    done_file = out / "pages.done"
    done = set(done_file.read_text(encoding="utf-8").splitlines()) if done_file.exists() else set()
    todo = [item for item in items if key(item) not in done]
    iterator: Any = todo
    if progress and todo:
        from ...cli.common import progress as bar

        iterator = bar(todo, len(todo), label, False)
    for item in iterator:
        yield item
        with done_file.open("a", encoding="utf-8") as fh:
            fh.write(f"{key(item)}\n")


def write_crop(target: Path, crop: np.ndarray) -> bool:
    """``crop`` (grey or RGB) written as a PNG at ``target``, atomically; False if it cannot be encoded."""
    import cv2

    from ...atomic import atomic_path

    ok, buf = cv2.imencode(".png", crop if crop.ndim == 2 else crop[:, :, ::-1])
    if not ok:
        return False
    with atomic_path(target, suffix=".png") as tmp:
        tmp.write_bytes(buf.tobytes())
    return True


def crop_pages(pages: Path, out: Path, progress: bool = True, engine: Any = None) -> Path:
    """Cut the word crops out of every page image under ``pages`` with kocr's detector → ``out``.

    Each page's crops are written (atomically) as ``<page-stem>-p<page>-<n>.png``;
    ``out/pages.done`` lists the finished pages, so a second call skips them. ``engine``: an
    :class:`~kocr_sdk.Engine` to cut with (default: :func:`cropping_engine`). Returns ``out``.
    """
    from ...io.images import expand_inputs

    files = expand_inputs([pages], recursive=True)
    if not files:
        raise KocrError(f"unlabelled pages: no images or PDFs under {pages}")
    engine = engine if engine is not None else cropping_engine()
    for path in unfinished(files, str, out, "cropping pages", progress):
        for p, crops in enumerate(engine.word_crops(path)):
            for n, crop in enumerate(crops):
                write_crop(out / f"{path.stem}-p{p}-{n:04d}.png", crop)
    return out


ViewFn = Callable[[np.ndarray, np.random.Generator], np.ndarray]


class ViewStream(IterableDataset):
    """Endless batches ``(view_a, view_b, widths, texts)`` of unlabelled crops from ``start`` on.

    Both views of a crop have its width, so they pad identically and their frames align.
    ``texts`` are the source's known texts (or ``None``), for reporting only. Crops too narrow
    to hold text, or blank, are skipped. Like the labelled stream, a pool of batches is sorted
    by width so that little compute goes to padding. With ``extra_a`` > 0 each batch carries a
    fifth item: a list of that many more ``view_a`` batches (further weak views for a teacher
    that votes, SeqFixMatch's ``teacher_views``).
    """

    def __init__(self, source: CropSource, start: int, batch_size: int, view_a: ViewFn, view_b: ViewFn,
                 seed: int = 0, max_width: int = 256, extra_a: int = 0) -> None:
        self.source, self.start, self.batch_size = source, start, batch_size
        self.view_a, self.view_b, self.seed, self.max_width = view_a, view_b, seed, max_width
        self.extra_a = extra_a

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[str | None]]]:
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        bs = self.batch_size
        index = self.start + wid
        order = random.Random(self.seed * 1000 + self.start + wid)
        while True:
            pool = []
            while len(pool) < bs * 4:
                image, text = self.source.item(index)
                rng = np.random.default_rng([self.seed, index])
                index += nw
                img = normalise(image, HEIGHT, self.max_width)
                if img.shape[1] < 8 or not img.any():
                    continue
                pool.append((self.view_a(img, rng), self.view_b(img, rng), text,
                             [self.view_a(img, rng) for _ in range(self.extra_a)]))
            pool.sort(key=lambda s: s[0].shape[1])
            batches = [pool[i:i + bs] for i in range(0, len(pool), bs)]
            order.shuffle(batches)
            for batch in batches:
                a, widths = batch_tensors([b[0] for b in batch])
                b_, _ = batch_tensors([b[1] for b in batch])
                if not self.extra_a:
                    yield a, b_, widths, [b[2] for b in batch]
                    continue
                extra = [batch_tensors([b[3][k] for b in batch])[0] for k in range(self.extra_a)]
                yield a, b_, widths, [b[2] for b in batch], extra
