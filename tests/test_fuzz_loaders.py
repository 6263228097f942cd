"""Property-based fuzzing of every loader that reads a user's file: images, PDFs, templates, configs.

Whatever bytes arrive (a valid file with bits flipped, a header field changed, a tail cut off,
random bytes behind a real signature), the loader either reads them or raises a ``KocrError``
subclass: never another exception (a traceback in the CLI), never a hang. Inputs start from small
valid files made here and are mutated by hypothesis; each example runs under a time limit.

CI runs a bounded, derandomised number of examples per loader (``FUZZ_EXAMPLES``);
``benchmarks/fuzz_loaders.py`` runs the same strategies over 10,000+ random inputs per loader.
"""

from __future__ import annotations

import contextlib
import io
import signal
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from PIL import Image  # noqa: E402

from kocr_sdk import KocrError  # noqa: E402
from kocr_sdk.io import count_pages, iter_pages  # noqa: E402

from .pdfs import encrypt, make_pdf  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FUZZ_EXAMPLES = 150
#: Small enough that a mutated header claiming a huge page is refused, large enough to decode seeds.
FUZZ_MAX_PIXELS = 4_000_000
#: Seconds an example may take before it counts as a hang (the loader must not spin on bad bytes).
HANG_SECONDS = 30

FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=10_000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


class LoaderHang(Exception):
    """An example ran past ``HANG_SECONDS``: not a KocrError, so the property fails."""


@contextlib.contextmanager
def time_limit(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Raise :class:`LoaderHang` in this (main) thread if the block runs longer than ``seconds``.

    Hypothesis' deadline reports a slow example only once it finishes; this stops one that would
    never finish. Where there is no SIGALRM (or not in the main thread) it only runs the block."""
    def expire(signum, frame):  # noqa: ANN001 - signal handler signature
        raise LoaderHang(f"a loader ran for more than {seconds} s")

    try:
        previous = signal.signal(signal.SIGALRM, expire)
    except (AttributeError, ValueError):
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- seeds: small valid files of every kind kocr reads -------------------------------------------


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def image_seeds() -> list[bytes]:
    """Valid PNG, JPEG, TIFF, BMP, GIF, WebP and PNM files, 37×23 px, in the modes scans come in."""
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 255, (23, 37, 3), dtype=np.uint8))
    gray = rgb.convert("L")
    exif = rgb.getexif()
    exif[0x0112] = 6
    frames = [gray, gray.point(lambda v: 255 - v), rgb.convert("L").resize((20, 30))]
    gif_frames = [rgb.convert("P"), rgb.rotate(90).convert("P")]
    pal = rgb.convert("P")
    pal.info["transparency"] = 0
    seeds = [
        _save(rgb, "PNG"), _save(pal, "PNG", transparency=0), _save(gray, "PNG"), _save(rgb.convert("RGBA"), "PNG"),
        _save(Image.fromarray((rng.integers(0, 65535, (23, 37))).astype(np.uint16)), "PNG"),
        _save(rgb, "JPEG", quality=80), _save(rgb, "JPEG", progressive=True, exif=exif), _save(rgb.convert("CMYK"), "JPEG"),
        _save(frames[0], "TIFF", save_all=True, append_images=frames[1:], compression="tiff_lzw"),
        _save(rgb.convert("1"), "TIFF", compression="group4"), _save(rgb, "TIFF", exif=exif),
        _save(rgb, "BMP"), _save(pal, "BMP"), _save(gif_frames[0], "GIF", save_all=True, append_images=gif_frames[1:]),
        _save(rgb, "WEBP", quality=80), _save(rgb.convert("RGBA"), "WEBP", lossless=True),
        _save(rgb, "PPM"), _save(gray, "PPM"),
    ]
    return seeds


def pdf_seeds() -> list[bytes]:
    """Small hand-written PDFs: text layers, image-only pages, none at all, encrypted."""
    return [make_pdf(["Hello World 42"]), make_pdf(["a", None, "b"], size=(60, 80)), make_pdf([None], images=True),
            make_pdf([]), encrypt(make_pdf(["x"]))]


MAGICS = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"II*\x00", b"MM\x00*", b"BM", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBPVP8 ",
          b"P6\n", b"%PDF-1.4\n", b"\x00\x00\x00\x0cjP  \r\n\x87\n"]
#: Values that break size and offset fields: zero, one, sign and width boundaries, huge sizes.
INTERESTING = [0, 1, 2, 7, 8, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 20_000, 65_535, 100_000,
               0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


def _fix_png_crcs(data: bytearray) -> bytearray:
    """Recompute every PNG chunk's CRC, so a changed field reaches the decoder past the checksum."""
    pos = 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        end = pos + 8 + length
        if end + 4 > len(data):
            break
        data[end:end + 4] = struct.pack(">I", zlib.crc32(bytes(data[pos + 4:end])))
        pos = end + 4
    return data


def _mutate(draw: st.DrawFn, data: bytearray, most: int = 6) -> bytearray:
    """1 to ``most`` mutations: bit flips, byte and header-field overwrites, truncation,
    insertion, deletion, a chunk copied over another; near the header half of the time."""
    for _ in range(draw(st.integers(1, most))):
        n = len(data)
        if n == 0:
            break
        pos = draw(st.one_of(st.integers(0, min(n, 64) - 1), st.integers(0, n - 1)))
        kind = draw(st.sampled_from(["flip", "byte", "field", "field", "truncate", "insert", "delete", "splice"]))
        if kind == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte":
            data[pos] = draw(st.one_of(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF]), st.integers(0, 255)))
        elif kind == "field":
            width = draw(st.sampled_from([1, 2, 4]))
            value = draw(st.sampled_from(INTERESTING)) % (1 << (8 * width))
            data[pos:pos + width] = value.to_bytes(width, draw(st.sampled_from(["big", "little"])))
        elif kind == "truncate":
            del data[max(1, pos):]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=32))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 32))]
        else:
            src, length = draw(st.integers(0, n - 1)), draw(st.integers(1, 64))
            data[pos:pos + length] = data[src:src + length]
    return data


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed with 1-6 byte-level mutations (PNG chunk checksums fixed half the time after)."""
    data = _mutate(draw, bytearray(draw(st.sampled_from(seeds))))
    if data.startswith(b"\x89PNG") and draw(st.booleans()):
        data = _fix_png_crcs(data)
    return bytes(data)


def random_bytes() -> st.SearchStrategy[bytes]:
    """Noise, and noise behind a real file signature (so each format's parser is reached)."""
    return st.one_of(st.binary(max_size=2048), st.builds(lambda m, b: m + b, st.sampled_from(MAGICS), st.binary(max_size=2048)))


def image_inputs() -> st.SearchStrategy[bytes]:
    seeds = image_seeds()
    return st.one_of(mutated(seeds), mutated(seeds), mutated(seeds), random_bytes())


def pdf_inputs() -> st.SearchStrategy[bytes]:
    return st.one_of(mutated(pdf_seeds()), mutated(pdf_seeds()), mutated(pdf_seeds()), random_bytes())


# --- YAML: templates and engine configs -----------------------------------------------------------


def template_seeds() -> list[str]:
    """The shipped templates, and a minimal one."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "kocr_sdk" / "data" / "templates").glob("*.yaml"))]
    return texts + ["id: tiny\nname: Tiny\nmatch:\n  keywords:\n    - {text: TOTAL}\nfields:\n  total:\n"
                    "    anchors: [TOTAL]\n    position: right\n    pattern: '\\d+'\n"]


def config_seeds() -> list[str]:
    """The benchmark configs, and one that sets most fields."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "benchmarks" / "configs").glob("*.yaml"))]
    return texts + ["device: cpu\ndetector: none\nrecognizers:\n  hangul: vitstr-tiny-hangul\n  latin: auto\n"
                    "script_routes: {digits: latin}\ndefault_script: hangul\nscript_fallback_threshold: 0.2\n"
                    "template: null\ntemplate_dirs: [templates]\nmax_side: 2048\nmax_pixels: 100000000\n"
                    "batch_size: 16\ncrop_margin: 0.1\norientation_check: false\nthreads: 2\nruntime: onnx\n"
                    "pdf_dpi: 100\npdf_text_layer: use\noptions:\n  anchor-free: {quantize: false, text_height_range: [12, 64]}\n"]


#: What YAML parsers and validators trip on: indicators, anchors, tags, odd scalars and line breaks.
YAML_TOKENS = [":", ": ", "- ", "{", "}", "[", "]", ",", "&a ", "*a", "*missing", "<<: *a\n", "!!python/object/apply:os.system ['x']",
               "!!binary AAAA", "!!binary ###", "!!map", "!!seq", "!!str", "!!set", "!!null", "? ", "|\n", ">-\n", "'", '"', "#", "\n", "\t", "  ", "    ",
               "%YAML 1.1\n", "---\n", "...\n", "~", "null", "true", "no", "1e999", "-1", "0x1F", "0o17", ".inf", ".nan",
               "2024-02-28", "12:30:00", "\u00a0", "\ufeff", "한글", "\x00", "\x85", "\u2028", "\ud800", "\\", "%", "@", "`",
               "id: x\n", "fields: {}\n", "pattern: '(a+)+$'\n", "pattern: '['\n", "position: nowhere\n", "max_side: -5\n",
               "options: [1]\n", "recognizers: hangul\n", "device: tpu\n"]


@st.composite
def mutated_yaml(draw: st.DrawFn, seeds: list[str], tokens: list[str] = YAML_TOKENS) -> bytes:
    """A YAML seed changed as text (tokens inserted, spans deleted, lines duplicated, swapped or
    re-indented), encoded (UTF-8 mostly; with a BOM, UTF-16 or Latin-1 sometimes; lone surrogates
    give invalid UTF-8), then given byte-level mutations a third of the time."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 5))):
        lines = text.split("\n")
        kind = draw(st.sampled_from(["token", "token", "delete", "duplicate", "swap", "indent", "value"]))
        pos = draw(st.integers(0, max(len(text) - 1, 0)))
        if kind == "token":
            text = text[:pos] + draw(st.sampled_from(tokens)) + text[pos:]
        elif kind == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 40)):]
        elif kind in ("duplicate", "swap", "indent") and lines:
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if kind == "duplicate":
                lines.insert(j, lines[i])
            elif kind == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            else:
                lines[i] = draw(st.sampled_from(["", " ", "  ", "\t", "      "])) + lines[i].lstrip(" ")
            text = "\n".join(lines)
        elif kind == "value" and ": " in text:
            at = text.index(": ", pos) if ": " in text[pos:] else text.index(": ")
            end = text.find("\n", at)
            end = len(text) if end < 0 else end
            text = text[:at + 2] + draw(st.sampled_from(tokens + ["[]", "{}", "''", "0", "-0.0", "999999999999999999999"])) + text[end:]
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "utf-16", "latin-1"]))
    data = bytearray(text.encode(encoding if encoding != "latin-1" else "utf-8", errors="surrogatepass"))
    if encoding == "latin-1":  # what an editor saving in a legacy code page leaves: é as one byte
        data = bytearray(text.encode("latin-1", errors="replace"))
    if draw(st.integers(0, 2)) == 0:
        data = _mutate(draw, data, most=3)
    return bytes(data)


def _nested(depth: int, key: str) -> bytes:
    return (f"{key}: " + "[" * depth + "]" * depth + "\n").encode()


def _aliases(levels: int, key: str) -> bytes:
    """A "billion laughs" document: each anchor refers nine times to the one before."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return ("\n".join(lines) + f"\n{key}: *a{levels - 1}\n").encode()


#: Nesting depths of ``[[[...]]]`` tried.
DEPTHS = [5, 50, 200]
#: Inputs PyYAML itself fails on with something else than a YAMLError, which the loaders must
#: still turn into a KocrError (the tests below): about 1,000 levels of nesting (PyYAML composes
#: recursively: RecursionError), and scalars its safe constructors fail on with ValueError,
#: IndexError, KeyError or AttributeError (a date-like scalar that is no date; ``!!int``,
#: ``!!float``, ``!!bool``, ``!!timestamp`` on a value of another kind).
KNOWN_BAD_DEPTHS = [2000]
KNOWN_BAD_TOKENS = ["2024-02-30", "2024-13-01", "!!int", "!!float", "!!bool", "!!timestamp", "!!int 0x", "!!bool maybe"]
KNOWN_BAD_DOCUMENTS = {"date": b"id: x\nname: 2024-02-30\n", "int": b"id: x\nname: !!int ''\n",
                       "float": b"id: x\nname: !!float abc\n", "bool": b"id: x\nname: !!bool maybe\n",
                       "timestamp": b"id: x\nname: !!timestamp abc\n"}


def yaml_inputs(seeds: list[str], keys: list[str], known_bad: bool = True) -> st.SearchStrategy[bytes]:
    """Mutated seeds, plus noise, deep nesting and alias bombs under the model's own keys."""
    tokens = YAML_TOKENS + (KNOWN_BAD_TOKENS if known_bad else [])
    depths = DEPTHS + (KNOWN_BAD_DEPTHS if known_bad else [])
    keys_ = st.sampled_from(keys)
    texts = mutated_yaml(seeds, tokens)
    return st.one_of(texts, texts, texts, st.binary(max_size=512), st.builds(_nested, st.sampled_from(depths), keys_),
                     st.builds(_aliases, st.integers(2, 9), keys_))


TEMPLATE_KEYS = ["id", "languages", "match", "fields", "name"]
CONFIG_KEYS = ["recognizers", "template_dirs", "options", "max_side", "script_routes"]


def template_inputs(known_bad: bool = True) -> st.SearchStrategy[bytes]:
    return yaml_inputs(template_seeds(), TEMPLATE_KEYS, known_bad)


def config_inputs(known_bad: bool = True) -> st.SearchStrategy[bytes]:
    return yaml_inputs(config_seeds(), CONFIG_KEYS, known_bad)


# --- what each loader must do with them ----------------------------------------------------------


@contextlib.contextmanager
def as_file(data: bytes, suffix: str) -> Iterator[Path]:
    """``data`` in a temporary file (paths take other code paths than bytes: OpenCV reads files)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        yield path


def _check_pages(pages: list, max_side: int) -> int:
    for page in pages:
        assert page.image.dtype == np.uint8 and page.image.ndim == 3 and page.image.shape[2] == 3
        assert 1 <= max(page.image.shape[:2]) <= max_side and page.width >= 1 and page.height >= 1
    return len(pages)


def read_image(data: bytes, max_side: int = 4096, from_file: bool = False) -> int:
    """Pages read from ``data`` by the image loader (via a file: counted first, as a batch does)."""
    if not from_file:
        return _check_pages(list(iter_pages(data, max_side=max_side, max_pixels=FUZZ_MAX_PIXELS)), max_side)
    with as_file(data, ".png") as path:
        assert count_pages(path) >= 0
        return _check_pages(list(iter_pages(path, max_side=max_side, max_pixels=FUZZ_MAX_PIXELS)), max_side)


def read_pdf(data: bytes, from_file: bool = False) -> int:
    """Pages rendered (at a low dpi) from ``data`` by the PDF loader."""
    if not from_file:
        return _check_pages(list(iter_pages(data, dpi=18, max_pixels=FUZZ_MAX_PIXELS)), 4096)
    with as_file(data, ".pdf") as path:
        assert count_pages(path) >= 0
        return _check_pages(list(iter_pages(path, dpi=18, max_pixels=FUZZ_MAX_PIXELS, start=0, stop=4)), 4096)


def read_template(data: bytes) -> int:
    """The template loader on ``data`` as a ``.yaml`` file."""
    from kocr_sdk.templates.loader import load_template

    with as_file(data, ".yaml") as path:
        load_template(path)
    return 1


def read_config(data: bytes) -> int:
    """The engine-config loader on ``data`` as a ``.yaml`` file (``KOCR_*`` variables as they are)."""
    from kocr_sdk.config import EngineConfig

    with as_file(data, ".yaml") as path:
        EngineConfig.load(path)
    return 1


def outcome(read: Callable[..., int], *args) -> str:
    """``"accepted"`` or ``"refused"`` (a KocrError); anything else propagates."""
    with time_limit():
        try:
            read(*args)
        except KocrError:
            return "refused"
    return "accepted"


# --- the properties ------------------------------------------------------------------------------


def test_the_seeds_are_valid_files():
    """Mutating files no loader accepts to begin with would test only the first check."""
    assert all(read_image(seed) >= 1 for seed in image_seeds())
    assert [outcome(read_pdf, seed) for seed in pdf_seeds()] == ["accepted"] * 3 + ["refused"] * 2
    assert all(outcome(read_template, seed.encode()) == "accepted" for seed in template_seeds())
    assert all(outcome(read_config, seed.encode()) == "accepted" for seed in config_seeds())


@FUZZ
@given(data=image_inputs(), max_side=st.sampled_from([16, 4096]), from_file=st.booleans())
def test_image_loader_reads_or_refuses_any_bytes(data: bytes, max_side: int, from_file: bool) -> None:
    outcome(read_image, data, max_side, from_file)


@FUZZ
@given(data=pdf_inputs(), from_file=st.booleans())
def test_pdf_loader_reads_or_refuses_any_bytes(data: bytes, from_file: bool) -> None:
    pytest.importorskip("pypdfium2")
    outcome(read_pdf, data, from_file)


@FUZZ
@given(data=template_inputs())
def test_template_loader_reads_or_refuses_any_bytes(data: bytes) -> None:
    outcome(read_template, data)


@FUZZ
@given(data=config_inputs())
def test_config_loader_reads_or_refuses_any_bytes(data: bytes) -> None:
    outcome(read_config, data)


@pytest.mark.parametrize("read", [read_template, read_config], ids=["template", "config"])
def test_deeply_nested_yaml_is_refused_as_a_kocr_error(read: Callable[[bytes], int]) -> None:
    outcome(read, _nested(KNOWN_BAD_DEPTHS[0], "fields"))


@pytest.mark.parametrize("document", list(KNOWN_BAD_DOCUMENTS.values()), ids=list(KNOWN_BAD_DOCUMENTS))
@pytest.mark.parametrize("read", [read_template, read_config], ids=["template", "config"])
def test_a_scalar_pyyaml_cannot_construct_is_refused_as_a_kocr_error(read: Callable[[bytes], int], document: bytes) -> None:
    outcome(read, document)


@pytest.mark.parametrize("document", [b"1: x\n", b"on: 2\n", b"device: cpu\n2024-01-01: x\n"], ids=["int", "bool", "date"])
def test_a_config_key_that_is_no_string_is_refused_as_a_config_error(document: bytes) -> None:
    outcome(read_config, document)
