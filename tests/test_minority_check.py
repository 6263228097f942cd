"""A script that is a stray on its page (a lone `hangul` guess among English words) is read by the
page's main reader too, and takes that reading and script when that reader is the surer."""

from __future__ import annotations

import numpy as np
import pytest

from kocr_sdk import (DetectedWord, Detection, Engine, Reading, Recognizer, ScriptIdentifier, ScriptPrediction,
                      TextDetector, hookimpl)
from kocr_sdk.geometry import quad_from_box

N = 25  # one stray word of 25 is under the default min_page_share (0.05)


class RowDetector(TextDetector):
    name = "row"

    def detect(self, image):
        return Detection(words=[DetectedWord(quad=quad_from_box((10, 10 + 30 * i, 60, 30 + 30 * i)), confidence=0.9)
                                for i in range(N)])


class FirstIsHangul(ScriptIdentifier):
    """The first crop of the page (the first call's first crop) is labelled hangul, the rest latin."""

    name = "first-hangul"
    scripts = ("hangul", "latin")
    strays = 1

    def identify(self, crops):
        return [ScriptPrediction(probabilities={"hangul": 0.9, "latin": 0.1} if k < FirstIsHangul.strays
                                 else {"latin": 0.9, "hangul": 0.1}) for k in range(len(crops))]


class Hangul(Recognizer):
    name = "ko"
    scripts = ("hangul",)
    confidence = 0.4
    text = "가"
    read = 0

    def recognize(self, crops):
        Hangul.read += len(crops)
        return [Reading(text=Hangul.text, confidence=Hangul.confidence) for _ in crops]


class Latin(Recognizer):
    name = "en"
    scripts = ("latin", "digits")
    read = 0

    def recognize(self, crops):
        Latin.read += len(crops)
        return [Reading(text="word", confidence=0.9) for _ in crops]


class Plugin:
    @staticmethod
    @hookimpl
    def register_detectors(register):
        register(RowDetector)

    @staticmethod
    @hookimpl
    def register_script_identifiers(register):
        register(FirstIsHangul)

    @staticmethod
    @hookimpl
    def register_recognizers(register):
        register(Hangul)
        register(Latin)


@pytest.fixture
def page():
    return np.full((30 * N + 40, 100, 3), 255, np.uint8)


def read(page, **kw):
    Hangul.read = Latin.read = 0
    Hangul.text = kw.pop("hangul_text", "가")
    engine = Engine(plugins=[Plugin], load_entrypoints=False, batch_size=1000, crop_margin=0.0,
                    orientation_check=False, scripts={"page_prior": False, **kw})
    return engine.read(page).pages[0].words


def test_a_stray_hangul_guess_the_latin_reader_is_surer_of_becomes_latin(page):
    Hangul.confidence, FirstIsHangul.strays = 0.4, 1
    words = read(page)
    assert sum(w.script == "hangul" for w in words) == 0 and words[0].text == "word" and words[0].recognizer == "en"
    assert Hangul.read == 1 and Latin.read == N  # the stray read by both, the rest once


def test_a_korean_word_the_hangul_reader_is_sure_of_stays_korean(page):
    Hangul.confidence, FirstIsHangul.strays = 0.99, 1
    words = read(page)
    assert words[0].script == "hangul" and words[0].text == "가" and words[0].recognizer == "ko"


def test_a_script_the_page_really_uses_is_not_second_guessed(page):
    Hangul.confidence, FirstIsHangul.strays = 0.4, 5  # 5 of 25: not rare
    words = read(page)
    assert sum(w.script == "hangul" for w in words) == 5 and Latin.read == N - 5


def test_the_check_can_be_turned_off(page):
    Hangul.confidence, FirstIsHangul.strays = 0.4, 1
    words = read(page, minority_check=[])
    assert words[0].script == "hangul" and Latin.read == N - 1


def test_a_stray_its_own_reader_finds_none_of_its_script_in_takes_the_page_s_label(page):
    Hangul.confidence, FirstIsHangul.strays = 0.99, 1  # surer than the Latin reader, but "001" is no Hangul
    words = read(page, hangul_text="001")
    assert words[0].script == "digits" and words[0].text == "001" and words[0].recognizer == "ko"


def test_a_hangul_label_its_own_reading_contradicts_takes_the_script_of_the_reading(page):
    # Hangul is not a stray here (min_page_share 0): the page-share check leaves it alone,
    # but its reader read "001", which holds no Hangul.
    Hangul.confidence, FirstIsHangul.strays = 0.9, 1
    words = read(page, hangul_text="001", min_page_share=0.0)
    assert (words[0].text, words[0].script, words[0].recognizer) == ("001", "digits", "ko")
    assert words[0].script_confidence is None
    assert words[0].unsupported_script  # the reader that read it declares Hangul only


def test_a_label_is_kept_when_the_reading_holds_its_script_or_nothing_or_relabelling_is_off(page):
    FirstIsHangul.strays = 1
    assert read(page, hangul_text="11/32/앵원", min_page_share=0.0)[0].script == "hangul"
    assert read(page, hangul_text="", min_page_share=0.0)[0].script == "hangul"
    assert read(page, hangul_text="001", min_page_share=0.0, relabel_by_reading=[])[0].script == "hangul"
