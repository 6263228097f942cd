"""Page rectification: the paper found in a photo, flat scans left alone, boxes mapped back."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kocr_sdk import Engine, KocrError, hookimpl
from kocr_sdk.errors import KocrConfigError, KocrPluginError, KocrStageError
from kocr_sdk.geometry import apply_homography, quad_from_box, warp_homography
from kocr_sdk.interfaces import Detection, DetectedWord, PageRectification, Rectifier, TextDetector
from kocr_sdk.rectify import PaperRectifier, find_paper, flattening

SHEET = (600, 800)  # width, height of the flat test sheet
SQUARES = [(100, 100, 180, 160), (400, 150, 520, 210), (250, 500, 330, 560), (80, 680, 200, 740)]


def sheet() -> np.ndarray:
    """A white sheet with black rectangles where a detector will find 'words'."""
    img = np.full((SHEET[1], SHEET[0], 3), 245, np.uint8)
    for x0, y0, x1, y1 in SQUARES:
        img[y0:y1, x0:x1] = 20
    return img


def photo(corners: np.ndarray, size: tuple[int, int] = (1000, 1100), table: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """``sheet()`` seen in perspective with its corners at ``corners`` on a dark table; and the homography."""
    w, h = SHEET
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    m = cv2.getPerspectiveTransform(src, np.asarray(corners, np.float32)).astype(np.float64)
    table_img = np.full((size[1], size[0], 3), table, np.uint8)
    warped = warp_homography(sheet(), m, size[0], size[1])
    mask = np.zeros((size[1], size[0]), np.uint8)
    cv2.fillConvexPoly(mask, np.round((np.asarray(corners) - 0.5) * 16).astype(np.int32), 255, cv2.LINE_AA, shift=4)
    a = mask[..., None].astype(np.float32) / 255
    out = (warped * a + table_img * (1 - a) + 0.5).astype(np.uint8)
    return out, m


CORNERS = np.array([[180, 120], [820, 190], [760, 960], [130, 900]], np.float64)


# ----------------------------------------------------------------------------------- finding the paper
def test_finds_a_known_quadrilateral_within_a_pixel_or_two():
    img, _ = photo(CORNERS)
    found, why = find_paper(img)
    assert found is not None, why
    assert np.abs(found.corners + 0.5 - CORNERS).max() < 2.0  # pixel centres → pixel edges


def test_finds_the_paper_of_a_synthetic_phone_photo():
    from kocr_sdk.lab.synth.capture import PhotoLook
    from kocr_sdk.lab.synth.pages import PageGenerator

    flat = PhotoLook(curl_prob=0.0, fold_prob=0.0, crumple_prob=0.0, shadow_prob=0.0)
    gen = PageGenerator(split="train", seed=100, layouts=("document", "receipt"), capture="photo", rotate=False,
                        capture_options={"photo": flat})
    errors = []
    for i in range(3):
        image, record = gen.sample(i)
        result = PaperRectifier().rectify(image)
        assert result.applied, result.message
        found, truth = np.asarray(result.paper), np.asarray(record["paper"])
        errors.append(min(np.linalg.norm(np.roll(found, k, axis=0) - truth, axis=1).max() for k in range(4)))
    assert max(errors) < 4.0, errors


def test_flat_scans_are_left_alone_and_say_why():
    from kocr_sdk.lab.synth.pages import PageGenerator

    rect = PaperRectifier()
    scan, _ = PageGenerator(split="train", seed=3, layouts=("form",), capture="scan").sample(0)
    result = rect.rectify(scan)
    assert not result.applied and result.message.startswith("no paper edge found")
    blank = np.full((300, 200, 3), 255, np.uint8)
    assert not rect.rectify(blank).applied
    # an upright sheet on a dark scanner lid: the paper is found, and already flat
    lid = np.full((900, 700, 3), 30, np.uint8)
    lid[50:850, 50:650] = sheet()
    result = rect.rectify(lid)
    assert not result.applied and result.paper is not None and result.message.startswith("already flat")


def test_paper_that_runs_off_the_picture_is_left_alone():
    img, _ = photo(np.array([[180, 120], [820, 190], [760, 1099], [130, 1099]], np.float64))
    result = PaperRectifier().rectify(img)
    assert not result.applied and "runs off the picture" in result.message


def test_flattening_maps_the_corners_to_an_upright_rectangle():
    m, w, h = flattening(CORNERS)
    assert np.allclose(apply_homography(m, CORNERS), [[0, 0], [w, 0], [w, h], [0, h]], atol=1e-6)
    side = lambda a, b: np.linalg.norm(CORNERS[a] - CORNERS[b])  # noqa: E731
    assert (w, h) == (round(max(side(0, 1), side(3, 2))), round(max(side(0, 3), side(1, 2))))  # the longer of each pair


def test_bad_options_are_config_errors():
    with pytest.raises(KocrConfigError, match="unknown option"):
        PaperRectifier(min_areaa=0.2)
    with pytest.raises(KocrConfigError, match="min_area"):
        PaperRectifier(min_area=1.5)


# ----------------------------------------------------------------------------------- the engine
class DarkBoxes(TextDetector):
    """Finds the dark rectangles of ``sheet()`` as words (connected components of dark pixels)."""

    name = "dark-boxes"
    seen: list[tuple[int, int]] = []

    def detect(self, image):
        DarkBoxes.seen.append(image.shape[:2])
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        n, _, stats, _ = cv2.connectedComponentsWithStats((gray < 100).astype(np.uint8))
        H, W = gray.shape
        words = [DetectedWord(quad=quad_from_box((x, y, x + w, y + h))) for x, y, w, h, a in stats[1:]
                 if a > 200 and x > 0 and y > 0 and x + w < W and y + h < H]  # not the table around the sheet
        return Detection(words=words)


class Boxes:
    @staticmethod
    @hookimpl
    def register_detectors(register):
        register(DarkBoxes)


def _engine(*plugins, **kw) -> Engine:
    return Engine(plugins=[Boxes, *plugins], load_entrypoints=False, device="cpu", detector="dark-boxes",
                  script_identifier="none", orientation_check=False, **kw)


def _truth(m: np.ndarray) -> list[np.ndarray]:
    return [apply_homography(m, quad_from_box(b)) for b in SQUARES]


def _matched(words, truths) -> float:
    """The largest corner distance between each true quad and the nearest word's quad."""
    worst = 0.0
    for t in truths:
        best = min(np.abs(np.asarray(w.quad) - t).max() for w in words)
        worst = max(worst, best)
    return worst


@pytest.mark.parametrize("max_side", [4096, 700])
def test_boxes_found_on_the_flat_page_are_in_the_photo_s_pixels(max_side):
    """The detector reads the flattened sheet (upright rectangles); the Page's quads are the
    rectangles as the photo shows them, in its own pixels, also when the engine downscaled it."""
    img, m = photo(CORNERS)
    DarkBoxes.seen = []
    page = _engine(max_side=max_side).read(img).pages[0]
    rec = {r.stage: r for r in page.stages}["rectifier"]
    assert rec.status == "ran" and rec.implementation == "paper" and "flattened" in rec.message
    assert page.rectification is not None and (page.width, page.height) == (1000, 1100)
    assert DarkBoxes.seen == [(page.rectification.height, page.rectification.width)]
    assert np.abs(np.asarray(page.rectification.paper) - CORNERS).max() < 4.0
    assert len(page.words) == len(SQUARES)
    assert _matched(page.words, _truth(m)) < 4.0
    # the record's transform takes the photo's paper to the flat page the detector read
    flat = page.rectification.to_flat(page.rectification.paper)
    w, h = page.rectification.width, page.rectification.height
    assert np.abs(np.asarray(flat) - [[0, 0], [w, 0], [w, h], [0, h]]).max() < 1e-3
    assert type(page).model_validate_json(page.model_dump_json()) == page


def test_the_rectifier_can_be_switched_off_and_a_flat_page_is_skipped():
    img, m = photo(CORNERS)
    page = _engine(rectifier="none").read(img).pages[0]
    rec = {r.stage: r for r in page.stages}["rectifier"]
    assert rec.status == "skipped" and rec.message == "disabled in the config" and page.rectification is None
    flat = np.full((900, 700, 3), 245, np.uint8)
    flat[50:850, 50:650] = sheet()
    page = _engine().read(flat).pages[0]
    rec = {r.stage: r for r in page.stages}["rectifier"]
    assert rec.status == "skipped" and rec.message.startswith("no paper edge found") and page.rectification is None
    assert _matched(page.words, [quad_from_box((x0 + 50, y0 + 50, x1 + 50, y1 + 50)) for x0, y0, x1, y1 in SQUARES]) < 1e-6


class HalfSize(Rectifier):
    """A plugin's rectifier: shrinks every page to half its size (a known homography)."""

    name = "half-size"
    priority = 10

    def rectify(self, image):
        h, w = image.shape[:2]
        return PageRectification(matrix=[[0.5, 0, 0], [0, 0.5, 0], [0, 0, 1]], width=w // 2, height=h // 2,
                                 message="halved")


class Broken(Rectifier):
    name = "broken"

    def rectify(self, image):
        return PageRectification(matrix=[[0, 0, 0], [0, 0, 0], [0, 0, 1]], width=10, height=10)


class Rectifiers:
    @staticmethod
    @hookimpl
    def register_rectifiers(register):
        register(HalfSize)
        register(Broken)


def test_a_plugin_rectifier_is_chosen_through_the_hook_and_its_boxes_mapped_back():
    img, m = photo(CORNERS)
    engine = _engine(Rectifiers)
    assert engine.describe()["rectifier"] == "half-size"  # the highest priority installed
    DarkBoxes.seen = []
    page = engine.read(img).pages[0]
    assert DarkBoxes.seen == [(550, 500)]
    assert page.rectification.matrix == [[0.5, 0, 0], [0, 0.5, 0], [0, 0, 1]]
    assert {r.stage: r.message for r in page.stages}["rectifier"] == "halved"
    assert _matched(page.words, [apply_homography(m, quad_from_box(b)) for b in SQUARES]) < 40  # in the photo's pixels
    assert max(np.asarray(w.quad)[:, 0].max() for w in page.words) > 500  # not the half-size page's
    with pytest.raises(KocrStageError, match="broken.*singular"):
        _engine(Rectifiers, rectifier="broken").read(img)


def test_a_rectifier_must_subclass_rectifier():
    class NotOne:
        name = "not-one"

    class Bad:
        @staticmethod
        @hookimpl
        def register_rectifiers(register):
            register(NotOne)

    with pytest.raises(KocrPluginError, match="Rectifier"):
        _engine(Bad)
    with pytest.raises(KocrError, match="no rectifier named 'nope'"):
        _engine(rectifier="nope")
