"""Labelled crops cut from generated pages: matching to the true words, resuming, and mixing them
into the recogniser's labelled stream."""

import json

import cv2
import numpy as np
import pytest

from kocr_sdk.errors import KocrError


def _poly(x0, y0, x1, y1):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def _pages(root):
    """Two generated-pages folders; the fake detector finds (10,10,60,30), (70,10,130,30), (10,50,90,70)."""
    for folder, shift in (("a", 0), ("b", 40)):
        d = root / folder
        d.mkdir(parents=True)
        cv2.imwrite(str(d / "00000.png"), np.full((100, 200, 3), 255, np.uint8))
        words = [{"text": "가나", "poly": _poly(10, 10, 60, 30)},  # the detected box exactly
                 {"text": "다라", "poly": _poly(70 + shift, 10, 130 + shift, 30)},  # half off in b: not matched
                 {"text": "ignored", "poly": _poly(10, 50, 90, 70), "ignore": True}]
        (d / "gt.jsonl").write_text(json.dumps({"image": "00000.png", "words": words}, ensure_ascii=False) + "\n",
                                    encoding="utf-8")


def test_detected_words_matching_a_true_word_become_labelled_crops_and_a_second_call_resumes(tmp_path, fake_plugin):
    from kocr_sdk import Engine
    from kocr_sdk.lab.training.page_crops import LabelledCrops, cut_labelled_crops

    _pages(tmp_path / "pages")
    engine = Engine(plugins=[fake_plugin], load_entrypoints=False, script_identifier="none")
    out = cut_labelled_crops(tmp_path / "pages", tmp_path / "crops", progress=False, engine=engine)
    records = [json.loads(line) for line in (out / "gt.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted((r["image"], r["words"][0]["text"]) for r in records) == [
        ("a-00000-0000.png", "가나"), ("a-00000-0001.png", "다라"), ("b-00000-0000.png", "가나")]
    source = LabelledCrops(out)
    assert len(source) == 3
    texts = [source.item(i)[1] for i in range(3)]
    assert sorted(texts) == ["가나", "가나", "다라"]  # every crop once in any three consecutive indices
    assert source.item(0)[0].ndim == 2
    # every gt.jsonl below a folder counts, and the pages' own (several words a record) are not crops
    assert len(LabelledCrops(tmp_path)) == 3
    cut_labelled_crops(tmp_path / "pages", out, progress=False, engine=engine)
    assert len((out / "gt.jsonl").read_text(encoding="utf-8").splitlines()) == 3  # finished pages not cut again


def test_missing_labels_are_clear_errors(tmp_path):
    from kocr_sdk.lab.training.page_crops import LabelledCrops, cut_labelled_crops

    with pytest.raises(KocrError, match="no gt.jsonl"):
        cut_labelled_crops(tmp_path, tmp_path / "out", progress=False, engine=object())
    with pytest.raises(KocrError, match="no gt.jsonl"):
        LabelledCrops(tmp_path)
    (tmp_path / "gt.jsonl").write_text(json.dumps({"image": "x.png", "words": []}) + "\n")
    with pytest.raises(KocrError, match="no one-word crops"):
        LabelledCrops(tmp_path)
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "gt.jsonl").write_text(json.dumps({"image": "../x.png", "words": []}) + "\n")
    with pytest.raises(KocrError, match="outside"):
        cut_labelled_crops(pages, tmp_path / "out", progress=False, engine=object())
    (pages / "gt.jsonl").write_text(json.dumps({"image": "x.png", "words": [{"text": "a"}]}) + "\n")
    with pytest.raises(KocrError, match="gt.jsonl:1: not a page of the evaluation format"):
        cut_labelled_crops(pages, tmp_path / "out", progress=False, engine=object())


def test_the_labelled_stream_draws_its_share_from_page_crops(tmp_path):
    from kocr_sdk.lab.training.recognizer import CropStream, RecognizerTrainConfig
    from kocr_sdk.recognition.charset import hangul_charset

    for i in range(3):
        img = np.full((32, 96), 255, np.uint8)
        cv2.putText(img, "x" * (i + 2), (4, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2)
        cv2.imwrite(str(tmp_path / f"{i}.png"), img)
    (tmp_path / "gt.jsonl").write_text("".join(json.dumps({"image": f"{i}.png", "words": [{"text": t}]},
                                                          ensure_ascii=False) + "\n"
                                               for i, t in enumerate(["가방", "나무", "다리"])), encoding="utf-8")
    cfg = RecognizerTrainConfig(batch_size=8, page_crops=tmp_path, page_crops_share=0.5)
    stream = CropStream(cfg, hangul_charset(), 0)
    drawn = [stream._from_pages(i) for i in range(200)]
    assert 70 <= sum(drawn) <= 130 and drawn == [stream._from_pages(i) for i in range(200)]
    texts = [t for _, (*_, batch_texts) in zip(range(4), iter(stream)) for t in batch_texts]
    from_pages = sum(t in ("가방", "나무", "다리") for t in texts)
    assert len(texts) == 32 and 6 <= from_pages <= 26
    none = CropStream(cfg.model_copy(update={"page_crops_share": 0.0}), hangul_charset(), 0)
    assert not any(t in ("가방", "나무", "다리") for _, (*_, bt) in zip(range(2), iter(none)) for t in bt)


def test_cli_labelled_pages_are_cut_into_the_run_and_mixed_in(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import kocr_sdk.lab.training.page_crops as page_crops
    import kocr_sdk.lab.training.recognizer as recognizer
    from kocr_sdk.cli.main import cli

    seen = {}

    def fake_cut(pages, out, progress=True):
        seen["cut"] = (pages, out)
        out.mkdir(parents=True)
        cv2.imwrite(str(out / "0.png"), np.full((32, 64), 255, np.uint8))
        (out / "gt.jsonl").write_text(json.dumps({"image": "0.png", "words": [{"text": "가"}]}) + "\n")
        return out

    monkeypatch.setattr(page_crops, "cut_labelled_crops", fake_cut)
    monkeypatch.setattr(recognizer, "train", lambda cfg, resume=None, progress=True: seen.setdefault("cfg", cfg)
                        and {"step": 0, "samples_seen": 0, "val": {}})
    (tmp_path / "pages").mkdir()
    result = CliRunner().invoke(cli, ["train", "recognizer", "--labelled-pages", str(tmp_path / "pages"),
                                      "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert seen["cut"] == (tmp_path / "pages", tmp_path / "run" / "labelled-crops")
    assert seen["cfg"].page_crops == tmp_path / "run" / "labelled-crops"
    assert "50% of the labelled crops from 1 cut from pages" in result.output
