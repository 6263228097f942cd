"""The synthetic data generator: text, fonts, geometry, determinism (kocr_sdk.lab.synth)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from kocr_sdk import KocrError
from kocr_sdk.lab.synth import fonts as fonts_mod
from kocr_sdk.lab.synth.crops import CropGenerator
from kocr_sdk.lab.synth.fonts import HELDOUT_FAMILIES, font_pool, is_heldout, select_fonts
from kocr_sdk.lab.synth.ids import (
    biz_reg_no_check_digit,
    biz_reg_no_is_valid,
    make_biz_reg_no,
    make_rrn,
    rrn_check_digit,
    rrn_is_valid,
)
from kocr_sdk.lab.synth.render import Canvas, layout_text
from kocr_sdk.lab.synth.text import KINDS, TextSource, korean_number, script_of


# ----------------------------------------------------------------------------------- helpers
def inside(inner, outer, tol: float = 0.51) -> bool:
    """Every point of quad ``inner`` lies in convex quad ``outer`` (either orientation), ± ``tol`` px."""
    outer = np.asarray(outer, float)
    for p in np.asarray(inner, float):
        signs = []
        for i in range(4):
            a, b = outer[i], outer[(i + 1) % 4]
            edge = b - a
            cross = edge[0] * (p[1] - a[1]) - edge[1] * (p[0] - a[0])
            signs.append(cross / max(np.linalg.norm(edge), 1e-9))
        if not (all(s >= -tol for s in signs) or all(s <= tol for s in signs)):
            return False
    return True


def ink_outside_quads(gray: np.ndarray, quads, threshold: int = 128, pad: float = 1.0) -> float:
    """Share of dark pixels whose centre lies in no quad (quads grown by ``pad`` px)."""
    import cv2

    mask = np.zeros(gray.shape, np.uint8)
    for q in quads:
        q = np.asarray(q, np.float64)
        c = q.mean(axis=0)
        grown = c + (q - c) * (1 + 2 * pad / max(np.ptp(q[:, 0]) + np.ptp(q[:, 1]), 1.0)) + np.sign(q - c) * pad
        cv2.fillConvexPoly(mask, np.round(grown * 16).astype(np.int32), 1, cv2.LINE_8, shift=4)
    ink = gray < threshold
    return float((ink & (mask == 0)).sum()) / max(1, int(ink.sum()))


# ----------------------------------------------------------------------------------- text
def test_script_of_follows_one_rule():
    assert script_of("합계") == "hangul"
    assert script_of("(주)") == "hangul" and script_of("2019년") == "hangul"
    assert script_of("TEL") == "latin" and script_of("No.") == "latin"
    assert script_of("1,234") == "digits" and script_of("214-86-18758") == "digits"
    assert script_of("株式會社") == "han" and script_of("テクノロジー") == "kana"
    assert script_of("※") == "other"


def test_check_digits():
    assert biz_reg_no_is_valid("124-81-00998") and not biz_reg_no_is_valid("124-81-00997")
    assert biz_reg_no_check_digit("124810099") == 8
    assert not biz_reg_no_is_valid("124-81-0099") and not biz_reg_no_is_valid("abc-de-fghij")
    rng = random.Random(0)
    for _ in range(200):
        assert biz_reg_no_is_valid(make_biz_reg_no(rng))
        rrn = make_rrn(rng)
        assert rrn_is_valid(rrn) and int(rrn[-1]) == rrn_check_digit(rrn.replace("-", "")[:12])
    assert not rrn_is_valid("881301-1234567")  # month 13


def test_every_kind_of_text_is_well_formed():
    source, rng = TextSource(), random.Random(1)
    for kind in KINDS:
        for _ in range(30):
            p = source.phrase(rng, kind)
            assert p.text and p.text == p.text.strip() and "  " not in p.text and "\n" not in p.text, (kind, p.text)
            if kind == "biz_reg_no":
                assert biz_reg_no_is_valid(p.text) and p.entity == "BIZ_REG_NO"
    en = [source.phrase(rng, k, "en").text for k in ("person", "org", "address", "date", "amount") for _ in range(20)]
    assert not any(script_of(t) == "hangul" for t in en)
    assert korean_number(1_200_000) == "일백이십만" and korean_number(35_000, formal=False) == "삼만오천"


# ----------------------------------------------------------------------------------- fonts
def test_train_and_heldout_fonts_never_share_a_design():
    train = {f.family for f in select_fonts("hangul", "train")} | {f.family for f in select_fonts("latin", "train")}
    held = {f.family for f in select_fonts("hangul", "heldout")} | {f.family for f in select_fonts("latin", "heldout")}
    assert train and held and not train & held
    assert all(is_heldout(f) for f in held) and not any(is_heldout(f) for f in train)
    assert not any(f.startswith(("Noto Serif CJK", "Liberation", "Tinos")) for f in train)
    # the held-out list mixes styles: a serif, a gothic and a handwriting design for Korean
    assert {"Noto Serif CJK", "UnDotum", "Nanum Pen Script"} <= set(HELDOUT_FAMILIES)


def test_a_string_is_never_rendered_with_a_font_lacking_one_of_its_characters():
    latin_only = next(f for f in select_fonts("latin", "all") if "hangul" not in f.scripts)
    assert latin_only.covers("Invoice 2021") and not latin_only.covers("합계 2021")
    assert layout_text("합계", latin_only, 32) is None  # refused, not drawn as boxes
    assert layout_text("Total", latin_only, 32) is not None
    pool = font_pool("latin", "all")
    rng = random.Random(0)
    for _ in range(50):  # the pool only ever offers a face that covers the text, or none
        face = pool.choose(rng, "합계")
        assert face is None or face.covers("합계")


def test_crops_use_fonts_that_cover_their_text():
    gen = CropGenerator("train", seed=3, profile="script")
    faces = {f.name: f for pool in gen.pools.values() for f in pool}
    for i in range(120):
        _, label = gen.sample(i)
        assert faces[label["font"]].covers(label["text"]), label


def test_no_usable_font_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(fonts_mod, "discover_fonts", lambda extra_dirs=(): ())
    font_pool.cache_clear()
    try:
        with pytest.raises(KocrError, match=r"apt-get install fonts-nanum fonts-noto-cjk.*--font-dir"):
            select_fonts("hangul")
        with pytest.raises(KocrError, match="apt-get install"):
            CropGenerator("train", seed=0)
    finally:
        font_pool.cache_clear()


# ----------------------------------------------------------------------------------- crops
@pytest.fixture(scope="module")
def crops():
    return CropGenerator("train", seed=3)


def test_same_seed_same_crop(crops):
    a, la = crops.sample(17)
    b, lb = CropGenerator("train", seed=3).sample(17)
    assert la == lb and a.dtype == np.uint8 and np.array_equal(a, b)
    c, _ = crops.sample(18)
    d, _ = CropGenerator("train", seed=4).sample(17)
    assert not (c.shape == a.shape and np.array_equal(a, c))
    assert not (d.shape == a.shape and np.array_equal(a, d))


def test_handwriting_prob_draws_handwriting_and_leaves_the_default_stream_alone(crops):
    from kocr_sdk.lab.synth.fonts import HANDWRITING_FAMILIES

    def family(label):
        return next((f for f in HANDWRITING_FAMILIES if label["font"].startswith(f)), None)

    hand = CropGenerator("train", seed=3, handwriting_prob=1.0)
    labels = [hand.sample(i)[1] for i in range(30)]
    written = [lab for lab in labels if lab["script"] in ("hangul", "latin", "digits")]
    assert written and all(family(lab) for lab in written)
    zero = CropGenerator("train", seed=3, handwriting_prob=0.0)
    assert all(zero.sample(i)[1] == crops.sample(i)[1] for i in range(10))


def test_narrow_space_prob_narrows_word_gaps_and_leaves_the_default_stream_alone(crops):
    def gaps(gen):
        out = []
        for i in range(40):
            _, label = gen.sample(i)
            if label.get("mono") or label.get("spaced"):
                continue
            words = label["words"]
            out += [(b["poly"][0][0] - a["poly"][1][0]) / label["size"] for a, b in zip(words, words[1:])]
        return out

    wide = gaps(CropGenerator("train", seed=3, profile="latin", line_prob=1.0))
    narrow = gaps(CropGenerator("train", seed=3, profile="latin", line_prob=1.0, narrow_space_prob=1.0,
                                space_scale=(0.3, 0.3)))
    assert wide and narrow and np.median(narrow) < 0.7 * np.median(wide)
    zero = CropGenerator("train", seed=3, narrow_space_prob=0.0)
    assert all(zero.sample(i)[1] == crops.sample(i)[1] for i in range(10))


def test_heldout_crops_use_only_heldout_fonts():
    gen = CropGenerator("heldout", seed=1)
    assert all(is_heldout(gen.sample(i)[1]["font"]) for i in range(40))


def test_crop_labels_are_consistent(crops):
    for i in range(60):
        img, label = crops.sample(i)
        assert img.ndim == 2 and img.shape[0] >= 8 and img.min() < 200
        assert label["script"] == script_of(label["text"].replace(" ", "")) or label["kind"] == "line"
        assert " ".join(w["text"] for w in label["words"]) == label["text"]
        for w in label["words"]:
            assert "".join(c["text"] for c in w["chars"]) == w["text"]
            assert all(inside(c["poly"], w["poly"]) for c in w["chars"])


def test_clean_crop_ink_lies_in_its_quads():
    gen = CropGenerator("train", seed=5, degrade=False, rule_prob=0.0, inverted_prob=0.0, low_contrast_prob=0.0)
    for i in range(40):
        img, label = gen.sample(i)
        quads = [c["poly"] for w in label["words"] for c in w["chars"]]
        assert ink_outside_quads(img, quads) == 0.0, label["text"]


def test_crops_can_be_height_normalised_and_coloured():
    gen = CropGenerator("train", seed=2, height=32, color=True)
    for i in range(10):
        img, label = gen.sample(i)
        assert img.shape[0] == 32 and img.ndim == 3 and img.shape[2] == 3
        xs = [p[0] for w in label["words"] for p in w["poly"]]
        assert max(xs) <= img.shape[1] + 1


def test_letter_spaced_words_stay_one_word():
    face = select_fonts("hangul", "train")[0]
    canvas = Canvas(600, 80)
    layout = layout_text("사업자등록증", face, 32, tracking=20)
    words = canvas.draw(layout, 5, 50, split_words=False, spaced=True)
    assert len(words) == 1 and words[0].text == "사업자등록증" and words[0].extra["spaced"]
    xs = [q[0][0] for _, q in words[0].chars]
    assert min(np.diff(xs)) > 32  # the spacing is really there


def test_space_scale_narrows_word_gaps_only():
    face = select_fonts("latin", "train")[0]
    wide, tight = layout_text("ab cd", face, 32), layout_text("ab cd", face, 32, space_scale=0.25)
    space = wide.xs[3] - wide.xs[2]  # the space's own advance
    assert space > 4
    assert tight.xs[:3] == wide.xs[:3]  # nothing moves before the space
    assert tight.xs[3] == pytest.approx(wide.xs[3] - 0.75 * space, abs=1)  # the gap shrinks by 3/4 of it
    assert tight.xs[4] - tight.xs[3] == wide.xs[4] - wide.xs[3]  # letters keep their advances


def _median_gap(pages) -> float:
    """Median gap between consecutive words of a line, in word heights (upright pages)."""
    gaps = []
    for _, record in pages:
        boxes = [np.asarray(w["poly"]) for w in record["words"]]
        for a, b in zip(boxes, boxes[1:]):
            h = a[:, 1].max() - a[:, 1].min()
            same_line = abs(a[:, 1].mean() - b[:, 1].mean()) < 0.3 * h
            if same_line and b[:, 0].min() > a[:, 0].max():
                gaps.append((b[:, 0].min() - a[:, 0].max()) / h)
    return float(np.median(gaps))


def test_tight_spacing_draws_pages_with_narrow_word_gaps():
    from kocr_sdk.lab.synth.pages import PageGenerator

    base = dict(layouts=("prose",), rotate=False, skew_prob=0.0, degrade=False)
    normal = PageGenerator(split="train", seed=3, **base)
    tight = PageGenerator(split="train", seed=3, **base, tight_spacing_prob=1.0, tight_spacing=(0.2, 0.2))
    wide_gap = _median_gap([normal.sample(i) for i in range(2)])
    tight_gap = _median_gap([tight.sample(i) for i in range(2)])
    assert tight_gap < 0.6 * wide_gap and tight_gap > 0


def test_fax_thresholds_at_the_low_resolution():
    """A fax is black and white in big pixels: each (1/scale)² block of the output is one value,
    0 or 255 — which thresholding the full-size image after a plain downscale would not give."""
    from kocr_sdk.lab.synth.degrade import Context, Fax

    rng = np.random.default_rng(0)
    img = np.repeat(rng.integers(0, 256, (64, 64), dtype=np.uint8)[..., None], 3, axis=2)
    out = Fax(prob=1.0, scale=(0.25, 0.25), speckle=(0.0, 0.0), nearest_prob=1.0).apply(img, Context(random.Random(0)))
    assert out.shape == img.shape and out.dtype == np.uint8
    assert set(np.unique(out)) <= {0, 255}
    blocks = out[..., 0].reshape(16, 4, 16, 4)
    assert (blocks == blocks[:, :1, :, :1]).all()  # constant on every 4×4 block
    assert 0.2 < (out == 0).mean() < 0.8  # near Otsu's threshold: neither all black nor all white


def test_typewriter_pages_are_set_in_a_monospaced_latin_face():
    from kocr_sdk.lab.synth.pages import PageGenerator

    base = dict(layouts=("invoice",), rotate=False, degrade=False)
    typed = PageGenerator(split="train", seed=3, **base, typewriter_prob=1.0)
    plain = PageGenerator(split="train", seed=3, **base)
    mono = {f.name for f in typed.mono_latin_pool}

    def mono_share(gen) -> float:
        fonts = [w.get("font") for i in range(4) for w in gen.sample(i)[1]["words"]]
        return sum(f in mono for f in fonts) / len(fonts)

    # the body is typed (headings may take a bolder sibling of the same design; a Korean word
    # a Latin face lacks goes to another face); untyped invoices only sometimes draw a mono face
    assert mono_share(typed) > 0.7
    assert mono_share(plain) < 0.5


def test_new_page_options_leave_the_default_pages_alone():
    """typewriter_prob and fax_prob draw nothing when 0: a seed's pages are those it always gave."""
    from kocr_sdk.lab.synth.pages import PageGenerator

    base = dict(layouts=("prose", "form"), degrade=True)
    a, ra = PageGenerator(split="train", seed=4, **base).sample(1)
    b, rb = PageGenerator(split="train", seed=4, **base, typewriter_prob=0.0, fax_prob=0.0).sample(1)
    assert ra == rb and np.array_equal(a, b)
