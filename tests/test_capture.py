"""Captured pages (kocr_sdk.lab.synth.capture): every transform moves ground truth with the pixels."""

from __future__ import annotations

import math
import random

import cv2
import numpy as np
import pytest

from kocr_sdk import KocrError
from kocr_sdk.lab.synth.capture import (
    BACKGROUNDS,
    HELDOUT_BACKGROUNDS,
    Camera,
    PhotoLook,
    PhotoWarp,
    ScanLook,
    ThermalLook,
    _rotation,
    _surface,
    backgrounds_for,
    photograph,
    scan,
    thermal_print,
    thermal_roll,
)
from kocr_sdk.lab.synth.degrade import Context
from kocr_sdk.lab.synth.render import WordBox

from .test_synth import ink_outside_quads, inside

BENT = PhotoLook(curl_prob=1.0, curl=(0.5, 1.2), fold_prob=0.5, crumple_prob=0.5)
#: A photo without the blur, noise and JPEG that move a dot's centre by a fraction of a pixel.
SHARP = dict(defocus_prob=0.0, motion_prob=0.0, noise=(0.0, 0.0), jpeg=(100, 100), shadow_prob=0.0)


# ----------------------------------------------------------------------------------- helpers
def dotted(w: int, h: int, rng: random.Random, step: int = 60, radius: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """A white RGB page with black dots at known sub-pixel points (pixel-edge coordinates)."""
    img = np.full((h, w, 3), 255, np.uint8)
    pts = []
    for y in range(step, h - step // 2, step):
        for x in range(step, w - step // 2, step):
            cx, cy = x + rng.random(), y + rng.random()
            centre = (int(round((cx - 0.5) * 16)), int(round((cy - 0.5) * 16)))
            cv2.circle(img, centre, int(radius * 16), (0, 0, 0), -1, cv2.LINE_AA, shift=4)
            pts.append((cx, cy))
    return img, np.array(pts)


def dot_words(pts: np.ndarray, r: float = 3.0) -> list[WordBox]:
    """Each dot as a one-character word whose quad is the dot's box."""
    out = []
    for x, y in pts:
        q = np.array([[x - r, y - r], [x + r, y - r], [x + r, y + r], [x - r, y + r]])
        out.append(WordBox("o", q.copy(), [("o", q.copy())]))
    return out


def centroids(img: np.ndarray, where: np.ndarray, half: int = 9) -> np.ndarray:
    """Ink centroid (pixel-edge coordinates) of the dot near each point of ``where``."""
    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    out = []
    for x, y in where:
        x0, y0 = int(x) - half, int(y) - half
        patch = gray[y0:y0 + 2 * half + 1, x0:x0 + 2 * half + 1].astype(np.float64)
        ink = np.clip(np.median(patch) - patch, 0, None)  # darker than the paper around it
        yy, xx = np.mgrid[y0:y0 + patch.shape[0], x0:x0 + patch.shape[1]]
        m = max(ink.sum(), 1e-9)
        out.append(((ink * (xx + 0.5)).sum() / m, (ink * (yy + 0.5)).sum() / m))
    return np.array(out)


def centres(words: list[WordBox]) -> np.ndarray:
    return np.array([w.chars[0][1].mean(axis=0) for w in words])


# ----------------------------------------------------------------------------------- geometry
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_photo_warp_moves_points_exactly_with_pixels(seed):
    """Curl, folds, crumples and a tilted camera: each dot lands where the forward map sends its centre."""
    rng = random.Random(seed)
    img, pts = dotted(700, 1000, rng)
    ctx = Context(rng)
    warp = PhotoWarp(_surface(700, 1000, BENT, ctx),
                     Camera(_rotation(math.radians(rng.uniform(5, 30)), rng.uniform(0, 6.3), 0.1), 1500.0, (350, 500)))
    corners = warp.corners()
    warp.camera.offset = tuple(30 - corners.min(axis=0))
    w, h = (np.ceil(corners.max(axis=0) - corners.min(axis=0)) + 60).astype(int)
    mx, my = warp.maps(int(w), int(h))
    out = cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255))
    mapped = warp.forward(pts)
    err = np.hypot(*(centroids(out, mapped) - mapped).T)
    assert err.max() < 0.35, err.max()


def test_photo_warp_inverse_is_the_forward_map_undone():
    rng = random.Random(5)
    warp = PhotoWarp(_surface(600, 900, BENT, Context(rng)), Camera(_rotation(0.4, 1.0, -0.2), 1200.0, (300, 450)))
    uv = np.array([[0, 0], [600, 0], [600, 900], [0, 900], [300, 450], [123.4, 777.7]])
    back, err = warp.inverse(warp.forward(uv))
    assert err.max() < 1e-3 and np.abs(back - uv).max() < 1e-2


@pytest.mark.parametrize("seed", [0, 1])
def test_photograph_moves_word_quads_with_the_page(seed):
    """The whole photo (paper texture, shading, background, light, tint): dots stay at their words."""
    rng = random.Random(seed)
    img, pts = dotted(600, 850, rng, step=70)
    words = dot_words(pts)
    out, corners, info = photograph(img, words, Context(rng), PhotoLook(**SHARP, curl_prob=1.0, fold_prob=1.0),
                                    ("plain",))
    assert info["background"] == "plain" and info["curl"] > 0 and info["folds"] >= 1 and corners.shape == (4, 2)
    err = np.hypot(*(centroids(out, centres(words)) - centres(words)).T)
    assert np.median(err) < 0.3 and err.max() < 0.8, (np.median(err), err.max())


def test_scan_and_thermal_roll_move_word_quads_with_the_page():
    rng = random.Random(3)
    img, pts = dotted(800, 1100, rng, step=80, radius=4.0)
    words = dot_words(pts, 4.0)
    out, corners = scan(img, words, Context(rng), ScanLook(binary_prob=0.0, copies=(0, 0), toner_prob=0.0,
                                                           jpeg_prob=0.0, skew=3.0))
    assert out.shape[0] < 1100  # stored at a lower resolution
    err = np.hypot(*(centroids(out, centres(words), 7) - centres(words)).T)
    assert err.max() < 0.35, err.max()
    assert np.allclose(corners.mean(axis=0), [out.shape[1] / 2, out.shape[0] / 2], atol=1.0)  # skewed about its centre
    assert np.hypot(*(corners[1] - corners[0])) == pytest.approx(800 * out.shape[1] / 800, rel=0.01)

    img, pts = dotted(500, 700, rng)
    words = dot_words(pts)
    out, mm = thermal_roll(img, words, Context(rng), ThermalLook(roll_mm=(80,), roll_weights=(1.0,)), (250, 250, 250))
    assert mm == 80 and out.shape[1] == 500 + 2 * round(500 * (80 / 72 - 1) / 2)
    err = np.hypot(*(centroids(out, centres(words)) - centres(words)).T)
    assert err.max() < 0.15  # the centroid of an anti-aliased dot: within a tenth of a pixel


def test_dot_matrix_print_keeps_ink_inside_the_character_boxes():
    from kocr_sdk.lab.synth.pages import PageGenerator

    gen = PageGenerator(split="train", seed=2, layouts=("receipt",), degrade=False, rotate=False, skew_prob=0.0)
    from kocr_sdk.lab.synth.layouts import DRAW

    b = DRAW["receipt"](gen, random.Random(1))
    before = b.canvas.layers[0].copy()
    layers, printer = thermal_print(b.canvas.layers, b.layer_kinds, b.canvas.words, Context(random.Random(4)),
                                    ThermalLook(dot_matrix_prob=1.0))
    assert printer == "dot_matrix"
    dots = layers[0]
    boxes = np.zeros(dots.shape, bool)
    for w in b.canvas.words:
        for _, q in w.chars:
            x0, y0 = np.floor(q.min(axis=0)).astype(int)
            x1, y1 = np.ceil(q.max(axis=0)).astype(int)
            boxes[y0:y1, x0:x1] = True
    assert not (dots[~boxes & (before == 0)] > 0).any()  # no dot spills off a character onto blank paper
    solid, dotted_ink = (before[boxes] > 128), (dots[boxes] > 128)
    assert 0.5 < dotted_ink.mean() / solid.mean() < 2.5  # as legible as the rendered face (struck a little bolder) ...
    assert (solid ^ dotted_ink).sum() > 0.3 * solid.sum()  # ... in other pixels: dots on the head's grid


# ----------------------------------------------------------------------------------- pages
@pytest.mark.parametrize("capture", ["photo", "thermal", "scan"])
def test_captured_pages_keep_every_quad_on_its_ink(capture):
    """A captured page: its words' ink lies inside their quads and every word's characters inside it."""
    from kocr_sdk.lab.synth.pages import PageGenerator

    layout = "prose"  # no rules, no barcode: all its ink is text (a thermal print of it is a long slip)
    options = {"photo": PhotoLook(**SHARP), "thermal": ThermalLook(photo=PhotoLook(**SHARP, curl_prob=1.0)),
               "scan": ScanLook(binary_prob=0.0, toner_prob=0.0, copies=(0, 0), jpeg_prob=0.0)}
    gen = PageGenerator(split="train", seed=1, layouts=(layout,), capture=capture, rotate=False,
                        capture_options={capture: options[capture]})
    image, record = gen.sample(0)
    assert record["capture"] == capture and len(record["paper"]) == 4
    words = [w for w in record["words"] if not w.get("ignore")]
    assert words
    for w in words:
        for c in w["chars"]:
            assert inside(c["poly"], w["poly"], tol=0.6)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    paper = np.zeros(gray.shape, np.uint8)
    cv2.fillConvexPoly(paper, np.round(np.array(record["paper"])).astype(np.int32), 1)
    paper = cv2.erode(paper, np.ones((41, 41), np.uint8)).astype(bool)  # away from the paper's edge
    local = cv2.GaussianBlur(gray, (0, 0), 15).astype(np.int16)
    contrast = 30 if capture == "thermal" else 60  # thermal print fades
    ink = np.where(paper & (gray.astype(np.int16) < local - contrast), 0, 255).astype(np.uint8)  # against its paper
    allowed = [c["poly"] for w in record["words"] for c in w["chars"]]
    assert ink_outside_quads(ink, allowed, pad=1.5) < 0.01
    inked = []
    for c in (c for w in words for c in w["chars"]):
        (x0, y0), (x1, y1) = np.floor(np.min(c["poly"], axis=0)).astype(int), np.ceil(np.max(c["poly"], axis=0)).astype(int)
        cx, cy = np.mean(c["poly"], axis=0).astype(int)
        if paper[cy, cx]:
            inked.append((ink[y0:y1, x0:x1] == 0).any())
    assert np.mean(inked) > 0.85  # every box holds its character's ink (a faded or dead-column one aside)


def test_captures_are_drawn_by_probability_and_leave_default_pages_alone():
    from kocr_sdk.lab.synth.pages import PageGenerator

    base = dict(layouts=("prose",), rotate=False)
    a, ra = PageGenerator(split="train", seed=4, **base).sample(0)
    b, rb = PageGenerator(split="train", seed=4, **base, capture=None).sample(0)
    assert ra == rb and np.array_equal(a, b) and "capture" not in ra
    gen = PageGenerator(split="train", seed=4, **base, capture={"scan": 0.5, "photo": 0.0})
    kinds = {gen.sample(i)[1]["capture"] for i in range(8)}
    assert kinds == {"scan", "plain"}
    image, record = gen.sample(3)
    again, record2 = PageGenerator(split="train", seed=4, **base, capture={"scan": 0.5, "photo": 0.0}).sample(3)
    assert record == record2 and np.array_equal(image, again)  # a pure function of (split, seed, index)


def test_bad_capture_options_are_clear_errors():
    from kocr_sdk.lab.synth.pages import PageGenerator

    with pytest.raises(KocrError, match="unknown capture kind.*choose from"):
        PageGenerator(split="train", seed=0, capture="fax-machine")
    with pytest.raises(KocrError, match="sum to at most 1"):
        PageGenerator(split="train", seed=0, capture={"photo": 0.8, "scan": 0.5})
    with pytest.raises(KocrError, match="unknown split"):
        backgrounds_for("test")


def test_heldout_photos_lie_on_backgrounds_training_never_sees():
    assert set(backgrounds_for("train")).isdisjoint(HELDOUT_BACKGROUNDS)
    assert set(backgrounds_for("heldout")) == set(HELDOUT_BACKGROUNDS)
    assert set(backgrounds_for("all")) == set(BACKGROUNDS)
    from kocr_sdk.lab.synth.pages import PageGenerator

    gen = PageGenerator(split="heldout", seed=7, layouts=("receipt",), capture="photo")
    assert gen.sample(0)[1]["background"] in HELDOUT_BACKGROUNDS
