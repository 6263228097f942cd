"""The anchor-free detector: targets ↔ decoding round trip, OHEM, losses, model shapes, the
stage's registration, and the training loop's plumbing (on tiny drawn pages)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from kocr_sdk.detection.anchor_free import (
    STRIDE,
    DecodeConfig,
    DetectionLoss,
    GroundTruth,
    LossConfig,
    TargetConfig,
    collate,
    create_model,
    decode,
    encode,
    flop_breakdown,
    fuse_batchnorm,
    ohem_bce,
    ohem_select,
)
from kocr_sdk.detection.anchor_free.model import OUTPUT_CHANNELS
from kocr_sdk.detection.anchor_free.targets import quad_orientations
from kocr_sdk.weights_file import read_weights, write_weights

torch.set_num_threads(1)


# ------------------------------------------------------------------------------------ helpers
def layout(seed: int = 0, width: int = 480, height: int = 320) -> GroundTruth:
    """Lines of words made of characters of random widths, in several text sizes (8–30 px)."""
    rng = np.random.default_rng(seed)
    words, chars, owner = [], [], []
    y = 12.0
    while True:
        h = float(rng.uniform(8, 30))
        if y + h > height - 8:
            break
        x = 10.0
        while True:
            widths = [float(rng.uniform(0.6, 1.0) * max(h, 9)) for _ in range(int(rng.integers(1, 7)))]
            if x + sum(widths) > width - 10:
                break
            x0 = x
            for w in widths:
                chars.append([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
                owner.append(len(words))
                x += w
            words.append([[x0, y], [x, y], [x, y + h], [x0, y + h]])
            x += 0.7 * h + 4
        y += 1.5 * h + 4
    return GroundTruth(np.array(words), np.array(chars), np.array(owner))


def as_predictions(maps: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Target maps dressed as network outputs (logits where the network gives logits)."""
    out = {}
    for k in ("char_ctr", "word_ctr"):
        p = np.clip(maps[k], 1e-6, 1 - 1e-6)
        out[k] = torch.from_numpy(np.log(p / (1 - p))).float()[None]
    for k in ("char_reg", "word_reg", "char_off", "word_off"):
        out[k] = torch.from_numpy(maps[k])[None]
    out["orient"] = torch.from_numpy(maps["orient"] * 20 - 10)[None]
    return out


def match_quads(expected: np.ndarray, found: np.ndarray) -> np.ndarray:
    """For each expected quad, the index of the found quad with the nearest corners (in order)."""
    dist = np.abs(expected[:, None] - found[None]).max(axis=(2, 3))
    return dist.argmin(axis=1), dist.min(axis=1)


# ------------------------------------------------------------------------------------ round trip
@pytest.mark.parametrize("peaks", ["votes", "centerness"])
@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_targets_decode_round_trip(k, peaks):
    width, height = 480, 320
    gt = layout(k)
    if k:
        gt = gt.rot90(k, width, height)
        if k % 2:
            width, height = height, width
    maps = encode(gt, height, width)
    assert maps["char_ctr"].shape == (1, height // STRIDE, width // STRIDE)
    decoded = decode(as_predictions(maps), height, width, DecodeConfig(peaks=peaks))

    assert len(decoded) == len(gt.word_quads)
    assert len(decoded.char_boxes) == len(gt.char_quads)
    words, word_err = match_quads(gt.word_quads, decoded.word_quads())
    chars, char_err = match_quads(gt.char_quads, decoded.char_quads())
    # corners in reading order, within a pixel: boxes, point order and orientation all survive
    assert word_err.max() < 1.0 and char_err.max() < 1.0
    assert len(set(words.tolist())) == len(words)
    # every character lands in its own word, and inside it in reading order
    assert (decoded.char_word[chars] == words[gt.char_word]).all()
    for w in range(len(gt.word_quads)):
        assert decoded.chars_of(words[w]).tolist() == chars[gt.char_word == w].tolist()
    assert decoded.orientation == 90 * k and decoded.orientation_confidence == 1.0
    assert (quad_orientations(decoded.word_quads()) == k).all()


def test_narrow_letters_survive_where_a_plain_max_pool_merges_them():
    gt = layout(0)  # has characters down to ~5 px wide: centres one cell apart
    maps = as_predictions(encode(gt, 320, 480))
    same_box = decode(maps, 320, 480, DecodeConfig(peaks="centerness"))
    plain = decode(maps, 320, 480, DecodeConfig(peaks="centerness", same_box=0))
    assert len(same_box.char_boxes) == len(gt.char_quads)
    assert len(plain.char_boxes) < len(gt.char_quads)
    assert len(plain) == len(same_box) == len(gt.word_quads)  # words are far apart: both rules agree


def test_centre_votes_merge_a_second_peak_on_a_long_word():
    words = np.array([[[40, 40], [240, 40], [240, 60], [40, 60]]], float)
    gt = GroundTruth(words, np.zeros((0, 4, 2)), np.zeros(0, np.int64))
    maps = encode(gt, 96, 288)
    i, j = 12, int(140 // STRIDE)  # the centre cell; a second local maximum 4 cells to its right,
    maps["word_ctr"][0, i, j + 4] = maps["word_ctr"][0, i, j]  # whose offset misses the centre by 1.3 cells
    maps["word_off"][0, i, j + 4] += 1.3
    pred = as_predictions(maps)
    raw = DecodeConfig(peaks="centerness", contained=0, merge_overlap=None)
    assert len(decode(pred, 96, 288, raw)) == 2  # out of its 3×3 window
    # the containment filter (on by default) removes such a duplicate after the fact as well
    assert len(decode(pred, 96, 288, DecodeConfig(peaks="centerness", merge_overlap=None))) == 1
    voted = decode(pred, 96, 288, DecodeConfig(peaks="votes", contained=0))
    assert len(voted) == 1
    assert np.abs(voted.word_boxes[0] - [40, 40, 240, 60]).max() < 2  # the vote-weighted mean box


def test_rotation_keeps_reading_order():
    gt = layout(3)
    turned = gt.rot90(1, 480, 320)
    assert (quad_orientations(turned.word_quads) == 1).all()
    assert turned.orientation == 90
    # a word's first corner (top-left as it reads) is its image-bottom-left after a 90° turn
    q = turned.word_quads[0]
    assert q[0][0] == q[:, 0].min() and q[0][1] == q[:, 1].max()


def test_tiny_boxes_get_a_positive_location_and_smaller_boxes_win():
    words = np.array([[[40, 40], [120, 40], [120, 70], [40, 70]], [[60, 50], [63, 50], [63, 53], [60, 53]]], float)
    gt = GroundTruth(words, np.zeros((0, 4, 2)), np.zeros(0, np.int64))
    maps = encode(gt, 128, 160)
    # the 3-pixel box, inside the large one, owns the cell holding its centre
    i, j = int(51.5 // STRIDE), int(61.5 // STRIDE)
    assert maps["word_ctr"][0, i, j] > 0
    half = np.exp(maps["word_reg"][:, i, j]) * STRIDE
    assert half.max() < 4  # distances to the small box's sides, not the large one's
    cx = (j + 0.5) * STRIDE + maps["word_off"][0, i, j] * STRIDE
    assert cx == pytest.approx(61.5)


def test_ignored_and_unannotated_words_are_dont_care():
    words = np.array([[[10, 10], [60, 10], [60, 30], [10, 30]], [[10, 50], [60, 50], [60, 70], [10, 70]]], float)
    gt = GroundTruth(words, np.zeros((0, 4, 2)), np.zeros(0, np.int64), word_ignore=np.array([True, False]))
    maps = encode(gt, 96, 96)
    assert maps["word_ignore"][0, 5, 8] and maps["word_ctr"][0, 5, 8] == 0  # inside the ignored word
    assert maps["word_ctr"][0, 15, 8] > 0  # the kept word is a target
    assert maps["char_ignore"][0, 15, 8]  # ... whose characters are not annotated


def test_clip_marks_cut_boxes_dont_care():
    words = np.array([[[-30, 10], [20, 10], [20, 30], [-30, 30]], [[40, 10], [80, 10], [80, 30], [40, 30]]], float)
    gt = GroundTruth(words, np.zeros((0, 4, 2)), np.zeros(0, np.int64)).clip(96, 96, 0.6)
    assert gt.word_ignore.tolist() == [True, False]


# ------------------------------------------------------------------------------------ losses
@pytest.mark.parametrize("n_pos,n_neg", [(10, 200), (10, 25), (0, 500), (7, 0)])
def test_ohem_keeps_every_positive_and_the_hardest_negatives(n_pos, n_neg):
    torch.manual_seed(0)
    size = 32 * 32
    loss = torch.rand(1, 1, 32, 32)
    flat = torch.zeros(size, dtype=torch.long)
    flat[:n_pos] = 1
    flat[n_pos:n_pos + n_neg] = 2  # the rest are "don't care"
    flat = flat[torch.randperm(size)].reshape(1, 1, 32, 32)
    positive, negative = flat == 1, flat == 2
    kept = ohem_select(loss, positive, negative, ratio=3.0, min_negatives=100)
    expected = min(n_neg, 3 * n_pos) if n_pos else min(n_neg, 100)
    assert int(kept.sum()) == expected
    assert not (kept & ~negative).any()
    if 0 < expected < n_neg:
        assert loss[kept].min() >= loss[negative & ~kept].max()


def test_ohem_is_per_image_and_ratio_is_configurable():
    loss = torch.rand(2, 1, 16, 16)
    positive = torch.zeros(2, 1, 16, 16, dtype=torch.bool)
    positive[0, 0, :2, :5] = True  # 10 positives on image 0, 1 on image 1
    positive[1, 0, 0, 0] = True
    kept = ohem_select(loss, positive, ~positive, ratio=5.0, min_negatives=0)
    assert kept[0].sum() == 50 and kept[1].sum() == 5


def _targets(gt: GroundTruth, size: int = 128) -> dict[str, torch.Tensor]:
    return collate([encode(gt, size, size)])


def test_loss_is_finite_on_an_empty_page_and_trains():
    empty = GroundTruth(np.zeros((0, 4, 2)), np.zeros((0, 4, 2)), np.zeros(0, np.int64))
    model = create_model("afd-tiny")
    out = model(torch.randn(1, 3, 128, 128))
    total, parts = DetectionLoss()(out, _targets(empty))
    assert math.isfinite(float(total.detach())) and float(total.detach()) > 0  # the hardest negatives still teach
    assert all(math.isfinite(v) for v in parts.values())
    assert parts["char_reg"] == 0 and parts["word_off"] == 0 and parts["orient"] == 0
    total.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_loss_prefers_the_true_maps():
    gt = layout(1, 128, 128)
    tgt = _targets(gt)
    perfect = {k: v.clone() for k, v in as_predictions({k: v[0].numpy() for k, v in tgt.items()}).items()}
    noisy = {k: v + torch.randn_like(v) for k, v in perfect.items()}
    loss = DetectionLoss(LossConfig())
    assert float(loss(perfect, tgt)[0]) < float(loss(noisy, tgt)[0])
    assert loss(perfect, tgt)[1]["word_reg"] == pytest.approx(0.0, abs=1e-6)


def test_ohem_bce_ignores_dont_care():
    logits = torch.full((1, 1, 8, 8), 5.0)  # confident "centre" everywhere
    target = torch.zeros(1, 1, 8, 8)
    target[0, 0, 0, 0] = 1.0
    valid = torch.zeros(1, 1, 8, 8, dtype=torch.bool)
    valid[0, 0, 0, :4] = True  # 1 positive, 3 negatives; everything else don't care
    loss = ohem_bce(logits, target, valid)
    expected = (torch.nn.functional.softplus(torch.tensor(-5.0)) + 3 * torch.nn.functional.softplus(torch.tensor(5.0))) / 4
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)


# ------------------------------------------------------------------------------------ model
def test_model_outputs_at_stride_4():
    model = create_model("afd-slim").eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 96, 160))
    assert set(out) == set(OUTPUT_CHANNELS)
    for name, channels in OUTPUT_CHANNELS.items():
        assert out[name].shape == (2, channels, 96 // STRIDE, 160 // STRIDE)


def test_folded_batchnorm_gives_the_same_outputs_and_flops_are_counted():
    model = create_model("afd-tiny").eval()
    for m in model.modules():  # non-trivial statistics, so folding has something to fold
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        ref = model(x)
        fused = fuse_batchnorm(model)(x)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    for k in ref:
        assert torch.allclose(ref[k], fused[k], atol=1e-4)
    flops = flop_breakdown(create_model("afd-tiny"), 64, 96)
    assert flops["conv"] > 0 and flops["bn"] > 0


def test_line_context_starts_as_the_plain_network_and_folds():
    plain, line = create_model("afd-slim").eval(), create_model("afd-slim-line").eval()
    x = torch.randn(1, 3, 96, 128)
    with torch.no_grad():
        for m in line.word_context.modules():  # what training would do: the block adds something
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
        changed = line(x)["word_reg"]
        line.word_context.zero_init()
        line.load_state_dict({**line.state_dict(), **plain.state_dict()})
        assert all(torch.equal(a, b) for a, b in zip(plain(x).values(), line(x).values()))
        assert not torch.allclose(changed, line(x)["word_reg"])
        line.word_context.pw[1].weight.fill_(1.0)
        ref = line(x)
        fused = fuse_batchnorm(line)(x)
    for k in ref:
        assert torch.allclose(ref[k], fused[k], atol=1e-4)


def test_init_from_copies_a_smaller_architecture_and_refuses_another(tmp_path):
    from kocr_sdk.errors import KocrError
    from kocr_sdk.lab.training.detector import init_from_weights

    _write_weights(tmp_path / "slim.safetensors", "afd-slim")
    state, meta = read_weights(tmp_path / "slim.safetensors", "detector")
    write_weights(tmp_path / "slim.safetensors", state, {**meta, "step": 120, "samples_seen": 960})
    line = create_model("afd-slim-line")
    report = init_from_weights(line, tmp_path / "slim.safetensors")
    assert report["step"] == 120 and report["samples_seen"] == 960 and report["new"] > 0
    assert torch.equal(line.state_dict()["word_head.weight"], state["word_head.weight"].float())
    _write_weights(tmp_path / "tiny.safetensors", "afd-tiny")
    with pytest.raises(KocrError, match="do not fit"):
        init_from_weights(create_model("afd-slim-line"), tmp_path / "tiny.safetensors")


# ------------------------------------------------------------------------------------ stage
def _write_weights(path, arch: str = "afd-tiny"):
    model = create_model(arch)
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    meta = {"arch": arch, "targets": TargetConfig().model_dump(mode="json"), "inference": {"max_side": 256}}
    write_weights(path, state, meta)


def test_stage_is_not_registered_without_weights(tmp_path, monkeypatch):
    from kocr_sdk.detection.anchor_free import stage as detector
    from kocr_sdk.plugins import load_registry

    monkeypatch.setattr(detector, "WEIGHTS_PATH", tmp_path / "detector-anchor-free.safetensors")
    assert "anchor-free" not in load_registry(load_entrypoints=False).stages["detector"]


def test_stage_registers_and_detects_with_weights(tmp_path, monkeypatch, white_page):
    from kocr_sdk import Engine
    from kocr_sdk.detection.anchor_free import stage as detector
    from kocr_sdk.plugins import load_registry

    path = tmp_path / "detector-anchor-free.safetensors"
    _write_weights(path)
    monkeypatch.setattr(detector, "WEIGHTS_PATH", path)
    assert "anchor-free" in load_registry(load_entrypoints=False).stages["detector"]
    stage = detector.AnchorFreeDetector(decode={"word_threshold": 0.5})
    assert stage.config.max_side == 256 and stage.config.decode.word_threshold == 0.5
    result = stage.detect(np.full((300, 500, 3), 255, np.uint8))
    assert result.orientation in (0, 90, 180, 270)
    assert result.scale == pytest.approx(256 / 500)
    engine = Engine(load_entrypoints=False)
    assert engine.describe()["detector"] == "anchor-free"
    page = engine.read(white_page).pages[0]
    assert {r.stage: r.status for r in page.stages}["detector"] == "ran"
    assert page.detection_scale == pytest.approx(1.0)  # the detector's own scale is recorded on the page


class MapsFromTargets(torch.nn.Module):
    """A stand-in network: answers with the encoded ground truth of a ``page_height``-pixel page,
    scaled as the input is (padding aside)."""

    def __init__(self, gt: GroundTruth, page_height: int) -> None:
        super().__init__()
        self.gt, self.page_height = gt, page_height

    def forward(self, x):
        h, w = x.shape[-2:]
        scale = h / self.page_height
        return {k: v.to(x.device) for k, v in as_predictions(encode(self.gt.affine(scale, 0, 0), h, w)).items()}


def test_detections_come_back_in_original_pixels():
    from kocr_sdk.detection.anchor_free.inference import InferenceConfig, run_pass

    gt = layout(5, 480, 320)
    image = np.full((320, 480, 3), 255, np.uint8)
    decoded = run_pass(MapsFromTargets(gt, 320), image, 0.5, InferenceConfig(auto_scale=False))
    _, err = match_quads(gt.word_quads, decoded.word_quads())
    assert err.max() < 1.5


def test_evaluation_counts_the_pages_auto_scale_ran_twice():
    from kocr_sdk.detection.anchor_free.inference import InferenceConfig
    from kocr_sdk.lab.training.detector import evaluate

    gt = layout(3, 480, 320)
    model = MapsFromTargets(gt, 320)
    record = {"image": "p.png", "orientation": 0, "words": [
        {"text": "", "poly": q.tolist()} for q in gt.word_quads]}
    pages = [(np.full((320, 480, 3), 255, np.uint8), record)]
    once = evaluate(model, pages, InferenceConfig(auto_scale=False))
    assert once["second_pass_share"] == 0.0 and once["word_hmean"] > 0.9
    # a range no word of this page lies in: every page runs again at another scale
    twice = evaluate(model, pages, InferenceConfig(text_height_range=(200.0, 400.0), target_text_height=300.0))
    assert twice["second_pass_share"] == 1.0


# ------------------------------------------------------------------------------------ training
class DrawnPages:
    """Pages of dark rectangles standing for characters (a test double for the synthetic generator)."""

    def __init__(self, split: str, seed: int) -> None:
        self.seed = seed + (1000 if split == "heldout" else 0)

    def sample(self, index: int):
        import cv2

        gt = layout(self.seed * 100_000 + index, 192, 160)
        image = np.full((160, 192, 3), 255, np.uint8)
        for q in gt.char_quads:
            x0, y0 = q.min(axis=0)
            x1, y1 = q.max(axis=0)
            cv2.rectangle(image, (int(x0) + 1, int(y0) + 1), (int(x1) - 2, int(y1) - 1), (30, 30, 30), -1)
        record = {"image": f"drawn-{index}.png", "orientation": 0, "words": [
            {"text": "", "poly": gt.word_quads[w].tolist(),
             "chars": [{"text": "", "poly": gt.char_quads[c].tolist()} for c in np.nonzero(gt.char_word == w)[0]]}
            for w in range(len(gt.word_quads))]}
        return image, record


def _train_config(tmp_path, **kw):
    from kocr_sdk.lab.training.detector import DetectorTrainConfig

    return DetectorTrainConfig(arch="afd-tiny", batch_size=2, crop_size=96, val_every=2, val_size=1, workers=0,
                               device="cpu", out=tmp_path / "run", log_every=1, **kw)


def test_training_samples_are_a_pure_function_of_seed_and_index(tmp_path):
    from kocr_sdk.lab.training.detector import make_sample

    cfg = _train_config(tmp_path)
    image, record = DrawnPages("train", 0).sample(3)
    a, ta = make_sample(image, record, 7, cfg)
    b, tb = make_sample(image, record, 7, cfg)
    c, _ = make_sample(image, record, 8, cfg)
    assert a.shape == (96, 96, 3) and np.array_equal(a, b) and not np.array_equal(a, c)
    assert all(np.array_equal(ta[k], tb[k]) for k in ta)


def test_training_checkpoints_and_resumes(tmp_path):
    from kocr_sdk.lab.training.detector import export_weights, train

    cfg = _train_config(tmp_path, max_steps=2)
    result = train(cfg, progress=False, generator=DrawnPages)
    assert result["step"] == 2 and result["samples_seen"] == 4
    assert set(result["val"]) >= {"word_hmean", "char_hmean", "orientation_accuracy", "duplicate_rate"}
    lines = [json.loads(line) for line in (cfg.out / "log.jsonl").read_text().splitlines()]
    assert any("val" in line for line in lines) and all(math.isfinite(line.get("loss", 0)) for line in lines)
    resumed = train(cfg.model_copy(update={"max_steps": 3}), resume=cfg.out / "last.pt", progress=False,
                    generator=DrawnPages)
    assert resumed["step"] == 3 and resumed["samples_seen"] == 6
    meta = export_weights(cfg.out / "last.pt", tmp_path / "w.safetensors")
    assert meta["arch"] == "afd-tiny" and meta["step"] == 3
    from kocr_sdk.detection.anchor_free.inference import load_weights

    model, loaded = load_weights(tmp_path / "w.safetensors")
    assert loaded["targets"]["stride"] == STRIDE
    # shipped weights are a checkpoint too: the next training run continues from them
    warm = train(cfg.model_copy(update={"max_steps": 4, "out": tmp_path / "run2"}), resume=tmp_path / "w.safetensors",
                 progress=False, generator=DrawnPages)
    assert warm["step"] == 4 and warm["samples_seen"] == 8


def test_schedule_warms_up_decays_and_rewarms_a_warm_start():
    from kocr_sdk.lab.training.schedule import REWARM_STEPS, lr_at

    assert lr_at(0, 1.0, 10, 100) == 0.1 and lr_at(9, 1.0, 10, 100) == 1.0
    assert lr_at(55, 1.0, 10, 100) < lr_at(20, 1.0, 10, 100) and abs(lr_at(100, 1.0, 10, 100) - 0.02) < 1e-9
    assert lr_at(50, 1.0, 10, 100, rewarm_from=50) == pytest.approx(lr_at(50, 1.0, 10, 100) / REWARM_STEPS)
    assert lr_at(50 + REWARM_STEPS, 1.0, 10, 1000, rewarm_from=50) == lr_at(50 + REWARM_STEPS, 1.0, 10, 1000)


def test_a_restarted_schedule_is_the_same_cosine_shifted_to_its_start():
    from kocr_sdk.lab.training.schedule import lr_at

    # the first schedule has reached its floor by step 100; the second starts over there
    assert lr_at(100, 1.0, 10, 100) == pytest.approx(0.02)
    for local in (0, 5, 9, 30, 90):
        assert lr_at(100 + local, 1.0, 10, 200, start=100) == pytest.approx(lr_at(local, 1.0, 10, 100))
    assert lr_at(200, 1.0, 10, 200, start=100) == pytest.approx(0.02)


def test_default_training_config_file_is_valid():
    from pathlib import Path

    from kocr_sdk.errors import KocrConfigError
    from kocr_sdk.lab.training.detector import DetectorTrainConfig
    from kocr_sdk.yamlio import validate_yaml_file

    path = Path(__file__).resolve().parents[1] / "kocr_sdk" / "lab" / "training" / "configs" / "detector.yaml"
    assert validate_yaml_file(path, DetectorTrainConfig.model_validate, KocrConfigError, "training config") == DetectorTrainConfig()


def test_pieces_of_a_word_inside_a_larger_box_are_dropped_neighbours_kept():
    from kocr_sdk.detection.anchor_free.decode import _not_contained

    boxes = np.array([
        [0, 0, 200, 20],    # a long word
        [120, 2, 190, 19],  # a second peak's piece of it: wholly inside
        [210, 0, 260, 20],  # the next word: beside it, kept
        [250, 0, 300, 20],  # overlaps the previous one by a fifth only: kept
        [0, 0, 200, 20],    # an exact duplicate of the first: one of the two goes
    ], dtype=np.float64)
    assert _not_contained(boxes, 0.8).tolist() == [True, False, True, True, False]
    assert _not_contained(boxes, 1.0).tolist() == [True, False, True, True, False]
    assert _not_contained(boxes[[0, 2, 3]], 0.8).all()


def test_orphan_letters_at_a_word_end_are_adopted_and_the_word_grows():
    from kocr_sdk.detection.anchor_free.decode import _adopt_orphans

    # a word box short by its first letter (regressed from a far peak); letters 10 px wide, 20 high
    words = np.array([[112.0, 100, 200, 120], [300, 100, 340, 120], [100, 300, 120, 380]])
    chars = np.array([
        [100.0, 101, 110, 119],  # the lost first letter: 2 px before the word → adopted
        [112, 101, 122, 119],    # inside the word (already assigned)
        [240, 101, 250, 119],    # a word space (40 px = 2 heights) after the word → stays an orphan
        [203, 150, 213, 170],    # close along the line but on the next line down → stays
        [201, 108, 203, 110],    # a speck, far smaller than the line → stays
        [102, 288, 118, 298],    # just above a vertical (90°) word: its reading direction is y → adopted
    ])
    orient = np.array([0, 0, 1])
    owner = np.array([-1, 0, -1, -1, -1, -1])
    assert _adopt_orphans(chars, words, orient, owner, gap=0.15) == 2
    assert owner.tolist() == [0, 0, -1, -1, -1, 2]
    assert words[0].tolist() == [100, 100, 200, 120]  # grown along x only
    assert words[2].tolist() == [100, 288, 120, 380]  # grown along y only
    assert words[1].tolist() == [300, 100, 340, 120]


def test_grow_to_chars_covers_each_words_letters_along_the_reading_direction():
    from kocr_sdk.detection.anchor_free.decode import _grow_to_chars

    words = np.array([[105.0, 100, 200, 120]])
    chars = np.array([[100.0, 98, 110, 121], [190, 101, 204, 119]])
    grown = _grow_to_chars(chars, words, np.array([0]), np.array([0, 0]))
    assert grown.tolist() == [[100, 100, 204, 120]]


def test_overlapping_pieces_of_one_word_merge_but_neighbours_on_a_line_do_not():
    from kocr_sdk.detection.anchor_free.decode import _merge_groups, _overlapping_groups

    boxes = np.array([
        [134.0, 86, 263, 104], [248, 87, 286, 103],   # two pieces of one word, overlapping by 15 px
        [300, 86, 340, 104], [344, 86, 380, 104],     # neighbours with a 4 px space: separate words
        [150, 200, 250, 218], [150, 219, 250, 237],   # two lines, one above the other: separate
        [20, 300, 38, 400], [20, 390, 38, 450],       # vertical (90°) pieces overlapping along y
    ])
    orient = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    groups = _overlapping_groups(boxes, orient, 0.2)
    assert groups[0] == groups[1] and groups[6] == groups[7]
    assert len(set(groups.tolist())) == 6
    scores = np.array([0.9, 0.5, 0.8, 0.8, 0.7, 0.7, 0.6, 0.9])
    merged, s, o, _ = _merge_groups(groups, boxes, scores, orient, scores)
    assert merged[groups[0]].tolist() == [134, 86, 286, 104] and s[groups[0]] == 0.9
    assert merged[groups[6]].tolist() == [20, 300, 38, 450] and o[groups[6]] == 1


def test_overlapping_boxes_merge_only_when_they_share_a_letter():
    from kocr_sdk.detection.anchor_free.decode import _overlapping_groups

    boxes = np.array([[189.0, 147, 262, 162], [256, 148, 308, 163]])  # overlap 6 px along the line
    orient = np.array([0, 0])
    shared = np.array([[259.0, 155]])  # the '6' both pieces hold
    apart = np.array([[230.0, 155], [280, 155]])
    assert len(set(_overlapping_groups(boxes, orient, 0.2, shared).tolist())) == 1
    assert len(set(_overlapping_groups(boxes, orient, 0.2, apart).tolist())) == 2
