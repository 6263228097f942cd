"""The recogniser-driven 0°/180° check (kocr_sdk.orientation) and its place in the engine."""

from __future__ import annotations

import numpy as np
import pytest

from kocr_sdk import Engine, TextDetector, hookimpl
from kocr_sdk.document import Char, Word
from kocr_sdk.geometry import quad_from_box
from kocr_sdk.interfaces import DetectedChar, DetectedWord, Detection, Reading, Recognizer
from kocr_sdk.orientation import apply, choose_probes, flip_quad, flip_word, quad_orientation, settle_other_axis, vote

BOXES = [(10, 10, 70, 30), (80, 10, 150, 30), (10, 50, 100, 70)]


def rolled(box, k):
    """The quad of ``box`` for text read at orientation k·90° (the detector's convention)."""
    q = list(quad_from_box(box))
    start = (4 - k) % 4
    return tuple(q[start:] + q[:start])


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_quad_orientation_reads_the_point_order(k):
    assert quad_orientation(rolled((0, 0, 40, 10), k)) == 90 * k


def test_flip_quad_turns_by_half_a_turn_and_back():
    q = rolled((0, 0, 40, 10), 0)
    assert quad_orientation(flip_quad(q)) == 180
    assert flip_quad(flip_quad(q)) == q


def test_flip_word_reverses_characters_but_keeps_their_ids():
    chars = [Char(id=f"c{i}", quad=quad_from_box((10 * i, 0, 10 * i + 10, 10)), text=t) for i, t in enumerate("ab")]
    word = Word(id="w", quad=quad_from_box((0, 0, 20, 10)), chars=chars)
    flipped = flip_word(word)
    assert [c.id for c in flipped.chars] == ["c0", "c1"]
    assert [c.text for c in flipped.chars] == ["b", "a"]  # first character now the old last one
    assert quad_orientation(flipped.quad) == 180


def left_dark(crop: np.ndarray) -> bool:
    g = crop.mean(axis=2) if crop.ndim == 3 else crop
    half = g.shape[1] // 2
    return g[:, :half].mean() < g[:, half:].mean()


def fake_confidences(crops):
    """A 'recogniser' that is sure of crops whose ink sits on the left, as upright text's does here."""
    return [0.9 if left_dark(c) else 0.2 for c in crops]


def word_crop(upright: bool) -> np.ndarray:
    crop = np.full((32, 96, 3), 255, np.uint8)
    crop[:, :48] = 0
    return crop if upright else crop[::-1, ::-1].copy()


def test_vote_keeps_upright_crops_and_turns_flipped_ones():
    assert not vote([word_crop(True)] * 5, fake_confidences).flip
    result = vote([word_crop(False)] * 4 + [word_crop(True)], fake_confidences)
    assert result.flip and result.probes == 5 and result.confidence == pytest.approx(0.8)
    assert not vote([], fake_confidences).ran


def test_first_probes_that_agree_settle_the_vote_and_doubt_reads_the_rest():
    calls: list[int] = []

    def counted(crops):
        calls.append(len(crops))
        return fake_confidences(crops)

    # four flipped probes agree by a clear margin (gain +0.7 each): the other eight are never read
    result = vote([word_crop(False)] * 12, counted, first=4, sure_margin=0.3)
    assert result.flip and result.probes == 4 and calls == [8]
    # the first four disagree: the rest are read, and all twelve decide
    calls.clear()
    mixed = [word_crop(False), word_crop(True)] * 2 + [word_crop(True)] * 8
    result = vote(mixed, counted, first=4, sure_margin=0.3)
    assert not result.flip and result.probes == 12 and calls == [8, 16] and len(result.gains) == 12
    # agreeing but by less than the margin is doubt too
    calls.clear()
    assert vote([word_crop(False)] * 6, counted, first=4, sure_margin=0.8).probes == 6


def test_probes_skip_short_and_off_axis_words():
    words = [Word(id=str(i), quad=rolled(b, k), confidence=0.9) for i, (b, k) in
             enumerate([((0, 0, 90, 30), 0), ((0, 0, 30, 30), 0), ((0, 0, 90, 30), 1)])]
    crops = [np.zeros((32, 96, 3), np.uint8), np.zeros((32, 32, 3), np.uint8), np.zeros((32, 96, 3), np.uint8)]
    assert choose_probes(words, crops, 0, limit=8) == [0]


def test_apply_turns_the_page_and_every_word_at_its_opposite():
    words = [Word(id=str(i), quad=rolled(BOXES[i], k)) for i, k in enumerate([2, 0, 1])]
    crops = [word_crop(False), word_crop(True), word_crop(True)]
    out, out_crops, orientation = apply(words, crops, 180, flip_page=True)
    assert orientation == 0
    assert [quad_orientation(w.quad) for w in out] == [0, 0, 90]  # the vertical word is left alone
    assert left_dark(out_crops[0])


class UpsideDownDetector(TextDetector):
    """Finds the words but believes the page is upside down (the detector's typical mistake)."""

    name = "upside-down"

    def detect(self, image):
        words = []
        for box in BOXES:
            x0, y0, x1, y1 = box
            mid = (x0 + x1) / 2
            chars = [DetectedChar(quad=rolled((x0, y0, mid, y1), 2)), DetectedChar(quad=rolled((mid, y0, x1, y1), 2))]
            words.append(DetectedWord(quad=rolled(box, 2), confidence=0.9, chars=chars[::-1]))
        return Detection(words=words, orientation=180, orientation_confidence=0.6)


class InkLeftReader(Recognizer):
    name = "ink-left"
    scripts = ("hangul",)
    calls: list[int] = []

    def recognize(self, crops):
        InkLeftReader.calls.append(len(crops))
        return [Reading(text="가나" if left_dark(c) else "ㄴㄱ", confidence=conf)
                for c, conf in zip(crops, fake_confidences(crops))]


class Plugin:
    @staticmethod
    @hookimpl
    def register_detectors(register):
        register(UpsideDownDetector)

    @staticmethod
    @hookimpl
    def register_recognizers(register):
        register(InkLeftReader)


@pytest.fixture
def page_image():
    image = np.full((100, 200, 3), 255, np.uint8)
    for x0, y0, x1, y1 in BOXES:  # "text" whose ink sits at the left of each word
        image[y0:y1, x0:(x0 + x1) // 2] = 0
    return image


def test_engine_turns_a_page_the_detector_got_upside_down(page_image):
    InkLeftReader.calls = []
    page = Engine(plugins=[Plugin], load_entrypoints=False, crop_margin=0.0).read(page_image).pages[0]
    assert page.orientation == 0
    assert [w.text for w in page.words] == ["가나"] * 3
    assert all(quad_orientation(w.quad) == 0 for w in page.words)
    assert page.words[0].chars[0].quad[0] == (10.0, 10.0)  # first character is the left one again
    check = next(r for r in page.stages if r.stage == "orientation_check")
    assert check.status == "ran" and check.message.endswith("turned")
    assert InkLeftReader.calls[0] == 6  # 3 probes, both ways up, in one batch


def test_orientation_check_can_be_switched_off(page_image):
    page = Engine(plugins=[Plugin], load_entrypoints=False, crop_margin=0.0,
                  orientation_check=False).read(page_image).pages[0]
    assert page.orientation == 180
    assert [w.text for w in page.words] == ["ㄴㄱ"] * 3


def test_a_square_word_on_the_other_axis_is_read_at_the_page_orientation():
    """A lone syllable's box has no axis: read sideways it turns into Latin nonsense (등 → 'ulo'),
    so it takes the page's orientation, its crop turned to what cutting it upright would give;
    a word on the other axis with a real length (a vertical table label) stays as it is."""
    from kocr_sdk.geometry import crop_quad
    from kocr_sdk.orientation import turn_quad

    image = np.full((100, 200, 3), 255, np.uint8)
    image[20:30, 20:40] = 0  # an asymmetric glyph in the square box (10, 10, 50, 50): ink top-left
    image[20:45, 20:25] = 0
    square, tall = (10, 10, 50, 50), (100, 10, 130, 80)
    words = [Word(id="sq", quad=rolled(square, 1), chars=[Char(id="sq-c0", quad=rolled(square, 1))]),
             Word(id="tall", quad=rolled(tall, 1))]
    crops = [crop_quad(image, w.quad) for w in words]
    out, out_crops, orientation = apply(words, crops, 0, flip_page=False)
    assert orientation == 0
    assert [quad_orientation(w.quad) for w in out] == [0, 90]
    assert quad_orientation(out[0].chars[0].quad) == 0
    upright = crop_quad(image, rolled(square, 0))
    assert out_crops[0].shape == upright.shape
    assert np.abs(out_crops[0].astype(int) - upright.astype(int)).mean() < 8  # the same pixels, same way up
    assert out_crops[1] is crops[1] or np.array_equal(out_crops[1], crops[1])
    assert turn_quad(turn_quad(rolled(square, 0), 1), 3) == rolled(square, 0)


def test_a_long_word_on_the_other_axis_is_read_both_ways_and_the_surer_direction_kept():
    """A document number printed up a form's margin: the page is upright, the detector calls the
    word 90° where it reads at 270°. Read both ways round, the turned crop wins and the word turns;
    a vertical word read right as cut, and words on the page's axis, stay as they are."""
    words = [Word(id="up", quad=rolled((10, 10, 30, 90), 1)),          # vertical, cut the wrong way round
             Word(id="ok", quad=rolled((40, 10, 60, 90), 3)),          # vertical, cut right
             Word(id="line", quad=rolled((80, 10, 150, 30), 0)),       # on the page's axis
             Word(id="dot", quad=rolled((160, 10, 180, 28), 1))]       # about square: not settled here
    crops = [word_crop(False), word_crop(True), word_crop(True), word_crop(False)]
    calls: list[int] = []

    def counted(batch):
        calls.append(len(batch))
        return fake_confidences(batch)

    out, out_crops, read, flips = settle_other_axis(words, crops, 0, counted)
    assert read == 2 and flips == 1 and calls == [4]  # the two vertical words, both ways round, in one call
    assert [quad_orientation(w.quad) for w in out] == [270, 270, 0, 90]
    assert left_dark(out_crops[0]) and out_crops[2] is crops[2] and out_crops[3] is crops[3]
    assert settle_other_axis(words[2:3], crops[2:3], 0, counted)[2:] == (0, 0) and calls == [4]  # nothing to read


class SidewaysDetector(TextDetector):
    """Finds three upright words and one printed up the margin, which it calls 90° (bottom to
    top) where its ink, at the top, says it reads top to bottom (270°)."""

    name = "sideways"

    def detect(self, image):
        words = [DetectedWord(quad=rolled(box, 0), confidence=0.9) for box in BOXES]
        words.append(DetectedWord(quad=rolled((160, 10, 190, 90), 1), confidence=0.9))
        return Detection(words=words, orientation=0, orientation_confidence=0.9)


class SidewaysPlugin(Plugin):
    @staticmethod
    @hookimpl
    def register_detectors(register):
        register(SidewaysDetector)


@pytest.mark.parametrize("other_axis", [True, False])
def test_the_engine_settles_a_margin_word_unless_told_not_to(page_image, other_axis):
    page_image[10:50, 160:190] = 0  # the margin word's ink: its first half from the top
    engine = Engine(plugins=[SidewaysPlugin], load_entrypoints=False, crop_margin=0.0, detector="sideways",
                    orientation={"other_axis": other_axis})
    page = engine.read(page_image).pages[0]
    margin_word = next(w for w in page.words if quad_orientation(w.quad) % 180 == 90)
    message = next(r for r in page.stages if r.stage == "orientation_check").message
    if other_axis:
        assert margin_word.text == "가나" and quad_orientation(margin_word.quad) == 270
        assert message.endswith("words on the other axis read both ways round: 1 of 1 turned")
    else:
        assert margin_word.text == "ㄴㄱ" and quad_orientation(margin_word.quad) == 90
        assert "other axis" not in message
