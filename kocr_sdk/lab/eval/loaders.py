"""Public datasets into the evaluation JSONL format, so ``kocr eval`` scores them like any page.

Two annotation styles cover most public OCR test sets:

- **FUNSD-style JSON** (FUNSD, and XFUND, which kept its layout): one ``<page>.json`` per image
  holding ``{"form": [{"id", "label", "box", "text", "words": [{"box", "text"}], ...}]}``. Each
  word becomes a word of the page with its entity's ``label`` and ``entity_id``. Words with an
  empty transcription are dropped: a box with no text can be neither read nor scored as text,
  and FUNSD has a few (this is how ``shared/data/funsd-test/gt.jsonl`` was made too).
- **ICDAR-2015-style txt** (ICDAR 2015 incidental text, and the many sets that copied it):
  one ``gt_<page>.txt`` per image, a word a line, ``x1,y1,x2,y2,x3,y3,x4,y4,transcription``
  clockwise from the top-left; the transcription may itself contain commas. ``###`` marks text
  nobody could read: the word is kept with ``ignore: true`` ("don't care"), so that a detector
  finding it is not punished and one missing it is not either (see ``metrics.score_page``).

Scripts are labelled with :func:`kocr_sdk.vocabulary.scripts.script_of`, the rule the predictions are
labelled with. Image paths are written relative to the folder of the JSONL file, which is where
``kocr eval`` looks for them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ...geometry import quad_from_box
from ...io.images import IMAGE_SUFFIXES
from .format import EvalPage, EvalWord, KocrDataError, write_pages
from ...vocabulary.scripts import script_of

DONT_CARE = "###"


def _find_image(stem: str, folders: list[Path]) -> Path | None:
    for folder in folders:
        for suffix in sorted(IMAGE_SUFFIXES):
            for candidate in (folder / f"{stem}{suffix}", folder / f"{stem}{suffix.upper()}"):
                if candidate.is_file():
                    return candidate
    return None


def _image_ref(image: Path | None, stem: str, relative_to: Path | None) -> str:
    if image is None:
        return f"{stem}.png"
    if relative_to is None:
        return str(image)
    return os.path.relpath(image, relative_to)


def _split_dirs(root: Path, annotations: str) -> tuple[Path, list[Path]]:
    """A split folder (``annotations/`` + ``images/``) or the annotation folder itself."""
    root = Path(root)
    if not root.is_dir():
        raise KocrDataError(f"{root}: not a folder of annotations")
    if (root / annotations).is_dir():
        return root / annotations, [root / "images", root]
    return root, [root.parent / "images", root]


def load_funsd(folder: str | Path, images: str | Path | None = None, relative_to: str | Path | None = None) -> list[EvalPage]:
    """Pages of a FUNSD-style folder (``annotations/*.json`` beside ``images/``), sorted by name."""
    ann_dir, image_dirs = _split_dirs(Path(folder), "annotations")
    if images is not None:
        image_dirs = [Path(images)]
    files = sorted(ann_dir.glob("*.json"))
    if not files:
        raise KocrDataError(f"{ann_dir}: no FUNSD-style *.json annotation files")
    pages = []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise KocrDataError(f"{path}: not valid JSON: {exc}") from None
        form = data.get("form") if isinstance(data, dict) else None
        if not isinstance(form, list):
            raise KocrDataError(f'{path}: a FUNSD annotation is an object with a "form" list')
        words = []
        for n, entity in enumerate(form):
            where = f"{path}: form[{n}]"
            if not isinstance(entity, dict) or not isinstance(entity.get("words"), list):
                raise KocrDataError(f'{where}: each entry needs a "words" list')
            for k, word in enumerate(entity["words"]):
                text = str(word.get("text", "")).strip() if isinstance(word, dict) else ""
                if not text:
                    continue
                box = word.get("box")
                if not (isinstance(box, list) and len(box) == 4):
                    raise KocrDataError(f"{where}.words[{k}]: box must be [x0, y0, x1, y1], got {box!r}")
                words.append(EvalWord(
                    text=text, poly=[list(p) for p in quad_from_box(box)], script=script_of(text),
                    label=entity.get("label"), entity_id=entity.get("id", n),
                ))
        image = _find_image(path.stem, image_dirs)
        pages.append(EvalPage(image=_image_ref(image, path.stem, relative_to), words=words, source="FUNSD-style"))
    return pages


def parse_icdar_line(line: str, where: str) -> EvalWord | None:
    """One ``x1,y1,...,x4,y4,transcription`` line as a word (None for a blank line)."""
    line = line.strip().lstrip("\ufeff")
    if not line:
        return None
    parts = line.split(",", 8)
    if len(parts) < 9:
        raise KocrDataError(f"{where}: expected x1,y1,x2,y2,x3,y3,x4,y4,transcription, got {line[:80]!r}")
    try:
        coords = [float(v) for v in parts[:8]]
    except ValueError:
        raise KocrDataError(f"{where}: the first eight values must be numbers, got {','.join(parts[:8])!r}") from None
    text = parts[8]
    poly = [[coords[i], coords[i + 1]] for i in range(0, 8, 2)]
    if text == DONT_CARE:
        return EvalWord(text="", poly=poly, script=None, ignore=True)
    return EvalWord(text=text, poly=poly, script=script_of(text))


def load_icdar15(folder: str | Path, images: str | Path | None = None, relative_to: str | Path | None = None) -> list[EvalPage]:
    """Pages of an ICDAR-2015-style folder of ``gt_<page>.txt`` files; images ``<page>.*`` beside
    them or in ``images``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise KocrDataError(f"{folder}: not a folder of annotations")
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise KocrDataError(f"{folder}: no ICDAR-style gt_*.txt files")
    image_dirs = [Path(images)] if images is not None else [folder, folder.parent / "images"]
    pages = []
    for path in files:
        stem = path.stem[3:] if path.stem.startswith("gt_") else path.stem
        text = path.read_text(encoding="utf-8-sig")
        words = [w for n, line in enumerate(text.splitlines(), 1) if (w := parse_icdar_line(line, f"{path}:{n}"))]
        image = _find_image(stem, image_dirs)
        pages.append(EvalPage(image=_image_ref(image, stem, relative_to), words=words, source="ICDAR-2015-style"))
    return pages


LOADERS = {"funsd": load_funsd, "icdar15": load_icdar15}


def convert(kind: str, folder: str | Path, out: str | Path, images: str | Path | None = None) -> int:
    """Convert a dataset folder to a JSONL file (image paths relative to its folder); returns pages."""
    if kind not in LOADERS:
        raise KocrDataError(f"unknown dataset style {kind!r}; choose one of {', '.join(LOADERS)}")
    out = Path(out)
    pages = LOADERS[kind](folder, images, relative_to=out.parent.resolve())
    return write_pages(out, pages)


def main(argv: list[str] | None = None) -> None:
    """``python -m kocr_sdk.lab.eval.loaders funsd|icdar15 FOLDER OUT.jsonl [--images DIR]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m kocr_sdk.lab.eval.loaders", description=main.__doc__)
    parser.add_argument("kind", choices=sorted(LOADERS))
    parser.add_argument("folder")
    parser.add_argument("out")
    parser.add_argument("--images")
    args = parser.parse_args(argv)
    n = convert(args.kind, args.folder, args.out, args.images)
    print(f"wrote {n} pages to {args.out}")


if __name__ == "__main__":
    main()
