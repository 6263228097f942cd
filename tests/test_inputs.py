"""Every kind of bad or odd input gets a correct Document or a KocrInputError a user can act on."""

import io
import struct
import subprocess
import sys
import threading
import zlib

import numpy as np
import pytest
from PIL import Image

from kocr_sdk import Engine, KocrError, KocrInputError
from kocr_sdk.io import count_pages, iter_pages


def engine(**kw):
    return Engine(load_entrypoints=False, **kw)


def test_missing_file(tmp_path):
    with pytest.raises(KocrInputError, match="no such file"):
        engine().read(tmp_path / "nope.png")


def test_not_an_image(tmp_path):
    p = tmp_path / "notes.png"
    p.write_text("hello, I am text")
    with pytest.raises(KocrInputError, match="not an image file"):
        engine().read(p)


def test_truncated_image(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8)).save(buf, "PNG")
    p = tmp_path / "cut.png"
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(KocrInputError, match="truncated or corrupt"):
        engine().read(p)


def test_zero_size_array():
    with pytest.raises(KocrInputError, match="zero size"):
        engine().read(np.zeros((0, 10, 3), np.uint8))


def test_wrong_array_shape_and_type():
    with pytest.raises(KocrInputError, match="expected shape"):
        engine().read(np.zeros((10, 10, 7), np.uint8))
    with pytest.raises(KocrInputError, match="cannot read a dict"):
        engine().read({"not": "an image"})


def test_one_pixel_image_gives_an_empty_document_saying_why(tmp_path):
    p = tmp_path / "dot.png"
    Image.new("RGB", (1, 1), "white").save(p)
    page = engine().read(p).pages[0]
    assert page.words == [] and (page.width, page.height) == (1, 1)
    assert all(r.status == "skipped" and "too small" in r.message for r in page.stages)


def test_image_without_text_gives_an_empty_page(tmp_path):
    doc = engine().read(np.full((300, 400, 3), 255, np.uint8))
    assert doc.pages[0].words == [] and doc.text == ""


@pytest.mark.slow
def test_huge_image_is_scaled_with_the_scale_recorded(tmp_path):
    p = tmp_path / "huge.png"
    Image.new("1", (20000, 20000), 1).save(p)
    pages = list(iter_pages(p, max_side=4096))
    assert pages[0].image.shape == (4096, 4096, 3)
    assert (pages[0].width, pages[0].height) == (20000, 20000)
    assert pages[0].scale == pytest.approx(4096 / 20000)


def test_pixel_limit_refuses_decompression_bombs(tmp_path):
    p = tmp_path / "big.png"
    Image.new("1", (3000, 3000), 1).save(p)
    with pytest.raises(KocrInputError, match="above the limit"):
        engine(max_pixels=1_000_000).read(p)


def test_sixteen_bit_image_is_stretched_to_eight_bit(tmp_path):
    arr = np.full((50, 60), 1000, np.uint16)
    arr[10:20, 10:40] = 60000
    p = tmp_path / "deep.png"
    Image.fromarray(arr).save(p)
    img = next(iter_pages(p)).image
    assert img.dtype == np.uint8 and img.shape == (50, 60, 3)
    assert img[15, 20, 0] == 255 and img[0, 0, 0] == 0


def test_cmyk_image(tmp_path):
    p = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (40, 30), (0, 0, 0, 0)).save(p)
    img = next(iter_pages(p)).image
    assert img.shape == (30, 40, 3) and img.mean() > 240  # no ink = white


def test_palette_image_with_transparency_is_composited_on_white(tmp_path):
    p = tmp_path / "pal.png"
    im = Image.new("P", (20, 20), 0)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.info["transparency"] = 0
    im.paste(1, (0, 0, 10, 20))
    im.save(p, transparency=0)
    img = next(iter_pages(p)).image
    assert tuple(img[5, 5]) == (255, 0, 0) and tuple(img[5, 15]) == (255, 255, 255)


def test_bytes_pil_directory_and_multipage_tiff(tmp_path):
    Image.new("RGB", (30, 20), "white").save(tmp_path / "a.png")
    Image.new("L", (30, 20), 255).save(tmp_path / "b.jpg")
    (tmp_path / "notes.txt").write_text("ignored")
    frames = [Image.new("L", (30, 20), 255), Image.new("L", (40, 20), 255)]
    frames[0].save(tmp_path / "c.tif", save_all=True, append_images=frames[1:])
    doc = engine().read(tmp_path)
    assert [p.source.split("/")[-1] for p in doc.pages] == ["a.png", "b.jpg", "c.tif#page=1", "c.tif#page=2"]
    assert doc.pages[3].width == 40
    assert engine().read((tmp_path / "a.png").read_bytes()).pages[0].source == "<bytes>"
    assert engine().read(Image.new("RGB", (30, 20))).pages[0].width == 30


def test_empty_directory(tmp_path):
    with pytest.raises(KocrInputError, match="no image files"):
        engine().read(tmp_path)


def test_exif_rotation_is_applied(tmp_path):
    p = tmp_path / "phone.jpg"
    im = Image.new("RGB", (60, 20), "white")
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    im.save(p, exif=exif)
    page = engine().read(p).pages[0]
    assert (page.width, page.height) == (20, 60)


def test_errors_are_kocr_errors():
    assert issubclass(KocrInputError, KocrError)


# --- hostile and large inputs --------------------------------------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def write_png(path, width: int, height: int, row, channels: int = 3) -> None:
    """An 8-bit RGB (or, ``channels=1``, grayscale) PNG written row by row (``row(y)`` gives a
    row's bytes), so a test can make a large image without holding its pixels."""
    comp = zlib.compressobj(1)
    idat = bytearray()
    for y in range(height):
        idat += comp.compress(b"\x00" + row(y))
    idat += comp.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2 if channels == 3 else 0, 0, 0, 0))
                     + _png_chunk(b"IDAT", bytes(idat)) + _png_chunk(b"IEND", b""))


def write_tiff(path, frames: list[tuple[int, int, bytes | None]]) -> None:
    """A little-endian grayscale TIFF, one directory per ``(width, height, pixels)`` frame.

    ``pixels`` None gives a valid all-white frame in a small deflated strip; ``b""`` declares the
    size only (one byte of data), so a frame can claim any size in a few bytes: the loader must
    refuse it from the header alone."""
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    prev_link = 4
    for w, h, pixels in frames:
        compression = 1
        if pixels is None:
            comp, strip, row = zlib.compressobj(1), bytearray(), b"\xff" * w
            for _ in range(h):
                strip += comp.compress(row)
            pixels, compression = bytes(strip + comp.flush()), 8
        elif not pixels:
            pixels = b"\x00"
        data_at = len(out)
        out += pixels + b"\x00" * (len(pixels) % 2)
        tags = [(256, 4, w), (257, 4, h), (258, 3, 8), (259, 3, compression), (262, 3, 1), (273, 4, data_at),
                (277, 3, 1), (278, 4, h), (279, 4, len(pixels))]
        ifd_at = len(out)
        out[prev_link:prev_link + 4] = struct.pack("<I", ifd_at)
        out += struct.pack("<H", len(tags))
        for tag, kind, value in tags:
            out += struct.pack("<HHI", tag, kind, 1) + (struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
        prev_link = len(out)
        out += b"\x00\x00\x00\x00"
    path.write_bytes(bytes(out))


def test_concurrent_reads_leave_pillows_global_limit_alone_and_agree_with_sequential_reads(tmp_path):
    """Reading must not switch Pillow's process-wide bomb limit off, not even for a moment: other
    threads (kocr's or the caller's) open images at the same time."""
    rng = np.random.default_rng(1)
    paths = []
    for i, fmt in enumerate(["png", "jpg", "bmp", "gif", "webp", "png", "jpg", "png"]):
        p = tmp_path / f"p{i}.{fmt}"
        Image.fromarray(rng.integers(0, 255, (30 + i, 40, 3), dtype=np.uint8)).save(p)
        paths.append(p)
    frames = [Image.new("L", (20 + 5 * i, 20), 60 * i) for i in range(3)]
    frames[0].save(tmp_path / "multi.tif", save_all=True, append_images=frames[1:])
    paths.append(tmp_path / "multi.tif")
    expected = [(p.source, p.image.tobytes(), p.image.shape, p.scale) for p in iter_pages(paths)]
    limit = Image.MAX_IMAGE_PIXELS
    seen: set = set()
    results: list = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.add(Image.MAX_IMAGE_PIXELS)

    def read() -> None:
        for _ in range(3):
            results.append([(p.source, p.image.tobytes(), p.image.shape, p.scale) for p in iter_pages(paths)])

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to expose any window
    try:
        watcher = threading.Thread(target=watch)
        watcher.start()
        readers = [threading.Thread(target=read) for _ in range(4)]
        for t in readers:
            t.start()
        for t in readers:
            t.join()
        done.set()
        watcher.join()
    finally:
        sys.setswitchinterval(interval)
        Image.MAX_IMAGE_PIXELS = limit  # do not leave other tests without the limit if this fails
    assert seen == {limit}
    assert len(results) == 12 and all(r == expected for r in results)


def test_every_tiff_frame_is_checked_against_max_pixels_before_decoding(tmp_path):
    path = tmp_path / "scan.tif"
    write_tiff(path, [(100, 80, b"\xff" * 8000), (6000, 6000, None)])  # a 36 MP second frame
    assert [p.width for p in iter_pages(path)] == [100, 6000]  # a valid file, under the default limit
    with pytest.raises(KocrInputError, match=r"scan\.tif: frame 2 of 2 is 6000×6000 = 36,000,000 pixels, above the limit of 1,000,000"):
        list(iter_pages(path, max_pixels=1_000_000))
    with pytest.raises(KocrInputError, match="frame 2 of 2"):
        engine(max_pixels=1_000_000).read(path)
    assert [p.width for p in iter_pages(path, max_pixels=1_000_000, stop=1)] == [100]  # page 1 alone is fine


def test_a_bomb_in_a_later_tiff_frame_is_an_input_error_naming_the_frame(tmp_path):
    path = tmp_path / "bomb.tif"
    write_tiff(path, [(64, 64, b"\x00" * 4096), (25_000, 25_000, b""), (64, 64, b"\x00" * 4096)])  # 625 MP declared
    assert count_pages(path) == 3
    for kwargs in ({}, {"start": 1, "stop": 2}, {"max_pixels": 10_000_000}):
        with pytest.raises(KocrInputError, match=r"bomb\.tif: frame 2 of 3 is 25000×25000 = 625,000,000 pixels, above the limit"):
            list(iter_pages(path, **kwargs))
    assert [p.source[-6:] for p in iter_pages(path, start=2)] == ["page=3"]
    with pytest.raises(KocrInputError, match="frame 2 of 3"):
        list(iter_pages(path.read_bytes()))


def test_a_huge_header_is_refused_without_decoding_and_counted_as_one_page(tmp_path):
    """Pillow itself refuses (with DecompressionBombError) files past twice its own limit; kocr's
    limit is the one that applies, and counting pages never raises."""
    path = tmp_path / "huge.png"
    Image.new("L", (10, 10), 255).save(path)
    data = bytearray(path.read_bytes())
    data[16:24] = struct.pack(">II", 30_000, 30_000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    assert count_pages(path) == 1
    with pytest.raises(KocrInputError, match="30000×30000 = 900,000,000 pixels, above the limit of 500,000,000"):
        list(iter_pages(path))


@pytest.mark.slow
def test_a_page_beyond_pillows_own_limit_is_read_within_kocrs(tmp_path):
    """180 MP is past Pillow's default refusal (2 × 89 MP) but within max_pixels: read, reduced."""
    path = tmp_path / "wide.png"
    write_png(path, 18_000, 10_000, lambda y, row=b"\xff" * 18_000: row, channels=1)
    assert count_pages(path) == 1
    [page] = iter_pages(path, max_side=900)
    assert page.image.shape == (500, 900, 3) and (page.width, page.height) == (18_000, 10_000)
    assert page.image.min() == 255


def _quadrants(width: int, height: int):
    """Rows of a page whose top half is red | green and bottom half blue | white."""
    top = bytes([255, 0, 0]) * (width // 2) + bytes([0, 255, 0]) * (width - width // 2)
    bottom = bytes([0, 0, 255]) * (width // 2) + bytes([255, 255, 255]) * (width - width // 2)
    return lambda y: top if y < height // 2 else bottom


def test_reduced_decode_keeps_size_scale_and_orientation(tmp_path):
    """A page well over ``max_side`` is decoded reduced; ``width``/``height``/``scale`` stay the
    original's so boxes map back onto the original pixels, colours and EXIF rotation survive."""
    png = tmp_path / "big.png"
    write_png(png, 9000, 3000, _quadrants(9000, 3000))
    arr = np.zeros((3000, 9000, 3), np.uint8)
    arr[:1500, :4500], arr[:1500, 4500:], arr[1500:, :4500], arr[1500:, 4500:] = (255, 0, 0), (0, 255, 0), (0, 0, 255), 255
    jpg = tmp_path / "phone.jpg"
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112] = 6  # shown rotated 90° clockwise: upright it is 3000 wide, 9000 high
    im.save(jpg, quality=95, exif=exif)
    bmp = tmp_path / "big.bmp"
    im.save(bmp)
    for src in (png, png.read_bytes(), bmp):
        page = next(iter_pages(src, max_side=1000))
        assert page.image.shape == (333, 1000, 3) and (page.width, page.height) == (9000, 3000)
        assert page.scale == pytest.approx(1000 / 9000)
        assert tuple(page.image[50, 100]) == (255, 0, 0) and tuple(page.image[50, 900]) == (0, 255, 0)
        assert tuple(page.image[300, 100]) == (0, 0, 255) and tuple(page.image[300, 900]) == (255, 255, 255)
    page = next(iter_pages(jpg, max_side=1000))
    assert page.image.shape == (1000, 333, 3) and (page.width, page.height) == (3000, 9000)
    assert page.scale == pytest.approx(333 / 3000)
    # rotated clockwise: the original's top-left (red) is now top-right, its top-right (green) bottom-right
    assert np.abs(page.image[100, 300].astype(int) - (255, 0, 0)).max() < 40
    assert np.abs(page.image[900, 300].astype(int) - (0, 255, 0)).max() < 40
    assert np.abs(page.image[100, 30].astype(int) - (0, 0, 255)).max() < 40


def test_thin_strokes_survive_the_reduced_decode(tmp_path):
    """One-pixel lines every 4 px must darken the reduced page evenly, not vanish (a decoder that
    drops pixels while shrinking would lose text strokes)."""
    path = tmp_path / "lines.png"
    row = bytes([0, 0, 0] + [255, 255, 255] * 3) * 1500  # 6000 px, a black column every 4
    write_png(path, 6000, 2400, lambda y: row)
    page = next(iter_pages(path, max_side=1500))
    assert page.image.shape == (600, 1500, 3)
    assert abs(float(page.image.mean()) - 191.25) < 2 and page.image.min() > 150


@pytest.mark.slow
def test_a_large_page_is_read_without_full_size_copies(tmp_path):
    """Peak memory of reading an 82 MP RGB PNG in a fresh process, beyond what importing costs:
    under 6 bytes a pixel (one 3-byte decode and its half), where Pillow's 4-byte buffer and two
    full-size copies of it took 12."""
    path = tmp_path / "large.png"
    write_png(path, 10_000, 8200, _quadrants(10_000, 8200))
    code = ("import resource, sys; from kocr_sdk.io import iter_pages; "
            "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
            "page = next(iter_pages(sys.argv[1])); "
            "print(page.image.shape, page.scale, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True).stdout.split()
    assert "".join(out[:3]) == "(3359,4096,3)" and float(out[3]) == pytest.approx(0.4096)
    grown = int(out[-1])
    assert grown < 6 * 10_000 * 8200, f"reading an 82 MP page grew the process by {grown / 2**20:.0f} MB"
