"""SeqCLR pre-training and SeqFixMatch: views, instance mapping, loss, mask, resuming."""

import json
import math

import cv2
import numpy as np
import pytest
import torch

from kocr_sdk.recognition.architectures import create_model
from kocr_sdk.recognition.charset import hangul_charset
from kocr_sdk.lab.training.recognizer import fixmatch_loss, pseudo_label_mask
from kocr_sdk.lab.training.seqclr import PretrainConfig, export_encoder, nt_xent, pretrain, to_instances
from kocr_sdk.lab.training.views import DEFAULT_STRONG, MAX_SHIFT, OPERATIONS, strong_view, weak_view
from kocr_sdk.weights_file import read_weights, write_weights


def _bars(width=120, columns=(20, 60, 100)):
    img = np.zeros((32, width), np.float32)
    for c in columns:
        img[6:26, c - 1:c + 2] = 1.0
    return img


def _centroids(img, columns, radius=8):
    profile = img.sum(axis=0)
    out = []
    for c in columns:
        lo, hi = c - radius, c + radius + 1
        window = profile[lo:hi]
        out.append(float((np.arange(lo, hi) * window).sum() / max(window.sum(), 1e-6)))
    return out


@pytest.mark.parametrize("view", ["weak", "strong", *OPERATIONS])
def test_views_keep_the_width_and_move_ink_by_a_few_pixels_at_most(view):
    columns = (20, 60, 100)
    img = _bars(columns=columns)
    for seed in range(40):
        rng = np.random.default_rng(seed)
        if view == "weak":
            out = weak_view(img, rng)
        elif view == "strong":
            out = strong_view(img, rng, n=3)
        else:
            out = OPERATIONS[view](img, rng, 1.0)
        assert out.shape == img.shape and out.dtype == np.float32
        assert 0.0 <= out.min() and out.max() <= 1.0
        # every bar is still where it was, up to the shift the alignment allows (one patch is 4 px)
        for before, after in zip(columns, _centroids(out, columns)):
            assert abs(after - before) <= MAX_SHIFT + 1, (view, seed, before, after)


def test_a_shift_never_pushes_ink_out_of_the_crop():
    img = np.zeros((32, 40), np.float32)
    img[8:24, 0:3] = 1.0  # ink touching the left edge: only a move to the right is allowed
    img[8:24, 30:32] = 1.0
    for seed in range(30):
        out = OPERATIONS["shift"](img, np.random.default_rng(seed), 1.0)
        assert out.sum() == pytest.approx(img.sum())


def test_nt_xent_matches_a_hand_computation():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    b = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    # row a0: positive b0 (cos 1), negatives a1 and b1 (cos 0); every row alike by symmetry
    expected = -math.log(math.exp(1.0) / (math.exp(1.0) + 2.0))
    assert nt_xent(a, b, temperature=1.0).item() == pytest.approx(expected, rel=1e-5)
    # at temperature 0.5 the similarities double
    expected = -math.log(math.exp(2.0) / (math.exp(2.0) + 2.0))
    assert nt_xent(a, b, temperature=0.5).item() == pytest.approx(expected, rel=1e-5)


def test_nt_xent_is_lower_when_positives_agree():
    torch.manual_seed(0)
    a = torch.randn(8, 16)
    assert nt_xent(a, a + 0.01 * torch.randn(8, 16)) < nt_xent(a, torch.randn(8, 16))


def test_instance_mappings():
    feats = torch.arange(2 * 10 * 3, dtype=torch.float32).reshape(2, 10, 3)
    frames = torch.tensor([10, 5])
    assert to_instances(feats, frames, "all").shape == (2, 3)
    assert torch.allclose(to_instances(feats, frames, "all")[1], feats[1, :5].mean(0))
    assert to_instances(feats, frames, "frame").shape == (15, 3)
    windows = to_instances(feats, frames, "window", window=4)
    # crop 0: windows [0:4], [4:8], [8:10] (half full: kept); crop 1: [0:4], [4:5] (a quarter: dropped)
    assert windows.shape == (4, 3)
    assert torch.allclose(windows[2], feats[0, 8:10].mean(0))
    assert torch.allclose(windows[3], feats[1, 0:4].mean(0))
    short = to_instances(feats, torch.tensor([10, 1]), "window", window=4)
    assert short.shape == (4, 3)  # a crop shorter than half a window still gives one instance
    with pytest.raises(ValueError):
        to_instances(feats, frames, "sentence")


def test_confidence_mask_keeps_exactly_the_readings_above_threshold():
    confs = [[0.99, 0.95], [0.99, 0.85], [], [0.91], [0.95, 0.95, 0.95]]
    assert pseudo_label_mask(confs, 0.9, "char") == [True, False, False, True, True]
    # the product: 0.9405, 0.8415, -, 0.91, 0.857
    assert pseudo_label_mask(confs, 0.9, "sequence") == [True, False, False, True, False]
    with pytest.raises(ValueError):
        pseudo_label_mask(confs, 0.9, "word")


def test_fixmatch_loss_uses_only_the_kept_crops():
    torch.manual_seed(0)
    charset = hangul_charset()
    model = create_model("vitstr-tiny", len(charset))
    with torch.no_grad():  # a model that confidently reads "1" on every frame but the blank tail
        model.head.weight.zero_()
        model.head.bias.zero_()
        model.head.bias[charset.index["1"]] = 20.0
    x = torch.rand(3, 1, 32, 64)
    widths = torch.tensor([64, 64, 64])
    loss, counts = fixmatch_loss(model, charset, x, x, widths, ["1", None, "7"], 0.9, "char")
    assert counts == {"total": 3, "kept": 3, "known": 2, "correct": 1}
    assert loss.requires_grad and loss.item() > 0
    loss, counts = fixmatch_loss(model, charset, x, x, widths, [None] * 3, 1.01, "char")
    assert counts["kept"] == 0 and loss.item() == 0.0


def test_a_voting_teacher_keeps_only_readings_every_weak_view_agrees_on():
    torch.manual_seed(0)
    charset = hangul_charset()
    model = create_model("vitstr-tiny", len(charset))
    with torch.no_grad():  # reads "1" wherever there is ink, and confidently nothing on a blank view
        model.head.weight.zero_()
        model.head.bias.zero_()
        model.head.bias[charset.index["1"]] = 20.0
    x, widths = torch.rand(3, 1, 32, 64), torch.tensor([64, 64, 64])
    _, alone = fixmatch_loss(model, charset, x, x, widths, ["1"] * 3, 0.9, "char")
    _, same = fixmatch_loss(model, charset, x, x, widths, ["1"] * 3, 0.9, "char", more_weak=[x.clone(), x.clone()])
    assert alone["kept"] == same["kept"] == 3
    # a second view on which the model reads something else for crop 1 vetoes that crop only

    class Disagrees(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, view, w):
            logits = self.inner(view, w)
            if view is not x:  # the extra view: crop 1 now reads "7"
                logits = logits.clone()
                logits[1] = logits[1] + 40.0 * torch.nn.functional.one_hot(torch.tensor(charset.index["7"]), logits.shape[-1])
            return logits

        def frames(self, w):
            return self.inner.frames(w)

    _, vetoed = fixmatch_loss(model, charset, x, x, widths, ["1"] * 3, 0.9, "char", teacher=Disagrees(),
                              more_weak=[x.clone()])
    assert vetoed["kept"] == 2


def test_the_unlabelled_stream_gives_a_voting_teacher_its_extra_views_and_keeps_the_first_two():
    from kocr_sdk.lab.training.unlabeled import SyntheticCrops, ViewStream

    source = SyntheticCrops(50, seed=3)
    plain = next(iter(ViewStream(source, 0, 4, weak_view, strong_view, seed=1)))
    voting = next(iter(ViewStream(source, 0, 4, weak_view, strong_view, seed=1, extra_a=2)))
    assert len(plain) == 4 and len(voting) == 5 and len(voting[4]) == 2
    for a, b in zip(plain[:3], voting[:3]):  # extra views are drawn after the two, which stay as they were
        assert torch.equal(a, b)
    assert all(view.shape == voting[0].shape for view in voting[4])
    assert not torch.equal(voting[4][0], voting[4][1])


def test_an_ema_teacher_reads_the_weak_views_and_follows_the_model_slowly():
    from kocr_sdk.lab.training.recognizer import ema_teacher, update_ema

    torch.manual_seed(0)
    charset = hangul_charset()
    model = create_model("vitstr-tiny", len(charset))
    teacher = ema_teacher(model)
    assert all(not p.requires_grad for p in teacher.parameters())
    with torch.no_grad():  # the student now reads "1" everywhere; the teacher still holds the old weights
        model.head.weight.zero_()
        model.head.bias.zero_()
        model.head.bias[charset.index["1"]] = 20.0
    x, widths = torch.rand(2, 1, 32, 64), torch.tensor([64, 64])
    _, by_student = fixmatch_loss(model, charset, x, x, widths, ["1", "1"], 0.9, "char")
    _, by_teacher = fixmatch_loss(model, charset, x, x, widths, ["1", "1"], 0.9, "char", teacher)
    assert by_student["correct"] == 2 and by_teacher["correct"] == 0
    before = teacher.head.bias[charset.index["1"]].item()
    update_ema(teacher, model, 0.9)
    assert teacher.head.bias[charset.index["1"]].item() == pytest.approx(0.9 * before + 0.1 * 20.0, rel=1e-5)


def _pretrain_config(tmp_path, **kw):
    kw = {"unlabeled": "synth:40", "batch_size": 4, "workers": 0, "log_every": 1, "checkpoint_every": 1,
          "out": tmp_path / "pre", "device": "cpu", "max_steps": 2, **kw}
    return PretrainConfig(**kw)


def test_seqclr_pretraining_resumes_and_exports_an_encoder_for_init_from(tmp_path):
    from kocr_sdk.lab.training.recognizer import init_from_weights

    cfg = _pretrain_config(tmp_path)
    first = pretrain(cfg, progress=False)
    assert first["step"] == 2 and first["samples_seen"] == 8
    again = pretrain(cfg.model_copy(update={"max_steps": 3}), resume=cfg.out / "last.pt", progress=False)
    assert again["step"] == 3 and again["samples_seen"] == 12
    steps = [json.loads(line)["step"] for line in (cfg.out / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]
    meta = export_encoder(cfg.out / "last.pt", tmp_path / "encoder.safetensors")
    assert meta["pretrain"] == "seqclr" and meta["step"] == 3
    state, saved_meta = read_weights(tmp_path / "encoder.safetensors", "encoder")
    assert saved_meta == meta
    assert not any(k.startswith("head.") for k in state) and "embed.weight" in state
    model = create_model("vitstr-tiny", len(hangul_charset()))
    report = init_from_weights(model, hangul_charset(), tmp_path / "encoder.safetensors")
    assert report["skipped"] == 2  # head.weight and head.bias start fresh
    assert torch.allclose(model.embed.weight, state["embed.weight"].float())


def test_fixmatch_run_logs_acceptance_and_resumes_the_unlabelled_stream(tmp_path):
    from kocr_sdk.lab.training.recognizer import RecognizerTrainConfig, train

    cfg = RecognizerTrainConfig(batch_size=4, max_steps=2, val_every=100, val_size=4, workers=0, log_every=1,
                                out=tmp_path / "run", device="cpu", unlabeled="synth:20",
                                pseudo_threshold=0.0)
    train(cfg, progress=False)
    train(cfg.model_copy(update={"max_steps": 3}), resume=cfg.out / "last.pt", progress=False)
    rows = [json.loads(line) for line in (cfg.out / "log.jsonl").read_text().splitlines()]
    logged = [r for r in rows if "pseudo_accept" in r]
    assert [r["step"] for r in logged] == [1, 2, 3]
    assert [r["unlabeled"] for r in logged] == [4, 8, 12]
    assert all(0.0 <= r["pseudo_accept"] <= 1.0 for r in logged)
    assert torch.load(cfg.out / "last.pt", weights_only=True)["unlabeled_seen"] == 12


def test_a_run_with_a_voting_teacher_and_augmented_labelled_crops_trains(tmp_path):
    from kocr_sdk.lab.training.recognizer import RecognizerTrainConfig, train

    cfg = RecognizerTrainConfig(batch_size=4, max_steps=2, val_every=100, val_size=4, workers=0, log_every=1,
                                out=tmp_path / "run", device="cpu", unlabeled="synth:20",
                                pseudo_threshold=0.0, teacher_views=3, labeled_augment=0.5,
                                strong_operations=["binarize", "blur"])
    assert train(cfg, progress=False)["step"] == 2
    rows = [json.loads(line) for line in (cfg.out / "log.jsonl").read_text().splitlines()]
    assert [r["unlabeled"] for r in rows if "pseudo_accept" in r] == [4, 8]


def test_fixmatch_with_an_ema_teacher_checkpoints_and_resumes_it(tmp_path):
    from kocr_sdk.lab.training.recognizer import RecognizerTrainConfig, train

    cfg = RecognizerTrainConfig(batch_size=4, max_steps=2, val_every=100, val_size=4, workers=0, log_every=1,
                                out=tmp_path / "run", device="cpu", unlabeled="synth:20",
                                pseudo_threshold=0.0, teacher_ema=0.99)
    train(cfg, progress=False)
    saved = torch.load(cfg.out / "last.pt", weights_only=True)
    assert "teacher" in saved and not torch.equal(saved["teacher"]["head.bias"], saved["model"]["head.bias"])
    train(cfg.model_copy(update={"max_steps": 3}), resume=cfg.out / "last.pt", progress=False)
    again = torch.load(cfg.out / "last.pt", weights_only=True)
    moved = again["teacher"]["head.bias"] - saved["teacher"]["head.bias"]
    assert 0 < moved.abs().max() < (again["model"]["head.bias"] - saved["teacher"]["head.bias"]).abs().max()


def test_a_frozen_teacher_keeps_the_starting_weights_across_steps_and_resume(tmp_path):
    from kocr_sdk.lab.training.recognizer import RecognizerTrainConfig, train

    cfg = RecognizerTrainConfig(batch_size=4, max_steps=2, val_every=100, val_size=4, workers=0, log_every=1,
                                out=tmp_path / "run", device="cpu", unlabeled="synth:20",
                                pseudo_threshold=0.0, teacher_ema=1.0)
    # one supervised step and its checkpoint: the weights the SeqFixMatch run then starts from
    train(cfg.model_copy(update={"max_steps": 1, "unlabeled": None, "teacher_ema": None}), progress=False)
    start = torch.load(cfg.out / "last.pt", weights_only=True)["model"]
    train(cfg, resume=cfg.out / "last.pt", progress=False)
    train(cfg.model_copy(update={"max_steps": 3}), resume=cfg.out / "last.pt", progress=False)
    saved = torch.load(cfg.out / "last.pt", weights_only=True)
    assert saved["step"] == 3
    assert all(torch.equal(saved["teacher"][k], start[k]) for k in start)
    assert not torch.equal(saved["model"]["head.bias"], start["head.bias"])


def test_unlabelled_sources_and_clear_errors(tmp_path):
    from kocr_sdk.errors import KocrError
    from kocr_sdk.lab.training.unlabeled import open_unlabeled

    with pytest.raises(KocrError, match="not a directory"):
        open_unlabeled(tmp_path / "missing")
    with pytest.raises(KocrError, match="no images"):
        open_unlabeled(tmp_path)
    with pytest.raises(KocrError, match="synth:N"):
        open_unlabeled("synth:lots")
    cv2.imwrite(str(tmp_path / "a.png"), np.full((32, 80), 255, np.uint8))
    (tmp_path / "gt.jsonl").write_text(json.dumps({"image": "a.png", "words": [{"text": "가"}]}) + "\n")
    source = open_unlabeled(tmp_path)
    image, text = source.item(5)  # wraps around
    assert len(source) == 1 and image.shape == (32, 80) and text == "가"


def test_crop_pages_cuts_detected_words_and_resumes(tmp_path, fake_plugin):
    from kocr_sdk import Engine
    from kocr_sdk.lab.training.unlabeled import crop_pages

    pages = tmp_path / "pages"
    pages.mkdir()
    for name in ("p1.png", "p2.png"):
        cv2.imwrite(str(pages / name), np.full((100, 200, 3), 255, np.uint8))
    engine = Engine(plugins=[fake_plugin], load_entrypoints=False, script_identifier="none")
    out = crop_pages(pages, tmp_path / "crops", progress=False, engine=engine)
    crops = sorted(p.name for p in out.glob("*.png"))
    assert len(crops) == 6 and crops[0] == "p1-p0-0000.png"  # three fixed words on each page
    (out / "p1-p0-0000.png").unlink()
    crop_pages(pages, out, progress=False, engine=engine)
    assert not (out / "p1-p0-0000.png").exists()  # finished pages are not cut again


def test_cli_refuses_both_unlabelled_options(tmp_path):
    from click.testing import CliRunner

    from kocr_sdk.cli.main import cli

    result = CliRunner().invoke(cli, ["train", "recognizer", "--unlabeled", "synth:10", "--unlabeled-pages",
                                      str(tmp_path)])
    assert result.exit_code != 0 and "not both" in result.output


def test_curriculum_moves_from_the_easy_domain_to_the_target_one():
    from kocr_sdk.errors import KocrError
    from kocr_sdk.lab.synth.crops import CropGenerator
    from kocr_sdk.lab.training.unlabeled import SyntheticCrops, open_unlabeled

    source = open_unlabeled("synth:1000", profile="script", data={}, seed=5, start_data={"color": True}, ramp=40)
    assert isinstance(source, SyntheticCrops)
    easy = [source.from_start(i) for i in range(80)]
    assert easy[0] and not any(easy[40:])  # all easy at the start, none after the ramp
    assert 5 < sum(easy[:40]) < 35  # and a mixture in between, thinning out
    assert sum(easy[:20]) > sum(easy[20:40])
    assert easy == [source.from_start(i) for i in range(80)]  # a pure function of (seed, index)
    for i in (0, 45):
        gen = CropGenerator("train", seed=5, profile="script", color=easy[i])
        assert np.array_equal(source.item(i)[0], gen.sample(i)[0])
    plain = SyntheticCrops(10, seed=5, profile="script")
    assert not plain.from_start(0)
    with pytest.raises(KocrError, match="curriculum"):
        open_unlabeled(".", start_data={"color": True}, ramp=10)


def _watch_output_dtypes(monkeypatch, trainer_module, layer: str) -> list[torch.dtype]:
    """The dtypes ``layer`` of every model ``trainer_module`` creates puts out, in call order."""
    seen: list[torch.dtype] = []
    create = trainer_module.create_model

    def create_watched(*args, **kwargs):
        model = create(*args, **kwargs)
        getattr(model, layer).register_forward_hook(lambda module, inputs, output: seen.append(output.dtype))
        return model

    monkeypatch.setattr(trainer_module, "create_model", create_watched)
    return seen


def _saved_weights_are_fp32(checkpoint) -> bool:
    saved = torch.load(checkpoint, weights_only=True)["model"]
    return all(v.dtype == torch.float32 for v in saved.values() if v.is_floating_point())


def test_bf16_precision_runs_the_forward_in_bfloat16_and_keeps_fp32_weights(tmp_path, monkeypatch):
    from kocr_sdk.lab.training import recognizer as rec_training

    seen = _watch_output_dtypes(monkeypatch, rec_training, "head")
    cfg = rec_training.RecognizerTrainConfig(batch_size=4, max_steps=2, val_every=100, val_size=4, workers=0,
                                             log_every=1, out=tmp_path / "run", device="cpu",
                                             unlabeled="synth:20", pseudo_threshold=0.0, precision="bf16")
    rec_training.train(cfg, progress=False)
    rows = [json.loads(line) for line in (cfg.out / "log.jsonl").read_text().splitlines() if '"loss"' in line]
    assert rows and all(np.isfinite(r["loss"]) for r in rows)
    assert torch.bfloat16 in seen and torch.float32 in seen  # training steps in bf16, validation in fp32
    assert _saved_weights_are_fp32(cfg.out / "last.pt")


def test_seqclr_bf16_runs_the_encoder_in_bfloat16_and_keeps_fp32_weights(tmp_path, monkeypatch):
    from kocr_sdk.lab.training import seqclr

    seen = _watch_output_dtypes(monkeypatch, seqclr, "embed")
    cfg = _pretrain_config(tmp_path, precision="bf16")
    result = pretrain(cfg, progress=False)
    assert result["step"] == 2 and np.isfinite(result["loss"])
    assert seen and all(dtype == torch.bfloat16 for dtype in seen)
    assert _saved_weights_are_fp32(cfg.out / "last.pt")


def test_binarize_gives_a_two_level_staircase_and_is_not_in_the_default_strong_set():
    img = cv2.GaussianBlur(_bars(), (0, 0), 1.2)  # soft edges: grey levels a threshold must remove
    def grey(x):
        return ((x > 0.02) & (x < 0.98)).sum()

    for seed in range(10):
        out = OPERATIONS["binarize"](img, np.random.default_rng(seed), 1.0)
        # nearest upscaling leaves only 0 and 1, linear leaves grey only along the edges of blocks
        assert grey(out) < grey(img) / 2
    assert "binarize" in OPERATIONS and "binarize" not in DEFAULT_STRONG
    # a named set is drawn from that set only: binarize alone always gives a two-level-ish crop
    out = strong_view(img, np.random.default_rng(0), n=1, operations=("binarize",))
    assert grey(out) < grey(img) / 2


def test_strong_operations_are_checked_and_labelled_augmentation_is_per_crop_and_repeatable():
    from kocr_sdk.lab.training.recognizer import CropStream, RecognizerTrainConfig

    with pytest.raises(ValueError, match="unknown"):
        RecognizerTrainConfig(strong_operations=["posterise"])
    charset = hangul_charset()
    plain = RecognizerTrainConfig(batch_size=4)
    half = plain.model_copy(update={"labeled_augment": 0.5, "strong_operations": ["binarize"]})
    crops = {name: [CropStream(cfg, charset, 0)._augment(np.asarray(img), i) for i, img in
                    enumerate(cv2.GaussianBlur(_bars(), (0, 0), 1.0 + 0.05 * k) for k in range(40))]
             for name, cfg in (("plain", plain), ("half", half))}
    changed = [not np.array_equal(a, b) for a, b in zip(crops["plain"], crops["half"])]
    assert 8 <= sum(changed) <= 32  # about half the crops, not all and not none
    again = [CropStream(half, charset, 0)._augment(cv2.GaussianBlur(_bars(), (0, 0), 1.0 + 0.05 * k), k) for k in range(40)]
    assert all(np.array_equal(a, b) for a, b in zip(again, crops["half"]))  # a resumed run augments alike


def test_cli_teacher_names_set_the_teacher_and_frozen_needs_starting_weights(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import kocr_sdk.lab.training.recognizer as recognizer
    from kocr_sdk.cli.main import cli

    seen = {}

    def fake_train(cfg, resume=None, progress=True):
        seen["cfg"] = cfg
        return {"step": 0, "samples_seen": 0, "val": {}}

    monkeypatch.setattr(recognizer, "train", fake_train)
    weights = tmp_path / "start.safetensors"
    write_weights(weights, {}, {"arch": "vitstr-tiny", "charset": "hangul", "step": 9})
    base = ["train", "recognizer", "--unlabeled", "synth:10", "--out", str(tmp_path / "run"), "-q"]
    result = CliRunner().invoke(cli, base + ["--teacher", "frozen"])
    assert result.exit_code != 0 and "--init-from" in result.output and "cfg" not in seen
    result = CliRunner().invoke(cli, ["train", "recognizer", "--teacher", "ema", "-q"])
    assert result.exit_code != 0 and "--unlabeled" in result.output
    result = CliRunner().invoke(cli, base + ["--teacher", "frozen", "--init-from", str(weights)])
    assert result.exit_code == 0, result.output
    cfg = seen["cfg"]
    assert (cfg.teacher_ema, cfg.teacher_views, cfg.pseudo_threshold, cfg.unlabeled_weight) == (1.0, 3, 0.95, 3.0)
    assert (cfg.lr, cfg.total_steps) == (1e-4, 4000)  # trained weights of the same script: fine-tuning
    CliRunner().invoke(cli, base + ["--teacher", "self"])
    assert seen["cfg"].teacher_ema is None and seen["cfg"].teacher_views == 1


def test_cli_fine_tunes_trained_weights_but_not_an_encoder_and_refuses_a_bad_file(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import kocr_sdk.lab.training.recognizer as recognizer
    from kocr_sdk.cli.main import cli

    seen = {}
    monkeypatch.setattr(recognizer, "train", lambda cfg, resume=None, progress=True: seen.setdefault("cfg", cfg)
                        and {"step": 0, "samples_seen": 0, "val": {}})
    encoder = tmp_path / "encoder.safetensors"
    write_weights(encoder, {}, {"charset": "hangul", "pretrain": "seqclr"})
    base = ["train", "recognizer", "--out", str(tmp_path / "run"), "-q", "--max-steps", "300"]
    assert CliRunner().invoke(cli, base + ["--init-from", str(encoder)]).exit_code == 0
    assert seen.pop("cfg").lr == 1e-3  # an encoder's head is untrained: the from-scratch schedule
    latin = tmp_path / "latin.safetensors"
    write_weights(latin, {}, {"charset": "latin"})
    CliRunner().invoke(cli, base + ["--init-from", str(latin)])
    assert seen.pop("cfg").lr == 1e-3  # another script's recogniser: a new head too
    hangul = tmp_path / "hangul.pt"  # an export from an older version: a pickle, read weights-only
    torch.save({"model": {}, "meta": {"charset": "hangul"}}, hangul)
    result = CliRunner().invoke(cli, base + ["--init-from", str(hangul)])
    assert "fine-tuning" in result.output
    assert (seen["cfg"].lr, seen.pop("cfg").total_steps) == (1e-4, 300)  # the cosine spans --max-steps
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    result = CliRunner().invoke(cli, base + ["--init-from", str(garbage)])
    assert result.exit_code != 0 and "not a kocr weights file" in result.output and "Traceback" not in result.output
