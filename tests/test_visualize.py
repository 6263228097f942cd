"""The picture of a read (kocr_sdk.visualize): boxes where the words are, text where it was read, fields named."""

import numpy as np
import pytest

from kocr_sdk.document import FieldValue, TemplateMatch
from kocr_sdk.errors import KocrInputError
from kocr_sdk.geometry import quad_from_box
from kocr_sdk.visualize import FIELD_COLOUR, SCRIPT_COLOURS, draw_page, overlay_font

from .builders import page_of

ITEMS = [("사업자", (100, 100, 220, 130)), ("INVOICE", (300, 100, 460, 130)), ("12,000", (100, 300, 220, 330))]


def _page():
    page = page_of(ITEMS, width=600, height=400)
    for word, script in zip(page.words, ("hangul", "latin", "digits")):
        word.script = script
    return page


def _has(panel: np.ndarray, colour) -> np.ndarray:
    return (np.abs(panel.astype(int) - np.array(colour)).sum(-1) < 60)


def test_boxes_take_their_scripts_colour_at_the_words_place():
    image = np.full((400, 600, 3), 255, np.uint8)
    out = draw_page(image, _page())
    assert out.shape[0] == 400 and out.shape[1] > 1200  # page, gap, rebuilt page
    left = out[:, :600]
    for (_, (x0, y0, x1, y1)), script in zip(ITEMS, ("hangul", "latin", "digits")):
        hit = _has(left, SCRIPT_COLOURS[script])
        assert hit[y0 - 1:y0 + 2, x0 + 10:x1 - 10].any(axis=0).all()  # the top edge, all along
        assert not hit[y0 + 5:y1 - 5, x0 + 5:x1 - 5].any()  # nothing drawn inside the box
    assert not (left[200:280, :] != 255).any()  # nor between the words


@pytest.mark.skipif(overlay_font() is None, reason="no font with Hangul installed")
def test_text_is_drawn_inside_each_words_box_on_the_right():
    out = draw_page(np.full((400, 600, 3), 255, np.uint8), _page())
    right = out[:, -600:]
    for _, (x0, y0, x1, y1) in ITEMS:
        inside = right[y0:y1, x0:x1]
        assert (inside < 200).any()  # ink
    mask = np.ones(right.shape[:2], bool)
    for _, (x0, y0, x1, y1) in ITEMS:
        mask[y0 - 3:y1 + 3, x0 - 3:x1 + 3] = False
    assert (right[mask] == 255).all()  # and nowhere else


def test_coordinates_follow_the_image_size_and_fields_are_outlined():
    page = _page()
    page.template_match = TemplateMatch(template_id="t", score=0.9, fields={
        "total": FieldValue(name="total", value="12,000", quad=quad_from_box((100, 300, 220, 330)))})
    image = np.full((800, 1200), 255, np.uint8)  # the page at twice the Document's size, gray
    left = draw_page(image, page, text=False)
    assert left.shape == (800, 1200, 3)
    hit = _has(left, FIELD_COLOUR)
    assert hit[560:680, 180:460].any() and not hit[:500].any()  # around (200..440, 600..660) only
    assert _has(left, SCRIPT_COLOURS["hangul"])[199:202, 220:420].any()  # the first word's top edge at y=200
    assert not _has(draw_page(image, page, text=False, fields=False), FIELD_COLOUR).any()


def test_bad_image_is_a_clear_error():
    with pytest.raises(KocrInputError, match="gray or RGB"):
        draw_page(np.zeros((4, 4, 2), np.uint8), _page())
