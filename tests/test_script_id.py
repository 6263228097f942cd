"""Script identification: the CNN, its stage and registration, training and resuming, and the
engine's per-script routing with it. Weights here come from a tiny training run in the test
(the shipped ones are hidden unless a test is marked ``shipped_models``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from kocr_sdk import Engine, Reading, Recognizer, ScriptIdentifier, ScriptPrediction, hookimpl
from kocr_sdk.plugins import load_registry
from kocr_sdk.script_id import ARCHS, CnnScriptIdentifier, create_model, fuse_for_inference, identifier
from kocr_sdk.lab.eval.script_id import format_confusion, script_metrics
from kocr_sdk.lab.training.script_id import CLASSES, ScriptCropStream, ScriptIdTrainConfig, export_weights, train
from kocr_sdk.weights_file import read_weights, write_weights


def _config(out: Path, **kw) -> ScriptIdTrainConfig:
    kw.setdefault("max_steps", 2)
    return ScriptIdTrainConfig(batch_size=8, group=2, val_size=12, val_every=2, log_every=1, workers=0,
                               device="cpu", out=out, **kw)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """A run directory after 2 training steps, and its exported weights (``weights.safetensors``)."""
    out = tmp_path_factory.mktemp("script-id-run")
    train(_config(out), progress=False)
    export_weights(out / "last.pt", out / "weights.safetensors")
    return out


def _crops(n: int, seed: int = 5) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 255, (int(rng.integers(10, 60)), int(rng.integers(4, 400)), 3), dtype=np.uint8)
            for _ in range(n)]


# ------------------------------------------------------------------------------------------ model
@pytest.mark.parametrize("arch", sorted(ARCHS))
@pytest.mark.parametrize("width", [4, 8, 36, 128, 256, 1000])
def test_model_takes_any_width(arch, width):
    model = create_model(arch, len(CLASSES)).eval()
    logits = model(torch.rand(3, 1, 32, width), torch.tensor([width, max(4, width // 2), 4]))
    assert logits.shape == (3, len(CLASSES)) and torch.isfinite(logits).all()


@pytest.mark.parametrize("width", [4, 12, 36, 40, 100])
def test_padding_does_not_change_a_crops_prediction(width):
    torch.manual_seed(0)
    model = create_model("script-cnn", len(CLASSES))
    model(torch.rand(8, 1, 32, 64) * 2, torch.tensor([64, 60, 32, 8, 4, 64, 20, 12]))  # non-trivial running stats
    model.eval()
    crop = torch.rand(1, 1, 32, width)
    alone = model(crop, torch.tensor([width]))
    padded = torch.zeros(1, 1, 32, 200)
    padded[..., :width] = crop
    assert torch.allclose(model(padded, torch.tensor([width])), alone, atol=1e-5)


def test_batch_norm_statistics_ignore_the_padding():
    from kocr_sdk.script_id.model import MaskedBatchNorm2d

    bn = MaskedBatchNorm2d(2, momentum=1.0)
    x = torch.zeros(2, 2, 4, 10)
    x[..., :6] = torch.randn(2, 2, 4, 6)
    mask = torch.arange(10)[None, :] < torch.tensor([6, 6])[:, None]
    bn(x, mask)
    assert torch.allclose(bn.running_mean, x[..., :6].mean((0, 2, 3)), atol=1e-6)


def test_fused_model_computes_the_same_function():
    torch.manual_seed(0)
    model = create_model("script-cnn", len(CLASSES))
    model.train()
    for _ in range(3):  # give the batch norms running statistics that are not the identity
        model(torch.rand(8, 1, 32, 64) * 3, torch.full((8,), 64))
    model.eval()
    x, w = torch.rand(4, 1, 32, 96), torch.tensor([96, 60, 20, 4])
    fused = fuse_for_inference(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    assert torch.allclose(fused(x, w), model(x, w), atol=1e-4)


def test_weights_fit_the_size_budget():
    n = sum(p.numel() for p in create_model("script-cnn", len(CLASSES)).parameters())
    assert n * 2 < 2_000_000  # fp16 bytes


# ------------------------------------------------------------------------------------------ stage
def test_stage_loads_exported_weights_and_returns_one_prediction_per_crop(tiny_run):
    stage = CnnScriptIdentifier(weights=str(tiny_run / "weights.safetensors"))
    assert stage.classes == CLASSES
    crops = _crops(7) + [np.full((32, 80), 255, np.uint8)]  # grayscale too
    preds = stage.identify(crops)
    assert len(preds) == len(crops)
    for p in preds:
        assert set(p.probabilities) == set(CLASSES)
        assert sum(p.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert stage.identify([]) == []
    # order is kept: a crop's prediction does not depend on the crops around it
    again = stage.identify(crops[::-1])[::-1]
    for a, b in zip(preds, again):
        assert a.probabilities == pytest.approx(b.probabilities, abs=1e-5)


def test_bad_weights_file_is_a_model_error(tmp_path):
    from kocr_sdk.errors import KocrModelError

    write_weights(tmp_path / "bad.safetensors", {}, {"arch": "script-cnn"})
    with pytest.raises(KocrModelError, match="not valid script-identifier weights"):
        CnnScriptIdentifier(weights=str(tmp_path / "bad.safetensors"))
    with pytest.raises(KocrModelError, match="not found"):
        CnnScriptIdentifier(weights=str(tmp_path / "missing.safetensors"))


def test_registered_only_when_weights_exist(tiny_run, monkeypatch):
    assert load_registry(load_entrypoints=False).stages["script_identifier"] == {}
    monkeypatch.setattr(identifier, "WEIGHTS_PATH", tiny_run / "weights.safetensors")
    reg = load_registry(load_entrypoints=False).stages["script_identifier"]["script-cnn"]
    assert reg.plugin.distribution == "kocr-sdk"


# --------------------------------------------------------------------------------------- training
def test_training_runs_resumes_and_exports(tiny_run, tmp_path):
    ckpt = torch.load(tiny_run / "last.pt", weights_only=True)  # checkpoints hold no code
    assert ckpt["step"] == 2 and ckpt["samples_seen"] == 16 and ckpt["classes"] == list(CLASSES)
    val = ckpt["history"][-1]
    assert {"acc_hld", "acc_all", "per_class", "confusion", "per_font", "unsure"} <= set(val)
    assert sum(sum(row.values()) for row in val["confusion"].values()) == 12
    lines = [json.loads(x) for x in (tiny_run / "log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines if "loss" in x] == [1, 2]

    cfg = _config(tmp_path / "run", max_steps=3)
    resumed = train(cfg, resume=tiny_run / "last.pt", progress=False)
    assert resumed["step"] == 3 and resumed["samples_seen"] == 24
    # exported weights are a checkpoint too (warm start): the next training run continues from them
    warm = train(_config(tmp_path / "run2", max_steps=4), resume=tiny_run / "weights.safetensors", progress=False)
    assert warm["step"] == 4 and warm["samples_seen"] == 32

    meta = export_weights(tmp_path / "run" / "last.pt", tmp_path / "w.safetensors")
    assert meta["step"] == 3 and meta["classes"] == list(CLASSES) and meta["val"]["n"] == 12
    state, saved = read_weights(tmp_path / "w.safetensors", "script-identifier")
    assert saved == meta
    assert all(v.dtype == torch.float16 for v in state.values() if v.is_floating_point())


def test_resume_refuses_another_architecture(tiny_run, tmp_path):
    from kocr_sdk.errors import KocrConfigError

    with pytest.raises(KocrConfigError, match="script-cnn-small"):
        train(_config(tmp_path, arch="script-cnn-small", max_steps=3), resume=tiny_run / "last.pt", progress=False)


def test_the_stream_is_a_function_of_the_step():
    cfg = _config(Path("unused"))
    fresh = iter(ScriptCropStream(cfg, 0))
    batches = [b for _ in range(3) for b in next(fresh)]  # blocks 0..2, two batches each
    resumed_block = next(iter(ScriptCropStream(cfg, 2)))  # step 5 = block 2, batch 1
    for got, want in zip(resumed_block, batches[4:6]):
        assert all(torch.equal(a, b) for a, b in zip(got, want))
    x, widths, targets = batches[0]
    assert x.shape[:3] == (8, 1, 32) and widths.max() == x.shape[-1] and targets.max() < len(CLASSES)


def test_metrics_count_hangul_latin_digits_apart():
    classes = list(CLASSES)
    probs = np.eye(len(classes), dtype=np.float32)[[0, 1, 2, 3, 0]]
    m = script_metrics(["hangul", "latin", "digits", "kana", "han"], probs, classes)
    assert m["acc_hld"] == 1.0 and m["acc_all"] == 0.6
    assert m["confusion"]["kana"]["han"] == 1 and m["per_class"]["han"]["recall"] == 0.0
    assert m["unsure"]["0.9"]["share"] == 0.0
    assert "kana" in format_confusion(m["confusion"])


# ----------------------------------------------------------------------------- engine and routing
class HangulReader(Recognizer):
    name = "ko"
    scripts = ("hangul", "digits")

    def recognize(self, crops):
        return [Reading(text="가", confidence=0.9) for _ in crops]


class LatinReader(Recognizer):
    name = "en"
    scripts = ("latin", "digits")

    def recognize(self, crops):
        return [Reading(text="A", confidence=0.9) for _ in crops]


class LettersOnly(Recognizer):
    name = "en-letters"
    scripts = ("latin",)

    def recognize(self, crops):
        return [Reading(text="a", confidence=0.9) for _ in crops]


class HanReader(Recognizer):
    name = "han-reader"
    scripts = ("han", "kana")

    def recognize(self, crops):
        return [Reading(text="漢", confidence=0.9) for _ in crops]


def _plugin(*recognizers, identifiers=()):
    class P:
        @staticmethod
        @hookimpl
        def register_recognizers(register):
            for r in recognizers:
                register(r)

        @staticmethod
        @hookimpl
        def register_script_identifiers(register):
            for s in identifiers:
                register(s)

    return P


def _engine(*plugins, **kw):
    return Engine(plugins=plugins, load_entrypoints=False, **kw)


def test_default_routes_digits_to_latin_and_symbols_to_hangul():
    e = _engine(_plugin(HangulReader, LatinReader))
    assert e.recognizer_for("digits").name == "en"
    assert e.recognizer_for("other").name == "ko"
    assert e.recognizer_for("han") is None
    # the route is config: digits can go to the Korean weights instead
    assert _engine(_plugin(HangulReader, LatinReader), script_routes={"digits": "hangul"}).recognizer_for("digits").name == "ko"
    # a route to a recogniser that does not read the script is not taken
    assert _engine(_plugin(HangulReader, LettersOnly)).recognizer_for("digits").name == "ko"
    # an explicit name wins over a route
    assert _engine(_plugin(HangulReader, LatinReader), recognizers={"digits": "ko"}).recognizer_for("digits").name == "ko"


def test_symbols_are_not_flagged_unsupported_but_han_without_a_plugin_is():
    e = _engine(_plugin(HangulReader, LatinReader))
    crops = [np.full((32, 40, 3), 255, np.uint8)] * 3
    out = e.read_crops(crops, scripts=["other", "han", "digits"])
    assert [r.recognizer for r in out] == ["ko", "ko", "en"]
    assert [r.unsupported_script for r in out] == [False, True, False]
    # with a plugin for Han installed, Han words go to it
    out = _engine(_plugin(HangulReader, LatinReader, HanReader)).read_crops(crops, scripts=["other", "han", "kana"])
    assert [r.recognizer for r in out] == ["ko", "han-reader", "han-reader"]
    assert not any(r.unsupported_script for r in out)


def test_engine_uses_the_shipped_identifier_when_its_weights_exist(tiny_run, monkeypatch):
    monkeypatch.setattr(identifier, "WEIGHTS_PATH", tiny_run / "weights.safetensors")
    e = _engine(_plugin(HangulReader, LatinReader))
    assert e.describe()["script_identifier"] == "script-cnn"
    crops = _crops(5)
    out = e.read_crops(crops)
    assert len(out) == 5 and all(r.script in CLASSES and r.reading is not None for r in out)


class ThaiOrNothing(ScriptIdentifier):
    """A plugin's identifier that outranks kocr's and adds a script kocr does not know."""

    name = "thai-aware"
    priority = 5
    scripts = ("thai", "hangul")

    def identify(self, crops):
        return [ScriptPrediction(probabilities={"thai": 0.8, "hangul": 0.2}) for _ in crops]


class ThaiReader(Recognizer):
    name = "thai-reader"
    scripts = ("thai",)

    def recognize(self, crops):
        return [Reading(text="ก", confidence=0.7) for _ in crops]


def test_a_plugin_can_replace_the_identifier_and_add_a_script(tiny_run, monkeypatch):
    monkeypatch.setattr(identifier, "WEIGHTS_PATH", tiny_run / "weights.safetensors")
    plugin = _plugin(HangulReader, ThaiReader, identifiers=[ThaiOrNothing])
    e = _engine(plugin)
    assert e.describe()["script_identifier"] == "thai-aware"
    out = e.read_crops(_crops(2))
    assert [(r.script, r.recognizer, r.reading.text) for r in out] == [("thai", "thai-reader", "ก")] * 2
    # kocr's own stays selectable by name
    assert _engine(plugin, script_identifier="script-cnn").describe()["script_identifier"] == "script-cnn"


# --------------------------------------------------------------------------------- shipped model
@pytest.mark.shipped_models
@pytest.mark.slow
def test_shipped_classifier_on_rendered_crops_of_each_class():
    if not identifier.WEIGHTS_PATH.exists():
        pytest.skip("no script-identifier weights ship with this installation")
    from kocr_sdk.lab.synth.crops import CropGenerator

    gen = CropGenerator("heldout", seed=424_242, profile="script", color=True)
    by_class: dict[str, list] = {c: [] for c in CLASSES}
    mixed: list = []  # 2019년, (주)ABC: Hangul with digits or Latin is the Korean recogniser's
    i = 0
    while (min(len(v) for v in by_class.values()) < 15 or len(mixed) < 15) and i < 5000:
        image, label = gen.sample(i)
        i += 1
        if len(by_class[label["script"]]) < 15:
            by_class[label["script"]].append(image)
        if label["kind"] == "mixed" and label["script"] == "hangul" and len(mixed) < 15:
            mixed.append(image)
    stage = CnnScriptIdentifier()
    for script, crops in [*by_class.items(), ("hangul", mixed)]:
        preds = [p.script for p in stage.identify(crops)]
        assert sum(p == script for p in preds) >= 13, (script, preds)


def _pred(**probs):
    from kocr_sdk.interfaces import ScriptPrediction

    return ScriptPrediction(probabilities=probs)


def test_a_lone_non_latin_guess_on_an_english_page_goes_to_latin():
    from kocr_sdk.script_id.page_prior import adapt_to_page

    page = [_pred(latin=0.95, hangul=0.03, digits=0.02) for _ in range(60)] + [_pred(latin=0.3, hangul=0.6, digits=0.1)]
    adapted = adapt_to_page(page)
    assert adapted[-1].script == "latin"
    assert all(p.script == "latin" for p in adapted)


def test_hangul_words_on_a_korean_page_keep_their_label():
    from kocr_sdk.script_id.page_prior import adapt_to_page

    page = [_pred(hangul=0.9, latin=0.1) for _ in range(40)] + [_pred(latin=0.8, hangul=0.2)]
    adapted = adapt_to_page(page)
    assert [p.script for p in adapted[:40]] == ["hangul"] * 40


def test_the_page_prior_can_be_switched_off(fake_plugin, white_page):
    from kocr_sdk import Engine

    assert Engine(plugins=[fake_plugin], load_entrypoints=False).config.scripts.page_prior is True
    engine = Engine(plugins=[fake_plugin], load_entrypoints=False, scripts={"page_prior": False})
    assert engine.config.scripts.page_prior is False
