import random

import numpy as np
import pytest

from kocr_sdk import KocrError
from kocr_sdk.synth import fonts as fonts_mod
from kocr_sdk.synth.crops import CropGenerator
from kocr_sdk.synth.fonts import is_heldout, select_fonts
from kocr_sdk.synth.text import TextSource, biz_reg_no_check_digit, script_of


@pytest.fixture(scope="module")
def gen():
    return CropGenerator("train", seed=3)


def test_same_seed_same_crop(gen):
    a, la = gen.sample(17)
    b, lb = CropGenerator("train", seed=3).sample(17)
    assert la == lb and np.array_equal(a, b)
    c, _ = gen.sample(18)
    assert not (c.shape == a.shape and np.array_equal(a, c))


def test_train_and_heldout_fonts_never_overlap():
    train = {f.family for f in select_fonts("hangul", "train")}
    held = {f.family for f in select_fonts("hangul", "heldout")}
    assert train and held and not train & held
    assert all(is_heldout(f) for f in held)
    # a design's variants stay on one side
    assert not any(f.startswith("Noto Serif CJK") for f in train)


def test_heldout_generator_uses_only_heldout_fonts():
    g = CropGenerator("heldout", seed=1)
    assert all(is_heldout(g.sample(i)[1]["font"]) for i in range(30))


def test_text_is_only_rendered_with_fonts_that_cover_it(gen):
    for i in range(60):
        _, label = gen.sample(i)
        face = next(f for f in gen.faces + gen.latin_faces if f.family == label["font"])
        assert face.covers(label["text"])


def test_a_font_lacking_a_character_is_refused():
    latin_only = next(f for f in select_fonts("latin", "all") if "hangul" not in f.scripts)
    assert latin_only.covers("Invoice 2021") and not latin_only.covers("합계")


def test_no_usable_font_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(fonts_mod, "discover_fonts", lambda extra_dirs=(): ())
    with pytest.raises(KocrError, match="apt-get install fonts-nanum"):
        select_fonts("hangul")


def test_crops_are_legible_grayscale_with_ink(gen):
    for i in range(20):
        img, label = gen.sample(i)
        assert img.dtype == np.uint8 and img.ndim == 2 and img.shape[0] >= 8
        assert img.min() < 150 and label["script"] == script_of(label["text"])


def test_business_registration_numbers_have_valid_check_digits():
    assert biz_reg_no_check_digit("214861875") == 8  # 214-86-18758, a valid number
    rng = random.Random(0)
    for _ in range(50):
        digits = TextSource().word(rng, "id").replace("-", "")
        if len(digits) == 10 and digits.isdigit():
            assert int(digits[9]) == biz_reg_no_check_digit(digits[:9])
