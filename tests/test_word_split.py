"""A box the detector put over two words is split where the recogniser read a space, at the blank
columns between the words' ink, with the characters and ids following the pieces."""

from __future__ import annotations

import numpy as np
import pytest

from kocr_sdk import DetectedChar, DetectedWord, Detection, Engine, Reading, Recognizer, TextDetector, hookimpl
from kocr_sdk.document import Char, Page, Word
from kocr_sdk.geometry import quad_from_box
from kocr_sdk.recognition.spaces import piece_spans, split_spaced_words

# Two words of 4 px strokes 4 px apart on a white page, x 100-216 and 236-300, rows 50-70. By
# character shares ("ABCDE FG") the space would sit at 5.5/8 of 100-300 = x 237, on the second
# word's first stroke: only the ink places it in the real gap (216-236), wider than a letter gap.
BOX = (100, 50, 300, 70)


def _image() -> np.ndarray:
    image = np.full((200, 400, 3), 255, np.uint8)
    for start, end in ((100, 220), (236, 300)):
        for x in range(start, end, 8):
            image[50:70, x:x + 4] = 0
    return image


def _word(text: str, quad=None, chars=()) -> Word:
    return Word(id="p0-w0", quad=quad or quad_from_box(BOX), text=text, text_confidence=0.8, script="latin",
                chars=list(chars))


def _page(*words: Word) -> Page:
    return Page(index=0, width=400, height=200, words=list(words))


def test_the_space_goes_into_the_gap_the_ink_shows_not_where_character_counts_put_it():
    page = split_spaced_words(_page(_word("ABCDE FG")), _image())
    assert [w.text for w in page.words] == ["ABCDE", "FG"]
    first, second = (w.box for w in page.words)
    assert first[0] == pytest.approx(100, abs=1) and first[2] == pytest.approx(216, abs=2)
    assert second[0] == pytest.approx(236, abs=2) and second[2] == pytest.approx(300, abs=1)
    assert first[1] == pytest.approx(50) and second[3] == pytest.approx(70)


def test_pieces_keep_their_characters_and_are_renumbered_in_reading_order():
    chars = [Char(id=f"p0-w0-c{j}", quad=quad_from_box((x, 50, x + 10, 70))) for j, x in enumerate((105, 150, 250))]
    other = _word("alone", quad_from_box((100, 100, 160, 120))).model_copy(update={"id": "p0-w1"})
    page = split_spaced_words(_page(_word("ABCDE FG", chars=chars), other), _image())
    assert [w.id for w in page.words] == ["p0-w0", "p0-w1", "p0-w2"]
    assert [w.text for w in page.words] == ["ABCDE", "FG", "alone"]
    assert [[c.id for c in w.chars] for w in page.words] == [["p0-w0-c0", "p0-w0-c1"], ["p0-w1-c0"], []]
    assert all(w.text_confidence == 0.8 and w.script == "latin" for w in page.words)


def test_a_word_read_upside_down_splits_in_its_own_reading_direction():
    x0, y0, x1, y1 = BOX
    turned = ((x1, y1), (x0, y1), (x0, y0), (x1, y0))  # reading right to left, upside down
    image = _image()  # the same pixels: the quad alone says which way the word reads
    page = split_spaced_words(_page(_word("GF EDCBA", quad=turned)), image)
    assert [w.text for w in page.words] == ["GF", "EDCBA"]
    assert page.words[0].box[0] == pytest.approx(236, abs=2)  # "GF" is the right-hand blob
    assert page.words[1].box[2] == pytest.approx(216, abs=2)


def test_without_contrast_the_pieces_share_the_box_by_their_characters():
    assert piece_spans("ab cd", np.full((32, 100), 200, np.uint8)) == [(0.0, 0.4), (0.6, 1.0)]
    assert piece_spans("ab cd", None) == [(0.0, 0.4), (0.6, 1.0)]


def test_words_without_spaces_leave_the_page_as_it_was():
    page = _page(_word("ABCDEFG"))
    assert split_spaced_words(page, _image()) is page


class OneBox(TextDetector):
    name = "one-box"

    def detect(self, image):
        return Detection(words=[DetectedWord(quad=quad_from_box(BOX), confidence=0.9,
                                             chars=[DetectedChar(quad=quad_from_box((105, 50, 115, 70)))])])


class Spaced(Recognizer):
    name = "spaced"
    scripts = ("latin",)

    def recognize(self, crops):
        return [Reading(text="ABCDE FG", confidence=0.9) for _ in crops]


class Plugin:
    @staticmethod
    @hookimpl
    def register_detectors(register):
        register(OneBox)

    @staticmethod
    @hookimpl
    def register_recognizers(register):
        register(Spaced)


@pytest.mark.parametrize("split", [True, False])
def test_the_engine_splits_unless_told_not_to(split):
    engine = Engine(plugins=[Plugin], load_entrypoints=False, orientation_check=False,
                    recognition={"split_at_spaces": split}, scripts={"default": "latin"})
    words = engine.read(_image()).pages[0].words
    assert [w.text for w in words] == (["ABCDE", "FG"] if split else ["ABCDE FG"])
