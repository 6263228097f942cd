import json
import xml.etree.ElementTree as ET

import pytest

from kocr_sdk import Document, Engine
from kocr_sdk.document import Block, Char, Entity, FieldValue, Line, Page, StageRecord, TemplateMatch, Word
from kocr_sdk.geometry import quad_from_box


def full_document() -> Document:
    w0 = Word(id="w0", quad=((10.5, 10.25), (50, 10), (50, 30), (10, 30)), confidence=0.9,
              chars=[Char(id="w0c0", quad=quad_from_box((10, 10, 30, 30)), text="등", confidence=0.5)],
              script="hangul", script_confidence=0.97, text="등록번호", text_confidence=0.88, recognizer="vitstr")
    w1 = Word(id="w1", quad=quad_from_box((60, 10, 160, 30)), text="214-86-18758", script="digits")
    line = Line(id="l0", quad=quad_from_box((10, 10, 160, 30)), word_ids=["w0", "w1"])
    page = Page(
        index=0, source="a.png", width=200, height=100, scale=0.5, orientation=90, orientation_confidence=0.7,
        words=[w0, w1], blocks=[Block(id="b0", quad=line.quad, lines=[line])],
        entities=[Entity(id="e0", label="BIZ_REG_NO", text="214-86-18758", word_ids=["w1"], confidence=0.9, valid=True)],
        template_match=TemplateMatch(template_id="kr-business-registration", score=0.8, fields={
            "registration_number": FieldValue(name="registration_number", value="214-86-18758",
                                              normalized="2148618758", confidence=0.9, word_ids=["w1"], valid=True)}),
        script_shares={"hangul": 0.5, "digits": 0.5},
        stages=[StageRecord(stage="detector", implementation="x", status="ran", seconds=0.1)],
    )
    return Document(kocr_version="0.1.0", pages=[page], metadata={"k": [1, 2]})


def test_json_round_trip_is_lossless():
    doc = full_document()
    again = Document.model_validate_json(doc.model_dump_json())
    assert again == doc
    assert again.pages[0].words[0].quad[0] == (10.5, 10.25)


def test_box_is_derived_from_quad():
    w = Word(id="w", quad=((5, 1), (9, 2), (8, 7), (4, 6)))
    assert w.box == (4.0, 1.0, 9.0, 7.0)


def test_text_follows_reading_order_of_lines():
    doc = full_document()
    assert doc.pages[0].text == "등록번호 214-86-18758"
    # without blocks, detector order
    page = doc.pages[0].model_copy(update={"blocks": []})
    assert page.text == "등록번호 214-86-18758"


def test_schema_export_describes_the_document():
    schema = Document.json_schema()
    assert schema["title"] == "Document"
    assert "Word" in schema["$defs"] and "TemplateMatch" in schema["$defs"]
    json.dumps(schema)


def test_hocr_is_well_formed_and_has_word_boxes():
    hocr = full_document().to_hocr()
    root = ET.fromstring(hocr.split("\n", 2)[2])  # skip the XML declaration and doctype
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    words = root.findall(".//h:span[@class='ocrx_word']", ns)
    assert [w.text for w in words] == ["등록번호", "214-86-18758"]
    assert "bbox 10 10 50 30" in words[0].attrib["title"]


def test_timings_sum_per_stage(fake_plugin, white_page):
    doc = Engine(plugins=[fake_plugin], load_entrypoints=False).read([white_page, white_page])
    t = doc.timings()
    assert set(t) >= {"detector", "recognizer", "clusterer"}
    assert all(v >= 0 for v in t.values())


def test_crop_margin_grows_a_rotated_quad_in_its_own_frame():
    import numpy as np

    from kocr_sdk.geometry import crop_quad, grow_quad, quad_size

    # a 100×20 word read bottom-to-top (turned 90° counter-clockwise): TL is bottom-left
    quad = [(10, 110), (10, 10), (30, 10), (30, 110)]
    grown = grow_quad(quad, 0.25)
    w, h = quad_size(grown)
    assert (round(w), round(h)) == (110, 30)  # 5 px (0.25 × height 20) on every side
    assert np.allclose(grown[0], (5, 115))
    image = np.full((130, 50), 255, np.uint8)
    image[10:110, 10:30] = 0
    assert crop_quad(image, quad, 20).shape == (20, 100)
    padded = crop_quad(image, quad, 30, margin=0.25)
    assert padded.shape == (30, 110) and padded[0].min() == 255 and padded[15, 55] == 0


def test_crop_margin_ends_where_the_next_word_begins_and_keeps_the_word_whole():
    import numpy as np

    from kocr_sdk.geometry import crop_quad, neighbour_quads, quad_from_box

    image = np.full((60, 200), 250, np.uint8)
    image[20:40, 20:80] = 0     # the word
    image[20:40, 84:140] = 0    # the next word, 4 px away: inside a 0.3 × 20 px margin
    word, nxt = quad_from_box((20, 20, 80, 40)), quad_from_box((84, 20, 140, 40))
    above = quad_from_box((0, 0, 200, 15))  # the line above, inside the top margin only
    around = neighbour_quads([word, nxt, above, quad_from_box((190, 50, 199, 59))], 0.3)
    assert [len(a) for a in around] == [2, 2, 0, 0]  # by each box's own margin; the far box meets none
    plain = crop_quad(image, word, None, 0.3)
    trimmed = crop_quad(image, word, None, 0.3, around[0])
    assert plain.shape == (32, 72) and plain[16, 71] == 0  # the untrimmed margin holds the next word's edge
    assert trimmed.shape == (32, 70)                       # ends where the next word begins
    assert (trimmed == plain[:, :70]).all()                # the word and its other margins untouched
    assert (crop_quad(image, word, None, 0.3, [above]) == plain).all()  # a line above does not trim


@pytest.mark.parametrize("orientation", [90, 270])
def test_turn_upright_maps_boxes_back_to_the_sideways_page(orientation):
    import numpy as np

    from kocr_sdk.geometry import box_from_quad, quad_from_box, reading_orientation, turn_upright

    image = np.zeros((100, 200), np.uint8)
    image[30:40, 10:20] = 255
    turned, back = turn_upright(image, orientation)
    assert turned.shape == (200, 100)
    ys, xs = np.nonzero(turned)
    found = quad_from_box((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
    assert np.allclose(box_from_quad(back(found)), (10, 30, 20, 40))
    # a word reading left to right on the turned page reads in the page's own direction on the original
    assert reading_orientation([back(found)]) == orientation
    assert reading_orientation([found]) == 0 and reading_orientation([]) == 0
    with pytest.raises(ValueError):
        turn_upright(image, 180)


def test_a_sideways_page_is_detected_again_upright(fake_plugin):
    """The engine turns a page the detector calls sideways upright, detects again and maps the boxes back."""
    import numpy as np

    from kocr_sdk.geometry import box_from_quad

    seen = []

    class Sideways:
        name = "sideways"

        def detect(self, image):
            from kocr_sdk.interfaces import DetectedWord, Detection
            from kocr_sdk.geometry import quad_from_box

            seen.append(image.shape[:2])
            if len(seen) == 1:  # the first pass: one word, page turned
                return Detection(words=[DetectedWord(quad=quad_from_box((0, 0, 5, 5)))], orientation=270)
            return Detection(words=[DetectedWord(quad=quad_from_box((10, 20, 50, 30)))], orientation=0)

    engine = Engine(plugins=[fake_plugin], load_entrypoints=False, orientation_check=False)
    engine._instances[("detector", engine._choices["detector"].name)] = Sideways()
    page = engine.read(np.full((60, 80, 3), 255, np.uint8)).pages[0]
    assert seen == [(60, 80), (80, 60)]
    assert page.orientation == 270 and len(page.words) == 1
    assert np.allclose(box_from_quad(page.words[0].quad), (50, 10, 60, 50))  # (x, y) -> (80 - y, x)
