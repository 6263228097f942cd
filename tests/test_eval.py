"""kocr_sdk.lab.eval against hand-computed tiny cases: matching, every metric, loaders, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from kocr_sdk.lab.eval import (
    EvalPage,
    KocrDataError,
    evaluate,
    figures,
    load_funsd,
    load_icdar15,
    match_polygons,
    pair_predictions,
    polygon_iou,
    read_pages,
    score_page,
    script_of,
    write_pages,
)


def box(x0, y0, x1, y1):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def word(text, poly, script=None, **extra):
    return {"text": text, "poly": poly, "script": script or script_of(text), **extra}


def page(words, image="p.png", **extra):
    return EvalPage.model_validate({"image": image, "words": words, **extra})


def score(gt_words, pred_words, **kw):
    return figures(score_page(page(gt_words), page(pred_words), **kw).tally())


GT = [word("합계", box(0, 0, 40, 20)), word("12,000원", box(50, 0, 130, 20)), word("TEL", box(0, 30, 30, 50))]


# ----------------------------------------------------------------------------------- matching
def test_polygon_iou_of_rotated_and_axis_aligned_quads():
    square = box(0, 0, 10, 10)
    assert polygon_iou(square, box(5, 0, 15, 10)) == pytest.approx(1 / 3)
    diamond = [[5, 0], [10, 5], [5, 10], [0, 5]]  # area 50, fully inside the square
    assert polygon_iou(square, diamond) == pytest.approx(0.5)
    assert polygon_iou(square, diamond[::-1]) == pytest.approx(0.5)  # orientation does not matter
    assert polygon_iou(square, box(20, 20, 30, 30)) == 0.0


def test_matching_maximises_pairs_where_greedy_would_lose_one():
    g = [box(0, 0, 10, 10), box(2, 0, 12, 10)]  # two overlapping ground-truth boxes
    p = [box(0.5, 0, 10.5, 10), box(-3, 0, 8, 10)]
    # IoU: (g0,p0)=9.5/10.5=.905, (g1,p0)=8.5/11.5=.739, (g0,p1)=8/13=.615, (g1,p1)=6/15=.4.
    # Greedy takes (g0,p0) first and then p1 fits nothing: 1 pair. Two pairs exist.
    m = match_polygons(g, p)
    assert sorted((a, b) for a, b, _ in m.pairs) == [(0, 1), (1, 0)]
    assert m.unmatched_gt == [] and m.unmatched_pred == []
    assert match_polygons(g, p[:1]).pairs[0][:2] == (0, 0)  # alone, p0 goes to its best box


def test_error_kinds_say_why_each_word_went_unmatched():
    from kocr_sdk.lab.eval.errors import error_kinds

    gt = [box(0, 0, 40, 20), box(50, 0, 90, 20),  # two words one prediction spans
          box(0, 40, 100, 60),                   # a long word found in two halves
          box(0, 80, 40, 100),                   # a word found with a box shifted down (IoU 1/3)
          box(0, 120, 40, 140)]                  # a word nothing touches
    pred = [box(0, 0, 90, 20), box(0, 40, 49, 60), box(51, 40, 100, 60),
            box(0, 90, 40, 110), box(200, 200, 240, 220)]
    misses, extras = error_kinds(gt, pred)
    assert dict(misses) == {"merged": 2, "split": 1, "loose": 1, "missed": 1}
    assert dict(extras) == {"merge": 1, "fragment": 2, "loose": 1, "spurious": 1}
    # a matched word is no error: the kinds count only what the matching left over
    misses, extras = error_kinds(gt[:2], gt[:2])
    assert sum(misses.values()) == sum(extras.values()) == 0
    assert error_kinds([], pred[:2])[1]["spurious"] == 2
    assert error_kinds(gt[:3], [])[0]["missed"] == 3


# ----------------------------------------------------------------------------------- metrics
def test_perfect_prediction_scores_one_and_zero_cer():
    f = score(GT, GT)
    for key in ("word_precision", "word_recall", "word_hmean", "e2e_hmean", "char_f1", "word_accuracy"):
        assert f[key] == 1.0, key
    assert f["cer"] == 0.0


def test_box_shifted_below_iou_half_is_a_miss_and_a_false_positive():
    shifted = [GT[0], GT[1], word("TEL", box(20, 30, 50, 50))]  # IoU with (0,30,30,50) = 10/50 = 0.2
    t = score_page(page(GT), page(shifted)).tally()
    assert (t.det_matched, t.gt_words, t.pred_words) == (2, 3, 3)
    f = figures(t)
    assert f["word_precision"] == pytest.approx(2 / 3) and f["word_recall"] == pytest.approx(2 / 3)
    # the unmatched "TEL" costs 3 deletions and 3 insertions over 2 + 7 + 3 = 12 GT characters
    assert f["cer"] == pytest.approx(6 / 12)
    # char F1 ignores boxes: the same characters were read
    assert f["char_f1"] == 1.0


def test_duplicate_prediction_is_penalised():
    f = score(GT, GT + [GT[0]])
    assert f["word_recall"] == 1.0
    assert f["word_precision"] == pytest.approx(3 / 4)
    assert f["word_hmean"] == pytest.approx(2 * 3 / (3 + 4))
    assert f["e2e_hmean"] == pytest.approx(6 / 7)
    assert f["cer"] == pytest.approx(2 / 12)  # the duplicate's 2 characters are insertions


def test_cer_with_one_substitution():
    pred = [GT[0], word("12,000윈", GT[1]["poly"]), GT[2]]
    f = score(GT, pred)
    assert f["cer"] == pytest.approx(1 / 12)
    assert f["e2e_precision"] == pytest.approx(2 / 3) and f["word_hmean"] == 1.0
    assert f["word_accuracy"] == pytest.approx(2 / 3)


def test_char_f1_by_hand():
    gt = [word("aab c", box(0, 0, 10, 10))]          # non-space characters: a, a, b, c
    pred = [word("abd", box(100, 0, 110, 10))]        # a, b, d (box wrong: char F1 ignores it)
    f = score(gt, pred)
    # overlap = min(2,1)[a] + 1[b] = 2; P = 2/3, R = 2/4, F1 = 2*2/(4+3)
    assert f["char_f1_precision"] == pytest.approx(2 / 3)
    assert f["char_f1_recall"] == pytest.approx(0.5)
    assert f["char_f1"] == pytest.approx(4 / 7)
    assert f["word_hmean"] == 0.0


def test_character_detection_only_where_both_sides_have_chars():
    chars = [{"text": "합", "poly": box(0, 0, 20, 20)}, {"text": "계", "poly": box(20, 0, 40, 20)}]
    gt = [word("합계", box(0, 0, 40, 20), chars=chars)]
    assert score(gt, gt)["char_hmean"] == 1.0
    assert score(gt, [word("합계", box(0, 0, 40, 20))])["char_hmean"] is None
    half = [word("합계", box(0, 0, 40, 20), chars=chars[:1])]
    f = score(gt, half)
    assert f["char_precision"] == 1.0 and f["char_recall"] == 0.5


def test_field_exact_match():
    gt = page(GT, fields={"total": "12,000원", "tel": "02-123-4567", "date": "2021.03.05"})
    pred = page(GT, fields={"total": " 12,000원 ", "tel": "02-123-4568"})  # date missing
    f = figures(score_page(gt, pred).tally())
    assert f["fields"] == 3 and f["field_exact_match"] == pytest.approx(1 / 3)


def test_dont_care_words_are_neither_found_nor_missed():
    gt = GT + [{"text": "", "poly": box(0, 100, 50, 120), "ignore": True}]
    pred = GT + [word("blur", box(2, 101, 48, 119))]
    r = score_page(page(gt), page(pred))
    f = figures(r.tally())
    assert f["word_hmean"] == 1.0 and r.dropped_pred == 1


def test_no_prediction_for_a_page_counts_every_word_missed():
    f = figures(score_page(page(GT), None).tally())
    assert f["word_recall"] == 0.0 and f["word_precision"] is None and f["word_hmean"] == 0.0
    assert f["cer"] == 1.0


def test_script_and_page_key_breakdowns():
    gt_pages = [
        page(GT, image="a.png", layout="receipt", font="NanumGothic"),
        page([word("No.", box(0, 0, 30, 20))], image="b.png", layout="form", font="NanumGothic"),
    ]
    preds = [page(GT[:2], image="a.png"), page([word("No", box(0, 0, 30, 20))], image="b.png")]
    report = evaluate(gt_pages, pair_predictions(gt_pages, preds), by=["layout", "font"])
    assert set(report.by) == {"layout", "font"}
    assert set(report.by["layout"]) == {"receipt", "form"}
    assert report.by["layout"]["receipt"]["word_recall"] == pytest.approx(2 / 3)
    assert report.by["layout"]["form"]["e2e_hmean"] == 0.0
    assert report.by["font"]["NanumGothic"]["gt_words"] == 4
    assert set(report.by_script) == {"hangul", "latin"}
    assert report.by_script["hangul"]["e2e_hmean"] == 1.0
    assert report.by_script["latin"]["word_recall"] == 0.5  # TEL missed, No. found
    assert report.overall["gt_words"] == 4
    # page keys with several values are offered as breakdowns when none are asked for
    auto = evaluate(gt_pages, pair_predictions(gt_pages, preds))
    assert list(auto.by) == ["layout"]


def test_pages_pair_by_file_name_and_timing_gives_pages_per_second():
    gt_pages = [page(GT, image="images/a.png"), page(GT, image="images/b.png")]
    preds = [page(GT, image="a.png", seconds=0.5)]
    paired = pair_predictions(gt_pages, preds)
    assert paired.pages[0] is not None and paired.pages[1] is None
    report = evaluate(gt_pages, paired, by=[])
    assert report.overall["pages_per_second"] == pytest.approx(2.0)
    assert report.overall["word_recall"] == 0.5
    assert any("no prediction" in n for n in report.notes)


def test_script_of_follows_the_shared_rule():
    assert [script_of(t) for t in ("(주)", "2019년", "TEL", "No.", "1,000", "-", "漢字", "カナ", "☐")] == [
        "hangul", "hangul", "latin", "latin", "digits", "other", "han", "kana", "other"]


# ----------------------------------------------------------------------------------- format
def test_jsonl_round_trip_keeps_extra_keys(tmp_path):
    p = page([word("합계", box(0, 0, 40, 20), label="total", entity_id=3)], layout="receipt", fields={"t": "1"})
    path = tmp_path / "gt.jsonl"
    write_pages(path, [p, p])
    text = path.read_text(encoding="utf-8")
    assert "합계" in text  # not \\u-escaped
    back = read_pages(path)
    assert len(back) == 2 and back[0].meta == {"layout": "receipt"}
    assert back[0].words[0].model_extra == {"label": "total", "entity_id": 3}
    assert back[0].to_record() == p.to_record()


@pytest.mark.parametrize("line, message", [
    ('{"image": "a.png", "words": [}', "not valid JSON"),
    ('[1, 2]', "must be a JSON object"),
    ('{"words": []}', "image"),
    ('{"image": "a.png", "words": [{"text": "x", "poly": [[0, 0], [1, 0], [1, 1]]}]}', "poly"),
])
def test_malformed_jsonl_names_the_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"image": "ok.png", "words": []}\n\n' + line + "\n", encoding="utf-8")
    with pytest.raises(KocrDataError) as err:
        read_pages(path)
    assert f"{path}:3:" in str(err.value) and message in str(err.value)


# ----------------------------------------------------------------------------------- loaders
def test_funsd_loader(tmp_path):
    split = tmp_path / "testing_data"
    (split / "annotations").mkdir(parents=True)
    (split / "images").mkdir()
    (split / "images" / "0001.png").write_bytes(b"")
    form = {"form": [
        {"id": 0, "label": "question", "box": [10, 10, 60, 20], "text": "DATE:",
         "words": [{"box": [10, 10, 60, 20], "text": "DATE:"}], "linking": [[0, 1]]},
        {"id": 1, "label": "answer", "box": [70, 10, 150, 20], "text": "3/5/98",
         "words": [{"box": [70, 10, 150, 20], "text": "3/5/98"}, {"box": [151, 10, 152, 20], "text": " "}]},
    ]}
    (split / "annotations" / "0001.json").write_text(json.dumps(form), encoding="utf-8")
    pages = load_funsd(split, relative_to=tmp_path)
    assert len(pages) == 1 and pages[0].image == "testing_data/images/0001.png"
    words = pages[0].words
    assert [w.text for w in words] == ["DATE:", "3/5/98"]  # the empty word is dropped
    assert words[1].poly == [(70, 10), (150, 10), (150, 20), (70, 20)]
    assert [w.script for w in words] == ["latin", "digits"]
    assert words[1].model_extra == {"label": "answer", "entity_id": 1}
    (split / "annotations" / "0002.json").write_text('{"nope": 1}', encoding="utf-8")
    with pytest.raises(KocrDataError, match="0002.json"):
        load_funsd(split)


def test_icdar15_loader_marks_dont_care(tmp_path):
    gt_dir = tmp_path / "gt"
    gt_dir.mkdir()
    (gt_dir / "img_7.jpg").write_bytes(b"")
    (gt_dir / "gt_img_7.txt").write_text(
        "\ufeff377,117,463,117,465,130,378,130,Genaxis Theatre\n"
        "374,155,409,155,409,170,374,170,###\n"
        "10,10,50,10,50,30,10,30,1,000원\n", encoding="utf-8")
    pages = load_icdar15(gt_dir, relative_to=gt_dir)
    assert pages[0].image == "img_7.jpg"
    words = pages[0].words
    assert [w.text for w in words] == ["Genaxis Theatre", "", "1,000원"]
    assert [w.ignore for w in words] == [False, True, False]
    assert words[2].script == "hangul" and words[0].poly[2] == (465, 130)
    (gt_dir / "gt_img_8.txt").write_text("1,2,3,x\n", encoding="utf-8")
    with pytest.raises(KocrDataError, match=r"gt_img_8.txt:1"):
        load_icdar15(gt_dir)


# ----------------------------------------------------------------------------------- CLI + engine
def _write_set(tmp_path: Path) -> Path:
    from PIL import Image

    Image.fromarray(np.full((60, 140, 3), 255, np.uint8)).save(tmp_path / "p.png")
    gt = page(GT, image="p.png", layout="receipt")
    write_pages(tmp_path / "gt.jsonl", [gt])
    return tmp_path / "gt.jsonl"


def test_cli_scores_a_prediction_file(tmp_path):
    from kocr_sdk.cli.main import cli

    gt_path = _write_set(tmp_path)
    write_pages(tmp_path / "pred.jsonl", [page(GT[:2] + [GT[0]], image="p.png")])
    out = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["eval", str(gt_path), "--pred", str(tmp_path / "pred.jsonl"),
                                      "--out", str(out), "--by", "layout", "-q"])
    assert result.exit_code == 0, result.output
    assert "det H" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["overall"]["word_hmean"] == pytest.approx(4 / 6)
    assert report["by"]["layout"]["receipt"]["gt_words"] == 3
    # "TEL" was never predicted; the second "합계" box lies wholly inside the word already matched
    assert report["detection_errors"]["misses"]["missed"] == 1
    assert report["detection_errors"]["extras"]["fragment"] == 1
    assert "unmatched words: merged 0, split 0, loose 0, missed 1" in result.output


def test_cli_reports_malformed_ground_truth_with_its_line(tmp_path):
    from kocr_sdk.cli.main import cli

    (tmp_path / "gt.jsonl").write_text('{"image": "a.png"}\nnot json\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["eval", str(tmp_path / "gt.jsonl"), "--pred", str(tmp_path / "gt.jsonl")])
    assert result.exit_code == 1
    assert "gt.jsonl:2: not valid JSON" in result.output


class _Plugin:
    """A detector that finds two of the three GT words and a recogniser that reads everything as
    "합계": enough to check the engine mode end to end without any model."""

    def __init__(self, with_detector: bool):
        self.with_detector = with_detector

    from kocr_sdk import hookimpl

    @hookimpl
    def register_detectors(self, register):
        from kocr_sdk import DetectedWord, Detection, TextDetector

        class Boxes(TextDetector):
            name = "test-boxes"

            def detect(self, image):
                return Detection(words=[DetectedWord(quad=tuple(map(tuple, w["poly"]))) for w in GT[:2]])

        if self.with_detector:
            register(Boxes)

    @hookimpl
    def register_recognizers(self, register):
        from kocr_sdk import Reading, Recognizer

        class Constant(Recognizer):
            name = "test-constant"
            scripts = ("hangul", "latin", "digits")

            def recognize(self, crops):
                return [Reading(text="합계", confidence=0.9) for _ in crops]

        register(Constant)


@pytest.mark.parametrize("with_detector", [True, False])
def test_engine_mode_scores_the_engine_and_names_missing_stages(tmp_path, with_detector):
    from kocr_sdk import Engine
    from kocr_sdk.lab.eval import run_engine

    gt_path = _write_set(tmp_path)
    gt_pages = read_pages(gt_path)
    engine = Engine(plugins=[_Plugin(with_detector)], load_entrypoints=False, device="cpu")
    preds = run_engine(engine, gt_pages, tmp_path, gt_scripts=True)
    report = evaluate(gt_pages, preds, by=[])
    assert report.overall["crop_accuracy"] == pytest.approx(1 / 3)  # only "합계" reads right
    if with_detector:
        assert report.overall["word_recall"] == pytest.approx(2 / 3)
        assert report.overall["e2e_hmean"] == pytest.approx(2 * 1 / (3 + 2))
        assert report.overall["pages_per_second"] > 0
        assert "detector" not in report.missing_stages
    else:
        assert "detector" in report.missing_stages
        assert report.overall["word_hmean"] is None and report.overall["e2e_hmean"] is None
        assert any("'detector' did not run" in n for n in report.notes)


def test_crops_no_recogniser_can_read_are_reported_missing_not_zero(tmp_path):
    from kocr_sdk import Engine, Reading, Recognizer, hookimpl
    from kocr_sdk.lab.eval import run_engine

    class HanOnly(Recognizer):
        name = "han-only"
        scripts = ("han",)

        def recognize(self, crops):
            return [Reading(text="漢", confidence=1.0) for _ in crops]

    class Plugin:
        @staticmethod
        @hookimpl
        def register_recognizers(register):
            register(HanOnly)

    gt_path = _write_set(tmp_path)
    gt_pages = read_pages(gt_path)
    engine = Engine(plugins=[Plugin], load_entrypoints=False, device="cpu")
    report = evaluate(gt_pages, run_engine(engine, gt_pages, tmp_path, gt_scripts=True), by=[])
    assert report.overall["crop_accuracy"] is None
    assert "no installed recogniser reads these crops" in report.missing_stages["recognizer"]
