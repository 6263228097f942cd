import numpy as np
import pytest

from kocr_sdk.synth.pages import PageGenerator


@pytest.fixture(scope="module")
def gen():
    return PageGenerator("train", seed=5, scale=0.5, degrade=False)


def _inside(inner, outer, tol=1.0):
    xs, ys = [p[0] for p in outer], [p[1] for p in outer]
    return all(min(xs) - tol <= x <= max(xs) + tol and min(ys) - tol <= y <= max(ys) + tol for x, y in inner)


def test_every_char_quad_lies_inside_its_word_quad(gen):
    for i in range(4):
        _, rec = gen.sample(i)
        assert rec["words"]
        for w in rec["words"]:
            assert "".join(c["text"] for c in w["chars"]) == w["text"]
            assert all(_inside(c["poly"], w["poly"]) for c in w["chars"])


def test_same_seed_same_page(gen):
    a, ra = gen.sample(2)
    b, rb = PageGenerator("train", seed=5, scale=0.5, degrade=False).sample(2)
    assert ra == rb and np.array_equal(a, b)


def test_rotation_moves_boxes_with_the_text():
    """Ink lies inside the word quads whatever the rotation; the first point follows reading order."""
    seen = set()
    g = PageGenerator("train", seed=11, scale=0.5, degrade=False, layouts=("document",))  # no rules: all ink is text
    for i in range(40):
        img, rec = g.sample(i)
        o = rec["orientation"]
        if o in seen:
            continue
        seen.add(o)
        gray = img[..., 0]
        mask = np.zeros(gray.shape, bool)
        for w in rec["words"]:
            xs, ys = [p[0] for p in w["poly"]], [p[1] for p in w["poly"]]
            mask[int(min(ys)) - 2:int(max(ys)) + 3, int(min(xs)) - 2:int(max(xs)) + 3] = True
        ink = gray < 128
        # skew may be present: nearly all ink is inside the (slightly padded) word boxes
        assert ink[mask].sum() / max(1, ink.sum()) > 0.97, o
        # reading direction: TL -> TR vector points right (0), up (90), left (180), down (270)
        w = max(rec["words"], key=lambda w: len(w["text"]))
        dx = w["poly"][1][0] - w["poly"][0][0]
        dy = w["poly"][1][1] - w["poly"][0][1]
        expected = {0: (1, 0), 90: (0, -1), 180: (-1, 0), 270: (0, 1)}[o]
        assert np.sign(round(dx / max(abs(dx), abs(dy)))) == expected[0]
        assert np.sign(round(dy / max(abs(dx), abs(dy)))) == expected[1]
        if len(seen) == 4:
            break
    assert len(seen) >= 3
