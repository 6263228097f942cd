"""Every kind of bad or odd input gets a correct Document or a KocrInputError a user can act on."""

import io

import numpy as np
import pytest
from PIL import Image

from kocr_sdk import Engine, KocrError, KocrInputError
from kocr_sdk.io import iter_pages


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
