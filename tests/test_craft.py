"""The CRAFT-style baseline detector: heatmap targets ↔ connected-component decoding round trip,
OHEM, the loss, the model's shapes, the training loop through the shared trainer, and the
stage loading exported weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kocr_sdk.detection.anchor_free import GroundTruth, flop_breakdown, fuse_batchnorm
from kocr_sdk.detection.craft import (
    CraftArch,
    CraftDecodeConfig,
    CraftLoss,
    CraftLossConfig,
    CraftNet,
    CraftTargetConfig,
    affinity_boxes,
    create_model,
    decode,
    encode,
    extent_ratio,
    ohem_mse,
)
from kocr_sdk.lab.eval.matching import iou_matrix
from tests.test_detection import DrawnPages, layout

torch.set_num_threads(1)


def as_outputs(maps: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Target heatmaps dressed as the network's outputs."""
    return {k: torch.from_numpy(maps[k])[None] for k in ("region", "affinity")}


def line_of_words(spec: list[tuple[float, int]], h: float = 16.0, y: float = 20.0, char_w: float = 12.0) -> GroundTruth:
    """One line: ``spec`` is ``(gap before the word in px, number of characters)`` per word."""
    words, chars, owner = [], [], []
    x = 10.0
    for gap, n in spec:
        x += gap
        x0 = x
        for _ in range(n):
            chars.append([[x, y], [x + char_w, y], [x + char_w, y + h], [x, y + h]])
            owner.append(len(words))
            x += char_w
        words.append([[x0, y], [x, y], [x, y + h], [x0, y + h]])
    return GroundTruth(np.array(words), np.array(chars), np.array(owner))


# ------------------------------------------------------------------------------------ round trip
@pytest.mark.parametrize("seed", [0, 3])
def test_targets_decode_round_trip(seed):
    gt = layout(seed, 480, 320)
    decoded = decode(as_outputs(encode(gt, 320, 480)), 320, 480)
    assert len(decoded) == len(gt.word_quads) and len(decoded.char_boxes) == len(gt.char_quads)
    words = iou_matrix(gt.word_quads.tolist(), decoded.word_quads().tolist())
    assert words.max(axis=1).min() > 0.8  # every word found, tightly
    assert (words > 0.5).sum(axis=1).max() == 1  # and once
    chars = iou_matrix(gt.char_quads.tolist(), decoded.char_quads().tolist())
    assert np.median(chars.max(axis=1)) > 0.9 and chars.max(axis=1).min() > 0.5
    # characters belong to the word that holds them, and come in reading order
    best = words.argmax(axis=1)
    assert np.array_equal(decoded.char_word, best[gt.char_word])
    assert decoded.orientation == 0 and decoded.orientation_confidence is None
    assert not decoded.word_orientation.any()


def test_round_trip_on_a_page_turned_by_90_degrees():
    gt = layout(1, 480, 320).rot90(1, 480, 320)  # now 320 wide, 480 high, words read bottom to top
    decoded = decode(as_outputs(encode(gt, 480, 320)), 480, 320)
    words = iou_matrix(gt.word_quads.tolist(), decoded.word_quads().tolist())
    assert len(decoded) == len(gt.word_quads) and words.max(axis=1).min() > 0.8
    # without an orientation head a word's height is its box's shorter side, whatever the page
    # (single narrow characters aside): auto-scaling measures the text, not the words' lengths
    longer = np.bincount(decoded.char_word, minlength=len(decoded)) > 1
    across = decoded.word_boxes[:, 2] - decoded.word_boxes[:, 0]
    assert np.allclose(decoded.text_heights()[longer], across[longer])


def test_adjacent_words_with_a_gap_stay_separate():
    gt = line_of_words([(0, 4), (5, 3), (4, 1), (6, 5)], h=16, char_w=12)  # gaps of a third of the height
    decoded = decode(as_outputs(encode(gt, 64, 320)), 64, 320)
    assert len(decoded) == 4
    words = iou_matrix(gt.word_quads.tolist(), decoded.word_quads().tolist())
    assert words.max(axis=1).min() > 0.8
    assert np.bincount(decoded.char_word).tolist() == [4, 3, 1, 5]


def test_affinity_links_only_consecutive_characters_of_a_word():
    gt = line_of_words([(0, 3), (6, 2)], h=18, char_w=12)
    boxes = affinity_boxes(gt)
    assert len(boxes) == 2 + 1  # 3 characters: 2 links; 2 characters: 1; none across the gap
    centres = gt.char_quads.mean(axis=1)
    assert np.allclose(boxes[0, [0, 2]], [centres[0, 0], centres[1, 0]])  # centre to centre
    assert np.allclose(boxes[0, [1, 3]], [20 + 18 / 6, 20 + 18 - 18 / 6])  # middle two thirds of the height
    maps = encode(gt, 64, 160)
    between = maps["affinity"][0, :, int((10 + 36 + 3) / 2)]  # column in the gap between the words
    assert between.max() == 0


def test_region_is_one_gaussian_per_character_and_tiny_boxes_light_a_cell():
    cfg = CraftTargetConfig()
    gt = GroundTruth(np.array([[[10, 10], [30, 10], [30, 30], [10, 30]], [[50, 11], [51, 11], [51, 12], [50, 12]]]),
                     np.array([[[10, 10], [30, 10], [30, 30], [10, 30]], [[50, 11], [51, 11], [51, 12], [50, 12]]]),
                     np.array([0, 1]))
    maps = encode(gt, 48, 64, cfg)
    region = maps["region"][0]
    assert region.shape == (24, 32)
    # cell centres (21, 21) and (11, 11) of the 20-px box centred at (20, 20): u = v = 0.1 and -0.9
    assert region[10, 10] == pytest.approx(np.exp(-2 * 0.1**2 / (2 * 0.25)), rel=1e-5)
    assert region[5, 5] == pytest.approx(np.exp(-2 * 0.9**2 / (2 * 0.25)), rel=1e-5)
    assert region[9, 9] == region[10, 10] and region[4, 4] == 0  # symmetric; 0 outside the box
    assert region[5, 25] == 1.0  # the 1-pixel box lights its cell like a character centre
    assert extent_ratio(0.4, 0.5) == pytest.approx(0.5 * np.sqrt(-2 * np.log(0.4)))


def test_ignored_and_unannotated_words_are_dont_care():
    line = line_of_words([(0, 3), (8, 2)])  # characters at y 20–36 (rows 10–17), words at x 10–46 and 54–78
    gt = GroundTruth(line.word_quads, line.char_quads, line.char_word, np.array([True, False]))
    maps = encode(gt, 64, 160)
    assert maps["ignore"][0, 14, 12] and maps["region"][0, 14, 12] == 0  # inside the ignored word
    assert not maps["ignore"][0, 14, 35] and maps["region"][0, 14, 35] > 0.5  # the kept word
    bare = GroundTruth(gt.word_quads[:1], np.zeros((0, 4, 2)), np.zeros(0, np.int64))  # no character boxes
    assert encode(bare, 64, 160)["ignore"].any()


def test_decoding_drops_faint_blobs_and_the_padding():
    gt = line_of_words([(0, 3)])
    maps = encode(gt, 64, 96)
    out = as_outputs(maps)
    assert len(decode(out, 64, 96)) == 1
    assert len(decode({k: v * 0.6 for k, v in out.items()}, 64, 96)) == 0  # peak 0.6 < text_threshold 0.7
    assert len(decode(out, 64, 8)) == 0  # the word lies in what is padding for an 8-px-wide image
    with pytest.raises(ValueError):
        CraftDecodeConfig(char_threshold=0.8, text_threshold=0.7)


def test_scores_stay_in_0_1_when_the_region_map_overshoots():
    """The region map is a regression without a sigmoid; a trained network's confident peaks
    reach 1.01, which a Document's confidences (≤ 1) refused (found on the sample page)."""
    out = as_outputs(encode(line_of_words([(0, 3), (50, 2)]), 64, 160))
    decoded = decode({k: v * 1.3 for k, v in out.items()}, 64, 160)
    assert len(decoded) == 2
    assert decoded.word_scores.max() == 1.0 and decoded.char_scores.max() == 1.0


# ------------------------------------------------------------------------------------ loss
def test_ohem_keeps_every_positive_and_three_times_as_many_hardest_negatives():
    target = torch.zeros(1, 1, 10, 20)
    target[0, 0, 0, :5] = 1.0  # 5 positives
    pred = torch.zeros_like(target)
    pred[0, 0, 0, :5] = 0.5  # each costs 0.25
    errors = torch.linspace(0.01, 0.9, 195)  # distinct negative errors
    pred.view(-1)[5:] = errors
    valid = torch.ones_like(target, dtype=torch.bool)
    got = ohem_mse(pred, target, valid, ratio=3.0, min_negatives=500)
    hardest = (errors**2).sort(descending=True).values[:15]
    assert got.item() == pytest.approx(((0.25 * 5) + hardest.sum().item()) / 20, rel=1e-5)
    empty = ohem_mse(pred, torch.zeros_like(target), valid, ratio=3.0, min_negatives=7)
    assert empty.item() == pytest.approx((pred.view(-1) ** 2).sort(descending=True).values[:7].mean().item(), rel=1e-5)


def test_loss_is_finite_on_an_empty_page_and_prefers_the_true_maps():
    model = create_model("craft-tiny")
    criterion = CraftLoss(CraftLossConfig())
    empty = encode(GroundTruth(np.zeros((0, 4, 2)), np.zeros((0, 4, 2)), np.zeros(0, np.int64)), 64, 64)
    tgt = {k: torch.from_numpy(v)[None] for k, v in empty.items()}
    total, parts = criterion(model(torch.randn(1, 3, 64, 64)), tgt)
    assert torch.isfinite(total) and set(parts) == {"region", "affinity"}
    total.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())

    maps = encode(layout(2, 192, 160), 160, 192)
    tgt = {k: torch.from_numpy(v)[None] for k, v in maps.items()}
    perfect, _ = criterion(as_outputs(maps), tgt)
    blank, _ = criterion({k: torch.zeros_like(v) for k, v in as_outputs(maps).items()}, tgt)
    assert perfect.item() == 0 and blank.item() > 0.1


# ------------------------------------------------------------------------------------ model
def test_model_outputs_at_stride_2_and_folds_its_batch_norms():
    model = create_model("craft-slim").eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 96, 160))
    assert set(out) == {"region", "affinity"}
    assert all(v.shape == (2, 1, 48, 80) for v in out.values())
    four = CraftNet(CraftArch(stride=4)).eval()
    with torch.no_grad():
        assert four(torch.randn(1, 3, 64, 96))["region"].shape == (1, 1, 16, 24)
    tiny = create_model("craft-tiny").eval()
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        ref = tiny(x)
        fused = fuse_batchnorm(tiny)(x)
    assert all(torch.allclose(ref[k], fused[k], atol=1e-4) for k in ref)
    assert flop_breakdown(create_model("craft-tiny"), 64, 96)["conv"] > 0
    # the same backbone as the anchor-free detector: its parameter names are shared
    from kocr_sdk.detection.anchor_free import create_model as afd_model

    backbone = {k for k in afd_model("afd-slim").state_dict() if k.split(".")[0] in {"stem", "s4", "s8", "s16", "s32", "lateral", "smooth"}}
    assert backbone <= set(model.state_dict())


# ------------------------------------------------------------------------------------ training and stage
def test_training_exports_weights_the_stage_loads(tmp_path, monkeypatch, white_page):
    from kocr_sdk import Engine
    from kocr_sdk.detection.anchor_free import stage as detector
    from kocr_sdk.detection.craft import stage
    from kocr_sdk.errors import KocrModelError
    from kocr_sdk.interfaces import Detection
    from kocr_sdk.plugins import load_registry
    from kocr_sdk.lab.training.detector import DetectorTrainConfig, export_weights, make_sample, train

    cfg = DetectorTrainConfig(arch="craft-tiny", batch_size=2, crop_size=96, val_every=2, val_size=1, workers=0,
                              device="cpu", out=tmp_path / "run", log_every=1, max_steps=2,
                              inference={"max_side": 256, "decode": {"text_threshold": 0.5}})
    crop, maps = make_sample(*DrawnPages("train", 0).sample(1), 3, cfg)
    assert crop.shape == (96, 96, 3) and maps["region"].shape == (1, 48, 48)
    result = train(cfg, progress=False, generator=DrawnPages)
    assert result["step"] == 2
    assert set(result["val"]) >= {"word_hmean", "char_hmean", "orientation_accuracy", "duplicate_rate"}
    path = tmp_path / "detector-craft.safetensors"
    meta = export_weights(cfg.out / "last.pt", path)
    assert meta["arch"] == "craft-tiny" and meta["targets"]["stride"] == 2

    assert "craft" not in load_registry(load_entrypoints=False).stages["detector"]  # no weights, no stage
    monkeypatch.setattr(stage, "WEIGHTS_PATH", path)
    registry = load_registry(load_entrypoints=False)
    assert "craft" in registry.stages["detector"] and registry.choose("detector") is None  # never picked by auto
    found = stage.CraftDetector(decode={"region_threshold": 0.3})
    assert found.config.max_side == 256 and found.config.decode.text_threshold == 0.5
    assert found.config.decode.region_threshold == 0.3 and found.stride == 2
    result = found.detect(np.full((300, 500, 3), 255, np.uint8))
    assert isinstance(result, Detection) and result.orientation == 0
    assert result.scale == pytest.approx(256 / 500)
    engine = Engine(detector="craft", load_entrypoints=False)
    assert engine.describe()["detector"] == "craft"
    assert {r.stage: r.status for r in engine.read(white_page).pages[0].stages}["detector"] == "ran"
    with pytest.raises(KocrModelError):  # the anchor-free stage refuses CRAFT weights, and the other way round
        detector.AnchorFreeDetector(weights=path)
    monkeypatch.setattr(stage, "WEIGHTS_PATH", tmp_path / "missing.safetensors")
    with pytest.raises(KocrModelError):
        stage.CraftDetector()
