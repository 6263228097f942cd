"""Labelled word crops cut from generated pages, exactly as the engine cuts them when it reads.

Why: the crop generator renders one word and degrades the crop. A word on a photographed
thermal receipt has been through the whole page's capture (perspective, curl, fading, shadow,
JPEG) and then through kocr's own rectification, detector box and crop cut, whose box may stop
short of the word's end or take in a neighbour's edge. A recogniser fine-tuned on such crops
learns the conditions it reads users' photographs under, which no single-word renderer gives.

The pages come from ``kocr synth pages`` (training fonts, a seed no evaluation set uses); their
``gt.jsonl`` gives each word's true text and box. Each detected word that matches a true word at
IoU ≥ ``min_iou`` becomes one crop labelled with that word's text: a box that misses too much of
its word is left out rather than taught as if it held the whole word.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import KocrDataError, KocrError
from ..eval.format import iter_pages
from .unlabeled import CropSource, cropping_engine, unfinished, write_crop

#: Detected words whose box overlaps its true word less than this are not used (the evaluation's
#: matching threshold is 0.5; a little stricter keeps crops that hold most of their word).
MIN_IOU = 0.6


def cut_labelled_crops(pages: Path, out: Path, min_iou: float = MIN_IOU, progress: bool = True,
                       engine: Any = None) -> Path:
    """Cut the labelled word crops of every generated page under ``pages`` → ``out``.

    ``pages`` holds one or more folders of pages with a ``gt.jsonl`` in kocr's evaluation format
    (``kocr synth pages`` writes one; so can anyone who labels their own pages), searched
    recursively; an image path that leads outside ``pages`` is refused. Crops are written as PNG
    with ``out/gt.jsonl`` in the format of ``kocr synth lines`` (one word a record);
    ``out/pages.done`` lists the finished pages, so a second call resumes where the first stopped. ``engine``: an :class:`~kocr_sdk.Engine` to cut with
    (default: :func:`~.unlabeled.cropping_engine`). Returns ``out``.
    """
    from ..eval.matching import match_polygons

    pages = Path(pages)
    records = [(gt.parent, page) for gt in sorted(pages.rglob("gt.jsonl")) for page in iter_pages(gt)]
    if not records:
        raise KocrError(f"labelled pages: no gt.jsonl (the evaluation format, as kocr synth pages writes it) "
                        f"under {pages}")
    for folder, page in records:
        if not (folder / page.image).resolve().is_relative_to(pages.resolve()):
            raise KocrDataError(f"{folder / 'gt.jsonl'}: image {page.image!r} lies outside {pages}")
    engine = engine if engine is not None else cropping_engine()
    for folder, record in unfinished(records, lambda r: str(r[0] / r[1].image), out, "cutting labelled crops",
                                     progress):
        path = folder / record.image
        stem = "-".join(path.relative_to(pages).with_suffix("").parts)
        truth = [w for w in record.words if not w.ignore and w.text.strip()]
        page, crops = next(engine.cut_words(path))  # an image of the evaluation format is one page
        lines = []
        for g, p, _ in match_polygons([w.poly for w in truth], [w.quad for w in page.words], min_iou).pairs:
            name = f"{stem}-{p:04d}.png"
            if crops[p].size and write_crop(out / name, crops[p]):
                lines.append(json.dumps({"image": name, "words": [{"text": truth[g].text}],
                                         "script": truth[g].script}, ensure_ascii=False))
        with (out / "gt.jsonl").open("a", encoding="utf-8") as fh:
            fh.writelines(f"{line}\n" for line in lines)
    return out


class LabelledCrops(CropSource):
    """The crops of a ``gt.jsonl`` crop folder with their texts: ``item(i)`` → (image, text).

    Every ``gt.jsonl`` under the folder counts (crops cut from several sets of pages into
    folders of their own are one source). Any ``i`` ≥ 0 is valid. Index ``i`` is spread over the folder by a fixed multiplicative
    hash, so consecutive indices (one training batch) come from different pages rather than
    one page's neighbouring words.
    """

    def __init__(self, directory: Path) -> None:
        directory = Path(directory)
        files = sorted(directory.rglob("gt.jsonl")) if directory.is_dir() else []
        if not files:
            raise KocrError(f"labelled crops: no gt.jsonl under {directory}")
        self.items: list[tuple[Path, str]] = []
        for gt in files:
            for line in gt.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    record = json.loads(line)
                    words = record.get("words") or []
                    if len(words) == 1 and words[0].get("text"):
                        self.items.append((gt.parent / record["image"], words[0]["text"]))
        if not self.items:
            raise KocrError(f"labelled crops: no one-word crops listed under {directory}")

    def __len__(self) -> int:
        return len(self.items)

    def item(self, index: int) -> tuple[np.ndarray, str | None]:
        import cv2

        path, text = self.items[(index * 2_654_435_761) % len(self.items)]
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise KocrError(f"labelled crops: cannot read {path}")
        return image, text
