"""Turning any supported input into RGB uint8 page arrays, or a :class:`KocrInputError`.

Everything a user can hand kocr ends here, so this is where bad input is caught: a missing file,
something that is not an image, a truncated file, a zero-sized array, a decompression bomb. Odd
but valid images (16-bit, CMYK, palette, alpha, EXIF-rotated phone photos) are converted, and
huge ones are downscaled with the scale recorded so that coordinates map back to the original.
"""

from __future__ import annotations

import glob
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from ..errors import KocrInputError
from . import pdf
from .pdf import TextLayer

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp", ".pbm", ".pgm", ".ppm", ".jp2"}
#: What a directory is searched for: images, and PDFs (read with the ``[pdf]`` extra).
INPUT_SUFFIXES = IMAGE_SUFFIXES | {".pdf"}
_GLOB_CHARS = set("*?[")


@dataclass
class PageImage:
    """One page ready for the models: ``image`` is RGB uint8, possibly downscaled by ``scale``."""

    image: np.ndarray
    source: str
    width: int  # of the original
    height: int
    scale: float = 1.0
    text_layer: TextLayer | None = None
    """For a PDF page, the words of its own text layer (empty when it has none); else None."""


def iter_pages(inputs: Any, max_side: int = 4096, max_pixels: int = 500_000_000, dpi: float = 150,
               start: int = 0, stop: int | None = None) -> Iterator[PageImage]:
    """Every page of every input, in order. ``inputs`` is one input or a list of them.

    PDF pages are rasterised at ``dpi``. ``start``/``stop`` pick a range of pages (0-based, stop
    exclusive) counted over each file on its own, so a batch can split one long file in chunks.
    """
    items = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    for item in items:
        for img, source, layer in _open(item, max_pixels, dpi, start, stop):
            page = _prepare(img, source, max_side)
            page.text_layer = layer
            yield page


_Opened = tuple["Image.Image | np.ndarray", str, "TextLayer | None"]


def _open(item: Any, max_pixels: int, dpi: float = 150, start: int = 0, stop: int | None = None) -> Iterator[_Opened]:
    if isinstance(item, np.ndarray):
        yield _check_array(item), "<array>", None
    elif isinstance(item, Image.Image):
        _check_size(item.size, "<PIL image>", max_pixels)
        yield item, "<PIL image>", None
    elif isinstance(item, (bytes, bytearray, memoryview)):
        data = bytes(item)
        if pdf.is_pdf(data):
            yield from pdf.iter_pdf_pages(data, "<bytes>", dpi, start, stop, max_pixels)
        else:
            yield from _open_file(io.BytesIO(data), "<bytes>", max_pixels, start, stop)
    elif isinstance(item, (str, Path)):
        path = Path(item)
        if path.is_dir() or (not path.exists() and _GLOB_CHARS & set(str(item))):
            files = expand_inputs([item])
            for f in files:
                yield from _open_path(f, max_pixels, dpi, start, stop)
        elif not path.exists():
            raise KocrInputError(f"{path}: no such file")
        else:
            yield from _open_path(path, max_pixels, dpi, start, stop)
    else:
        raise KocrInputError(
            f"cannot read a {type(item).__name__} as an image: pass a path, a directory, bytes, a PIL image or a numpy array"
        )


def _open_path(path: Path, max_pixels: int, dpi: float, start: int, stop: int | None) -> Iterator[_Opened]:
    if pdf.is_pdf(path):
        yield from pdf.iter_pdf_pages(str(path), str(path), dpi, start, stop, max_pixels)
    else:
        yield from _open_file(path, str(path), max_pixels, start, stop)


def count_pages(path: str | Path) -> int:
    """Pages in one input file (PDF page tree, TIFF frames, else 1), without decoding any pixels."""
    path = Path(path)
    if not path.exists():
        raise KocrInputError(f"{path}: no such file")
    if pdf.is_pdf(path):
        return pdf.page_count(str(path), str(path))
    try:
        with Image.open(path) as img:
            return int(getattr(img, "n_frames", 1)) if img.format == "TIFF" else 1
    except (UnidentifiedImageError, OSError):
        return 1  # reading it will say what is wrong; a batch counts it as one page meanwhile


def _open_file(fp: Any, source: str, max_pixels: int, start: int = 0, stop: int | None = None) -> Iterator[_Opened]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            old = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None  # we apply our own, configurable limit below
            try:
                img = Image.open(fp)
            finally:
                Image.MAX_IMAGE_PIXELS = old
    except UnidentifiedImageError:
        raise KocrInputError(f"{source}: not an image file kocr can read (PNG, JPEG, TIFF, BMP, GIF, WebP ...)") from None
    except OSError as exc:
        raise KocrInputError(f"{source}: cannot open: {exc}") from None
    _check_size(img.size, source, max_pixels)
    n_frames = getattr(img, "n_frames", 1)
    frames = ImageSequence.Iterator(img) if n_frames > 1 and img.format == "TIFF" else [img]
    for i, frame in enumerate(frames):
        if i < start:
            continue
        if stop is not None and i >= stop:
            break
        try:
            frame.load()
        except (OSError, SyntaxError, ValueError) as exc:
            raise KocrInputError(f"{source}: image data is truncated or corrupt ({exc})") from None
        label = f"{source}#page={i + 1}" if n_frames > 1 and img.format == "TIFF" else source
        yield frame.copy() if n_frames > 1 else frame, label, None


def _check_size(size: tuple[int, int], source: str, max_pixels: int) -> None:
    w, h = size
    if w < 1 or h < 1:
        raise KocrInputError(f"{source}: image has zero size ({w}×{h})")
    if w * h > max_pixels:
        raise KocrInputError(
            f"{source}: image is {w}×{h} = {w * h:,} pixels, above the limit of {max_pixels:,}; "
            "raise max_pixels in the config if the file is trusted"
        )


def _check_array(arr: np.ndarray) -> np.ndarray:
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise KocrInputError(f"<array>: expected shape (H, W), (H, W, 3) or (H, W, 4), got {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise KocrInputError(f"<array>: image has zero size ({arr.shape[1]}×{arr.shape[0]})")
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating) or arr.dtype == bool):
        raise KocrInputError(f"<array>: unsupported dtype {arr.dtype}")
    return arr


def _stretch_to_uint8(arr: np.ndarray) -> np.ndarray:
    """Map a wider-than-8-bit (or float) array onto 0..255, keeping 8-bit data as it is."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    a = arr.astype(np.float64)
    a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = float(a.min()), float(a.max())
    if np.issubdtype(arr.dtype, np.floating) and lo >= 0.0 and hi <= 1.0:
        return (a * 255.0 + 0.5).astype(np.uint8)
    if lo >= 0 and hi <= 255:
        return a.astype(np.uint8)
    if hi <= lo:
        return np.zeros(a.shape, dtype=np.uint8)
    return ((a - lo) * (255.0 / (hi - lo)) + 0.5).astype(np.uint8)


def to_rgb_array(img: Image.Image | np.ndarray) -> np.ndarray:
    """RGB uint8 (H, W, 3) from any PIL mode or array; transparency is composited on white."""
    if isinstance(img, Image.Image):
        if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            arr = np.asarray(img)
        else:
            if img.mode == "P":
                img = img.convert("RGBA")
            if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
                rgba = img.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                img = Image.alpha_composite(background, rgba)
            arr = np.asarray(img.convert("RGB"))
    else:
        arr = img
    if arr.ndim == 3 and arr.shape[2] == 4:
        rgb = _stretch_to_uint8(arr[..., :3]).astype(np.float32)
        alpha = _stretch_to_uint8(arr[..., 3:]).astype(np.float32) / 255.0
        arr = (rgb * alpha + 255.0 * (1 - alpha) + 0.5).astype(np.uint8)
    arr = _stretch_to_uint8(arr)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return np.ascontiguousarray(arr)


def _prepare(img: Image.Image | np.ndarray, source: str, max_side: int) -> PageImage:
    if isinstance(img, Image.Image):
        try:
            img = ImageOps.exif_transpose(img)
        except Exception:  # a broken EXIF block must not cost the page
            pass
        w, h = img.size
        scale = min(1.0, max_side / max(w, h))
        if scale < 1.0:
            factor = int(1 / scale)
            if factor >= 2 and img.mode in ("1", "L", "RGB", "RGBA", "CMYK"):
                img = img.convert("L" if img.mode == "1" else img.mode).reduce(factor)
            target = (max(1, round(w * scale)), max(1, round(h * scale)))
            if img.mode == "P":
                img = img.convert("RGBA")
            img = img.resize(target, Image.Resampling.LANCZOS if img.mode not in ("I;16", "F", "I") else Image.Resampling.BILINEAR)
            scale = target[0] / w
        return PageImage(to_rgb_array(img), source, w, h, scale)
    arr = to_rgb_array(img)
    h, w = arr.shape[:2]
    scale = min(1.0, max_side / max(w, h))
    if scale < 1.0:
        import cv2

        target = (max(1, round(w * scale)), max(1, round(h * scale)))
        arr = cv2.resize(arr, target, interpolation=cv2.INTER_AREA)
        scale = target[0] / w
    return PageImage(arr, source, w, h, scale)


def iter_input_files(inputs: Iterable[str | Path]) -> list[Path]:
    """Expand directories into their image and PDF files (sorted) and keep files as given."""
    out: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.suffix.lower() in INPUT_SUFFIXES))
        elif not p.exists() and _GLOB_CHARS & set(str(item)):
            out.extend(expand_inputs([item]))
        else:
            out.append(p)
    return out


def expand_inputs(inputs: Iterable[str | Path], recursive: bool = False) -> list[Path]:
    """Files named by paths, directories (their images and PDFs, sorted) and globs (``**`` too).

    A directory or glob that yields nothing is an error: a nightly job pointed at an empty or
    mistyped folder must say so rather than report success on zero pages.
    """
    out: list[Path] = []
    for item in inputs:
        text = str(item)
        p = Path(item)
        if p.is_dir():
            pattern = p.rglob("*") if recursive else p.iterdir()
            files = sorted(q for q in pattern if q.is_file() and q.suffix.lower() in INPUT_SUFFIXES)
            if not files:
                raise KocrInputError(f"{p}: directory holds no image files (nor PDFs) ({', '.join(sorted(INPUT_SUFFIXES))})")
            out.extend(files)
        elif p.exists():
            out.append(p)
        elif _GLOB_CHARS & set(text):
            files = sorted(Path(f) for f in glob.glob(text, recursive=True) if Path(f).is_file())
            if not files:
                raise KocrInputError(f"{text}: no file matches this pattern")
            out.extend(files)
        else:
            raise KocrInputError(f"{p}: no such file")
    return out
