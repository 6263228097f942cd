import numpy as np
import pytest

from kocr_sdk import (Document, Engine, EngineConfig, KocrConfigError, KocrStageError, Reading, Recognizer, TextDetector,
                      hookimpl)
from kocr_sdk.config import resolve_device
from tests.conftest import HangulReader, LatinReader, WidthScript


def engine(plugins, **kw):
    # no crop margin: the fake script identifier keys on exact crop widths
    kw.setdefault("crop_margin", 0.0)
    # the orientation check would add recogniser calls these tests count (tests/test_orientation.py covers it)
    kw.setdefault("orientation_check", False)
    return Engine(plugins=plugins, load_entrypoints=False, **kw)


def test_no_plugins_runs_and_names_every_missing_stage(white_page):
    doc = engine([]).read(white_page)
    page = doc.pages[0]
    assert page.words == [] and page.width == 200 and page.height == 100
    missing = {r.stage for r in page.missing_stages}
    assert missing == {"detector", "script_identifier", "recognizer", "entity_recognizer"}
    assert all("install" in r.message or "no script identifier" in r.message for r in page.missing_stages)


def test_full_pipeline_with_test_plugins(fake_plugin, white_page):
    doc = engine([fake_plugin]).read(white_page)
    page = doc.pages[0]
    assert [w.text for w in page.words] == ["가나", "가나", "가나"]
    assert all(w.script == "hangul" and w.recognizer == "hangul-reader" for w in page.words)
    # characters get their letters and confidences when counts agree
    assert [c.text for c in page.words[0].chars] == ["가", "나"]
    assert [c.confidence for c in page.words[0].chars] == [0.7, 0.9]
    assert page.text == "가나 가나\n\n가나"
    assert page.script_shares == {"hangul": 1.0}
    statuses = {r.stage: r.status for r in page.stages}
    assert statuses["detector"] == "ran" and statuses["entity_recognizer"] == "missing"
    assert doc.metadata["stages"]["detector"] == "fixed"


def test_dispatch_groups_by_script_and_keeps_word_order(fake_plugin, white_page):
    # crop widths at height 32: word 0 is 50x20 -> 80 px, word 1 60x20 -> 96, word 2 80x20 -> 128
    WidthScript.table = {96: {"latin": 0.99, "hangul": 0.01}}
    doc = engine([fake_plugin], batch_size=1).read(white_page)
    words = doc.pages[0].words
    assert [w.text for w in words] == ["가나", "AB", "가나"]
    assert [w.recognizer for w in words] == ["hangul-reader", "latin-reader", "hangul-reader"]
    assert HangulReader.calls == [1, 1]  # two hangul crops, batch size 1
    assert doc.pages[0].script_shares == {"hangul": 0.6667, "latin": 0.3333}


def test_low_confidence_runs_top_two_and_keeps_the_surer_reading(fake_plugin, white_page):
    WidthScript.table = {96: {"hangul": 0.55, "latin": 0.45}}
    words = engine([fake_plugin], script_fallback_threshold=0.6, scripts={"page_prior": False}).read(white_page).pages[0].words
    assert words[1].text == "AB" and words[1].recognizer == "latin-reader"  # 0.95 beats 0.8
    LatinReader.confidence = 0.5
    words = engine([fake_plugin], script_fallback_threshold=0.6, scripts={"page_prior": False}).read(white_page).pages[0].words
    assert words[1].text == "가나"
    # above the threshold only the first choice runs
    LatinReader.confidence = 0.95
    words = engine([fake_plugin], script_fallback_threshold=0.5, scripts={"page_prior": False}).read(white_page).pages[0].words
    assert words[1].recognizer == "hangul-reader"


def test_unsupported_script_is_flagged_and_read_best_effort(fake_plugin, white_page):
    WidthScript.table = {128: {"han": 0.99, "hangul": 0.01}}
    words = engine([fake_plugin]).read(white_page).pages[0].words
    assert words[2].script == "han" and words[2].unsupported_script is True
    assert words[2].recognizer == "hangul-reader"
    assert not words[0].unsupported_script


def test_recognizer_map_in_config_overrides_auto_choice(fake_plugin, white_page):
    class BothReader(Recognizer):
        name = "both-reader"
        scripts = ("hangul", "latin")
        priority = -1  # auto would pick hangul-reader

        def recognize(self, crops):
            return [Reading(text="둘", confidence=0.5) for _ in crops]

    class P:
        @staticmethod
        @hookimpl
        def register_recognizers(register):
            register(BothReader)

    words = engine([fake_plugin, P], recognizers={"hangul": "both-reader"}).read(white_page).pages[0].words
    assert {w.recognizer for w in words} == {"both-reader"}


def test_a_recognizer_named_for_a_script_it_does_not_declare_is_refused(fake_plugin):
    with pytest.raises(KocrConfigError, match=r"recognizers.latin: 'hangul-reader' does not read 'latin', it declares "
                                              r"only hangul \(recognisers that read latin: latin-reader\)"):
        engine([fake_plugin], recognizers={"latin": "hangul-reader"})
    with pytest.raises(KocrConfigError, match=r"no installed recogniser declares other.*script_routes: \{other: "):
        engine([fake_plugin], recognizers={"other": "hangul-reader"})


def test_unknown_names_in_config_fail_early(fake_plugin):
    with pytest.raises(KocrConfigError, match="no detector named 'nope'.*available: fixed"):
        engine([fake_plugin], detector="nope")
    with pytest.raises(KocrConfigError, match="no recognizer named 'nope'"):
        engine([fake_plugin], recognizers={"hangul": "nope"})


def test_stage_disabled_with_none_is_skipped(fake_plugin, white_page):
    page = engine([fake_plugin], clusterer="none").read(white_page).pages[0]
    rec = {r.stage: r for r in page.stages}["clusterer"]
    assert rec.status == "skipped" and page.blocks == []


def test_failing_stage_raises_a_stage_error_naming_it(white_page):
    class Broken(TextDetector):
        name = "broken"

        def detect(self, image):
            raise RuntimeError("shape mismatch deep inside")

    class P:
        @staticmethod
        @hookimpl
        def register_detectors(register):
            register(Broken)

    with pytest.raises(KocrStageError, match="text detector 'broken' failed on <array>: RuntimeError"):
        engine([P]).read(white_page)


def test_large_images_are_scaled_and_coordinates_map_back(fake_plugin):
    big = np.full((1000, 2000, 3), 255, np.uint8)
    page = engine([fake_plugin], max_side=500).read(big).pages[0]
    assert page.scale == 0.25 and page.width == 2000
    # the detector saw the 500 px image; its boxes come back in original pixels
    assert page.words[0].box == (40.0, 40.0, 240.0, 120.0)


def test_postprocess_hook_can_replace_the_page(fake_plugin, white_page):
    class Post:
        @staticmethod
        @hookimpl
        def postprocess_page(page, image):
            assert image.shape == (100, 200, 3)
            return page.model_copy(update={"words": page.words[:1]})

    page = engine([fake_plugin, Post]).read(white_page).pages[0]
    assert len(page.words) == 1


def test_several_pages_and_round_trip(fake_plugin, white_page):
    doc = engine([fake_plugin]).read([white_page, white_page.copy()])
    assert [p.index for p in doc.pages] == [0, 1]
    assert doc.pages[1].words[0].id == "p1-w0"
    assert Document.model_validate_json(doc.model_dump_json()) == doc


def test_read_crops_without_detection(fake_plugin):
    crops = [np.full((32, 80, 3), 255, np.uint8), np.full((32, 96, 3), 255, np.uint8)]
    WidthScript.table = {96: {"latin": 0.9, "hangul": 0.1}}
    out = engine([fake_plugin]).read_crops(crops)
    assert [r.reading.text for r in out] == ["가나", "AB"]
    out = engine([fake_plugin]).read_crops(crops, scripts=["latin", "latin"])
    assert [r.recognizer for r in out] == ["latin-reader", "latin-reader"]


def _width_reader_plugin(batches, answer=None):
    """A plugin whose recogniser reads each crop as its width and records the batches it got."""
    from kocr_sdk import Reading, Recognizer

    class WidthReader(Recognizer):
        name = "width-reader"
        scripts = ("hangul",)

        def recognize(self, crops):
            batches.append([c.shape[1] for c in crops])
            readings = [Reading(text=str(c.shape[1]), confidence=0.9) for c in crops]
            return readings if answer is None else readings[:answer]

    class P:
        @staticmethod
        @hookimpl
        def register_recognizers(register):
            register(WidthReader)

    return P


def test_batches_hold_crops_of_similar_width_and_readings_keep_crop_order():
    # a batch is padded to its widest crop: cut in page order, a 40 px word would share one with
    # a 300 px line; ordered by aspect ratio first, each batch holds neighbours in width
    widths = [300, 40, 120, 48, 280, 100]
    crops = [np.full((32, w, 3), 255, np.uint8) for w in widths]
    batches: list[list[int]] = []
    out = engine([_width_reader_plugin(batches)], batch_size=2).read_crops(crops, scripts=["hangul"] * 6)
    assert [r.reading.text for r in out] == [str(w) for w in widths]
    assert batches == [[40, 48], [100, 120], [280, 300]]


def test_a_recogniser_returning_too_few_readings_is_a_stage_error():
    crops = [np.full((32, w, 3), 255, np.uint8) for w in (40, 50, 60)]
    with pytest.raises(KocrStageError, match="recogniser 'width-reader' returned 1 results for a batch of 3 crops"):
        engine([_width_reader_plugin([], answer=1)]).read_crops(crops, scripts=["hangul"] * 3)


def test_spaces_at_a_readings_ends_are_dropped_with_their_confidences():
    from kocr_sdk import Reading, Recognizer

    class EdgeSpaceReader(Recognizer):
        name = "edge-space"
        scripts = ("hangul",)

        def recognize(self, crops):
            return [Reading(text=" TO: ", confidence=0.8, char_confidences=[0.1, 0.9, 0.8, 0.7, 0.2])
                    for _ in crops]

    class P:
        @staticmethod
        @hookimpl
        def register_recognizers(register):
            register(EdgeSpaceReader)

    out = engine([P]).read_crops([np.full((32, 60, 3), 255, np.uint8)], scripts=["hangul"])
    assert out[0].reading.text == "TO:" and out[0].reading.char_confidences == [0.9, 0.8, 0.7]


@pytest.mark.parametrize(
    "requested, cuda, expected",
    [("auto", True, "cuda"), ("auto", False, "cpu"), ("cpu", True, "cpu"), ("cuda", True, "cuda")],
)
def test_device_auto_selection(requested, cuda, expected):
    assert resolve_device(requested, cuda_available=cuda) == expected


def test_cuda_without_gpu_is_a_config_error():
    with pytest.raises(KocrConfigError, match="no CUDA GPU"):
        resolve_device("cuda", cuda_available=False)


def test_engine_accepts_a_config_object(fake_plugin, white_page):
    cfg = EngineConfig(device="cpu", detector="fixed")
    e = Engine(cfg, plugins=[fake_plugin], load_entrypoints=False)
    assert e.device == "cpu" and e.describe()["detector"] == "fixed"
