"""Turning any supported input into RGB uint8 page arrays, or a :class:`KocrInputError`.

Everything a user can hand kocr ends here, so this is where bad input is caught: a missing file,
something that is not an image, a truncated file, a zero-sized array, a decompression bomb. Odd
but valid images (16-bit, CMYK, palette, alpha, EXIF-rotated phone photos) are converted, and
huge ones are downscaled with the scale recorded so that coordinates map back to the original.

Every frame's size is read from its header and checked against kocr's own ``max_pixels`` before
a pixel is decoded; Pillow's process-wide limit is neither relied on nor touched (threads share
it). A page far over ``max_side`` is decoded reduced, so peak memory follows the page kocr keeps.
"""

from __future__ import annotations

import glob
import io
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from ..errors import KocrInputError
from . import pdf
from .pdf import TextLayer

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp", ".pbm", ".pgm", ".ppm", ".jp2"}
#: What a directory is searched for: images, and PDFs (read with the ``[pdf]`` extra).
INPUT_SUFFIXES = IMAGE_SUFFIXES | {".pdf"}
_GLOB_CHARS = set("*?[")
#: The Pillow formats kocr reads (those of :data:`IMAGE_SUFFIXES`; MPO is how phones store JPEG
#: photos). Nothing else is handed to Pillow, whatever the file's bytes claim.
PIL_FORMATS = frozenset({"PNG", "JPEG", "MPO", "TIFF", "BMP", "DIB", "GIF", "WEBP", "PPM", "JPEG2000"})


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
        for img, source, layer in _open(item, max_pixels, dpi, start, stop, max_side):
            page = img if isinstance(img, PageImage) else _prepare(img, source, max_side)
            page.text_layer = layer
            yield page


_Opened = tuple["Image.Image | np.ndarray | PageImage", str, "TextLayer | None"]


def _open(item: Any, max_pixels: int, dpi: float = 150, start: int = 0, stop: int | None = None,
          max_side: int = 4096) -> Iterator[_Opened]:
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
            yield from _open_file(data, "<bytes>", max_pixels, max_side, start, stop)
    elif isinstance(item, (str, Path)):
        path = Path(item)
        if path.is_dir() or (not path.exists() and _GLOB_CHARS & set(str(item))):
            files = expand_inputs([item])
            for f in files:
                yield from _open_path(f, max_pixels, dpi, start, stop, max_side)
        elif not path.exists():
            raise KocrInputError(f"{path}: no such file")
        else:
            yield from _open_path(path, max_pixels, dpi, start, stop, max_side)
    else:
        raise KocrInputError(
            f"cannot read a {type(item).__name__} as an image: pass a path, a directory, bytes, a PIL image or a numpy array"
        )


def _open_path(path: Path, max_pixels: int, dpi: float, start: int, stop: int | None,
               max_side: int = 4096) -> Iterator[_Opened]:
    if pdf.is_pdf(path):
        yield from pdf.iter_pdf_pages(str(path), str(path), dpi, start, stop, max_pixels)
    else:
        yield from _open_file(path, str(path), max_pixels, max_side, start, stop)


def count_pages(path: str | Path) -> int:
    """Pages in one input file (PDF page tree, TIFF frames, else 1), without decoding any pixels."""
    path = Path(path)
    if not path.exists():
        raise KocrInputError(f"{path}: no such file")
    if pdf.is_pdf(path):
        return pdf.page_count(str(path), str(path))
    try:
        with open(path, "rb") as fh, _identify(fh) as img:
            return int(getattr(img, "n_frames", 1)) if img.format == "TIFF" else 1
    except Exception:  # noqa: BLE001 - hostile bytes: reading the file will say what is wrong
        return 1  # a batch counts it as one page meanwhile


def _identify(fp: IO[bytes]) -> ImageFile.ImageFile:
    """``Image.open`` on an open binary file, without Pillow's decompression-bomb check.

    kocr applies its own, configurable ``max_pixels`` to every frame before decoding, so Pillow's
    fixed limit must not refuse (or warn about) a file kocr accepts. Switching that limit off means
    writing ``Image.MAX_IMAGE_PIXELS``, a process-wide global that other threads read, so instead the
    registered format plugins are asked directly, in the order ``Image.open`` asks them.

    Only the raster formats of :data:`PIL_FORMATS` are asked: Pillow also knows formats whose
    plugins run other programs (EPS hands the file to Ghostscript), which an untrusted upload
    must never reach.
    """
    fp.seek(0)
    prefix = fp.read(16)
    tried: set[str] = set()
    for loader in (Image.preinit, Image.init):
        loader()
        for fmt in list(Image.ID):
            if fmt in tried or fmt not in Image.OPEN or fmt not in PIL_FORMATS:
                continue
            tried.add(fmt)
            factory, accept = Image.OPEN[fmt]
            try:
                result = accept(prefix) if accept else True
                if not result or isinstance(result, str):
                    continue
                fp.seek(0)
                return factory(fp, "")
            except (SyntaxError, IndexError, TypeError, struct.error):
                continue  # not this format; Image.open moves on the same way
    raise UnidentifiedImageError("cannot identify image file")


def _open_file(src: Path | bytes, source: str, max_pixels: int, max_side: int = 4096, start: int = 0,
               stop: int | None = None) -> Iterator[_Opened]:
    """Pages of an image file: every frame's size is checked from its header before any decoding.

    A TIFF's frames are its pages; other formats give their first frame. Each page is decoded and
    turned into a :class:`PageImage` before the next frame is looked at, so one frame's pixels are
    held at a time and a huge frame is decoded reduced where the format allows.
    """
    try:
        fh: IO[bytes] = open(src, "rb") if isinstance(src, Path) else io.BytesIO(src)
    except OSError as exc:
        raise KocrInputError(f"{source}: cannot open: {exc}") from None
    with fh:
        try:
            img = _identify(fh)
        except UnidentifiedImageError:
            raise KocrInputError(f"{source}: not an image file kocr can read (PNG, JPEG, TIFF, BMP, GIF, WebP ...)") from None
        except Image.DecompressionBombError as exc:
            raise KocrInputError(f"{source}: Pillow refuses to decode an image this large ({exc}); "
                                 "convert it to PNG or TIFF, or split it") from None
        except Exception as exc:  # noqa: BLE001 - a plugin choking on hostile header bytes
            raise KocrInputError(f"{source}: cannot open: the image header is corrupt ({type(exc).__name__}: {exc})") from None
        with img:
            multi = img.format == "TIFF"
            try:
                n_frames = int(getattr(img, "n_frames", 1)) if multi else 1
            except Exception as exc:  # noqa: BLE001 - a broken chain of TIFF directories
                raise KocrInputError(f"{source}: the TIFF's list of pages is corrupt ({type(exc).__name__}: {exc})") from None
            multi = multi and n_frames > 1
            frames = range(start, n_frames if stop is None else min(stop, n_frames))
            for i in frames:  # sizes first: a bomb in any frame refuses the file before decoding
                _seek(img, i, source, n_frames)
                _check_size(img.size, source, max_pixels, f"frame {i + 1} of {n_frames}" if multi else "image")
            for i in frames:
                _seek(img, i, source, n_frames)
                label = f"{source}#page={i + 1}" if multi else source
                yield _decode(img, src, label, max_side, i if multi else None), label, None


def _seek(img: Image.Image, i: int, source: str, n_frames: int) -> None:
    if img.tell() == i:
        return
    try:
        img.seek(i)
    except Exception as exc:  # noqa: BLE001 - hostile frame directory
        raise KocrInputError(f"{source}: frame {i + 1} of {n_frames} is corrupt ({type(exc).__name__}: {exc})") from None


#: Formats OpenCV decodes exactly as Pillow does (for the modes in ``_CV2_MODES``), used to read
#: huge pages without Pillow's 4-bytes-a-pixel RGB buffer and its copies.
_CV2_FORMATS = {"PNG", "TIFF", "BMP", "PPM", "WEBP"}
_CV2_MODES = {"1", "L", "RGB", "P"}
#: EXIF orientation -> the transpose that shows the page upright (as ``ImageOps.exif_transpose``).
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}


def _orientation(img: Image.Image) -> int:
    """The EXIF orientation, read without decoding (a PNG's eXIf after the pixels is not seen)."""
    if img.format == "PNG" and "exif" not in img.info:
        return 1  # PngImageFile.getexif() would decode the whole image to look for it
    try:
        value = int(img.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block must not cost the page
        return 1
    return value if value in _TRANSPOSE else 1


def _decode(img: ImageFile.ImageFile, src: Path | bytes, label: str, max_side: int, frame: int | None) -> PageImage:
    """One frame as a page; a frame at least twice ``max_side`` is decoded reduced where possible.

    JPEG decodes at 1/2, 1/4 or 1/8 scale in the DCT (``draft``); PNG, TIFF, BMP, PNM and WebP
    go through OpenCV (3 bytes a pixel, no copies) and are area-averaged straight to the page size.
    Everything else, and every page that needs less than halving, is decoded by Pillow as before.
    The page's ``width``/``height`` are the original's and ``scale`` maps boxes back onto them.
    """
    stored = img.size
    orientation = _orientation(img)
    w, h = _upright(stored, orientation)
    scale = min(1.0, max_side / max(w, h))
    if scale < 0.5:
        target = _upright((max(1, round(w * scale)), max(1, round(h * scale))), orientation)  # before the transpose
        arr = _decode_cv2(img, src, target, frame, orientation)
        if arr is not None:
            pim = Image.fromarray(arr)
            if orientation != 1:
                pim = pim.transpose(_TRANSPOSE[orientation])
            return PageImage(to_rgb_array(pim), label, w, h, pim.size[0] / w)
        if img.format in ("JPEG", "MPO"):
            try:
                img.draft(None, target)  # libjpeg scales by 1/2, 1/4 or 1/8 while decoding
            except Exception:  # noqa: BLE001 - a full decode follows instead
                pass
    try:
        img.load()
    except Image.DecompressionBombError as exc:
        raise KocrInputError(f"{label}: Pillow refuses to decode a {w}×{h} {img.mode} image ({exc}); "
                             "convert it to 8-bit RGB or grayscale, or split it") from None
    except Exception as exc:  # noqa: BLE001 - hostile pixel data: OSError, SyntaxError, ValueError ...
        raise KocrInputError(f"{label}: image data is truncated or corrupt ({exc})") from None
    orientation = _orientation(img)  # now also a PNG's eXIf chunk written after the pixels
    try:
        return _finish(img, label, _upright(stored, orientation), max_side, orientation)
    except Exception as exc:  # noqa: BLE001 - a mode or palette Pillow cannot convert
        raise KocrInputError(f"{label}: cannot convert the decoded image ({type(exc).__name__}: {exc})") from None


def _upright(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """``size`` after the EXIF orientation's transpose (5 to 8 swap width and height)."""
    return (size[1], size[0]) if orientation >= 5 else size


def _decode_cv2(img: ImageFile.ImageFile, src: Path | bytes, size: tuple[int, int], frame: int | None,
                orientation: int) -> np.ndarray | None:
    """The frame decoded by OpenCV and area-averaged to ``size`` (stored orientation), or None.

    None means "use Pillow": a format or mode OpenCV would read differently (alpha, 16-bit, CMYK,
    transparency, an animation's first frame), a TIFF whose orientation OpenCV would apply itself,
    or anything OpenCV fails on. The decoded shape must match Pillow's header, else Pillow decodes
    the frame (and says what is wrong with it).
    """
    if img.format not in _CV2_FORMATS or img.mode not in _CV2_MODES or "transparency" in img.info:
        return None
    if (img.format == "TIFF" and orientation != 1) or (img.format != "TIFF" and getattr(img, "n_frames", 1) != 1):
        return None
    try:
        return _cv2_read(src, img.size, img.mode in ("1", "L"), size, frame)
    except Exception:  # noqa: BLE001 - an older OpenCV without the call, or one refusing the file
        return None


def _cv2_read(src: Path | bytes, full: tuple[int, int], gray: bool, size: tuple[int, int],
              frame: int | None) -> np.ndarray | None:
    import cv2

    # Halving while reading (OpenCV's 2x2 box average) spares a second full-size buffer. Only by 2:
    # OpenCV shrinks non-JPEG files by 4 or 8 with a linear filter that drops thin strokes.
    half = full[0] // 2 >= size[0] and full[1] // 2 >= size[1]
    if gray:
        flags = cv2.IMREAD_REDUCED_GRAYSCALE_2 if half else cv2.IMREAD_GRAYSCALE
    else:
        flags = cv2.IMREAD_REDUCED_COLOR_2 if half else cv2.IMREAD_COLOR
    denom = 2 if half else 1
    flags |= cv2.IMREAD_IGNORE_ORIENTATION
    if isinstance(src, Path):
        if frame is None:
            arr = cv2.imread(str(src), flags)
        else:
            ok, mats = cv2.imreadmulti(str(src), frame, 1, flags=flags)
            arr = mats[0] if ok and len(mats) == 1 else None
    else:
        buf = np.frombuffer(src, np.uint8)
        if frame is None:
            arr = cv2.imdecode(buf, flags)
        else:
            ok, mats = cv2.imdecodemulti(buf, flags, range=(frame, frame + 1))
            arr = mats[0] if ok and len(mats) == 1 else None
    if arr is None or arr.dtype != np.uint8 or arr.ndim != (2 if gray else 3):
        return None
    (w, h), (ah, aw) = full, arr.shape[:2]
    if (aw, ah) != (w, h) and not (abs(aw - w / denom) <= 1 and abs(ah - h / denom) <= 1):
        return None  # OpenCV read another picture than Pillow's header describes
    small = cv2.resize(arr, size, interpolation=cv2.INTER_AREA)
    del arr
    return small if gray else cv2.cvtColor(small, cv2.COLOR_BGR2RGB)


def _finish(img: Image.Image, source: str, size: tuple[int, int], max_side: int, orientation: int) -> PageImage:
    """A decoded (possibly draft-reduced) file frame as a page, upright and at most ``max_side``.

    ``size`` is the original's upright size, which a draft-reduced frame no longer has. Unlike
    ``ImageOps.exif_transpose`` nothing is copied when the page is already upright.
    """
    if orientation != 1:
        img = img.transpose(_TRANSPOSE[orientation])
    w, h = size
    scale = min(1.0, max_side / max(w, h))
    if scale < 1.0:
        target = (max(1, round(w * scale)), max(1, round(h * scale)))
        img = _downscale(img, target)
        scale = target[0] / w
    return PageImage(to_rgb_array(img), source, w, h, scale)


def _downscale(img: Image.Image, target: tuple[int, int]) -> Image.Image:
    """Box-reduce by a whole factor where Pillow can, then Lanczos (bilinear for wide modes) to ``target``."""
    factor = int(max(img.size) / max(target))
    if factor >= 2 and img.mode in ("1", "L", "RGB", "RGBA", "CMYK"):
        img = (img.convert("L") if img.mode == "1" else img).reduce(factor)
    if img.mode == "P":
        img = img.convert("RGBA")
    return img.resize(target, Image.Resampling.LANCZOS if img.mode not in ("I;16", "F", "I") else Image.Resampling.BILINEAR)


def _check_size(size: tuple[int, int], source: str, max_pixels: int, what: str = "image") -> None:
    """Refuse a picture by its declared size, before anything is decoded (``what`` names the frame)."""
    w, h = size
    if w < 1 or h < 1:
        raise KocrInputError(f"{source}: {what} has zero size ({w}×{h})")
    if w * h > max_pixels:
        raise KocrInputError(
            f"{source}: {what} is {w}×{h} = {w * h:,} pixels, above the limit of {max_pixels:,}; "
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
    """A page from an in-memory input (a caller's PIL image or array, or a PDF page): not modified."""
    if isinstance(img, Image.Image):
        try:
            img = ImageOps.exif_transpose(img)
        except Exception:  # a broken EXIF block must not cost the page
            pass
        w, h = img.size
        scale = min(1.0, max_side / max(w, h))
        if scale < 1.0:
            target = (max(1, round(w * scale)), max(1, round(h * scale)))
            img = _downscale(img, target)
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
