"""Per-word choice between recognisers (``recognition.choose``): kocr_sdk.recognition.choice and
the engine's recognition step, with fake recognisers whose readings and confidences are known."""

import numpy as np
import pytest

from kocr_sdk import Engine, KocrConfigError, Reading, Recognizer, hookimpl
from kocr_sdk.config import ConfidenceMap, EngineConfig
from kocr_sdk.recognition import choice


def _reader(name: str, text_by_width: dict[int, tuple[str, float]]) -> type[Recognizer]:
    """A recogniser that reads a crop by its width (so a test decides each word's reading)."""

    class Reader(Recognizer):
        scripts = ("latin", "digits")
        priority = -1

        def recognize(self, crops):
            return [Reading(text=text_by_width[c.shape[1]][0], confidence=text_by_width[c.shape[1]][1]) for c in crops]

    Reader.name = name
    return Reader


def _plugin(*classes):
    class Plugin:
        @staticmethod
        @hookimpl
        def register_recognizers(register):
            for cls in classes:
                register(cls)

    return Plugin


def _crops(*widths: int) -> list[np.ndarray]:
    return [np.full((32, w, 3), 255, np.uint8) for w in widths]


SURE_WRONG = _reader("sure", {40: ("HELLO", 0.99), 50: ("W0RLD", 0.97)})
MODEST_RIGHT = _reader("modest", {40: ("HELL0", 0.60), 50: ("WORLD", 0.70)})

# "sure" is right 30% of the time at 0.97-0.99; "modest" 90% at 0.6-0.7: raw confidence picks "sure"
CALIBRATION = {
    "sure": {"confidence": [0.0, 0.95, 1.0], "probability": [0.0, 0.2, 0.3]},
    "modest": {"confidence": [0.0, 0.5, 1.0], "probability": [0.1, 0.9, 0.95]},
}


def _engine(**recognition) -> Engine:
    return Engine(plugins=[_plugin(SURE_WRONG, MODEST_RIGHT)], load_entrypoints=False, detector="none",
                  script_identifier="none", orientation_check=False, recognition=recognition)


def test_calibrated_confidence_decides_not_the_raw_one():
    raw = _engine(choose={"latin": ["sure", "modest"]}).read_crops(_crops(40, 50), scripts=["latin", "latin"])
    assert [r.reading.text for r in raw] == ["HELLO", "W0RLD"] and raw[0].recognizer == "sure"
    out = _engine(choose={"latin": ["sure", "modest"]}, calibration=CALIBRATION).read_crops(
        _crops(40, 50), scripts=["latin", "latin"])
    assert [r.reading.text for r in out] == ["HELL0", "WORLD"]
    assert {r.recognizer for r in out} == {"modest"}
    # the kept confidence is the calibrated probability: one scale whichever recogniser read it
    assert out[1].reading.confidence == pytest.approx(float(np.interp(0.70, [0, 0.5, 1], [0.1, 0.9, 0.95])))


def test_choice_applies_only_to_the_scripts_it_names():
    engine = _engine(choose={"digits": ["sure", "modest"]}, calibration=CALIBRATION, recognizers={"latin": "sure"})
    out = engine.read_crops(_crops(40, 40), scripts=["latin", "digits"])
    assert (out[0].recognizer, out[0].reading.text, out[0].reading.confidence) == ("sure", "HELLO", 0.99)
    assert (out[1].recognizer, out[1].reading.text) == ("modest", "HELL0")


def test_choose_names_must_be_installed_and_at_least_two():
    with pytest.raises(KocrConfigError, match="nope"):
        _engine(choose={"latin": ["sure", "nope"]})
    with pytest.raises(KocrConfigError, match="two or more"):
        EngineConfig.load(None, recognition={"choose": {"latin": ["sure"]}})
    with pytest.raises(KocrConfigError, match="ascending"):
        EngineConfig.load(None, recognition={"calibration": {"sure": {"confidence": [0.9, 0.1], "probability": [0, 1]}}})
    assert EngineConfig().recognition.choose == {}  # off by default


def test_agreeing_readings_pool_their_evidence():
    calibration = {n: ConfidenceMap(confidence=[0, 1], probability=[0, 1]) for n in "abc"}
    readings = [("a", Reading(text="CAT", confidence=0.6)), ("b", Reading(text="CAR", confidence=0.5)),
                ("c", Reading(text="CAR", confidence=0.5))]
    name, reading = choice.choose(readings, calibration)
    assert reading.text == "CAR"  # 1 - 0.5 * 0.5 = 0.75 beats 0.6
    assert name == "b"  # ties within the winning text go to the earlier reader
    assert choice.choose(readings[:1], {})[1].text == "CAT"


def test_fit_is_monotone_and_reproduces_the_rates():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0, 1, 4000)
    correct = rng.uniform(0, 1, 4000) < conf ** 2  # right with probability conf²
    mapping = choice.fit(conf.tolist(), correct.tolist())
    assert all(b >= a for a, b in zip(mapping.probability, mapping.probability[1:]))
    for c in (0.3, 0.6, 0.9):
        assert choice.calibrated(c, mapping) == pytest.approx(c ** 2, abs=0.08)
    assert choice.calibrated(0.5, None) == 0.5


def test_readings_that_differ_only_in_spaces_agree_and_the_spaced_one_is_kept():
    readings = [("a", Reading(text="DATE:12/03", confidence=0.5)), ("b", Reading(text="DATE: 12/03", confidence=0.3)),
                ("c", Reading(text="DATE:12/08", confidence=0.6))]
    name, reading = choice.choose(readings, {})
    assert (name, reading.text) == ("b", "DATE: 12/03")  # 1 - 0.5 * 0.7 = 0.65 beats 0.6
    name, reading = choice.choose(readings[1:], {})
    assert (name, reading.text) == ("c", "DATE:12/08")  # alone, the spaced reading is the less likely
