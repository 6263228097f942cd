"""Degradations: what printing, paper, scanning and phone cameras do to a clean render.

A model trained on clean renders fails on real pages, so every sample passes
through a :class:`Pipeline` of operations, each a pydantic model with a probability and its
strength ranges, so a training config (YAML ``data: {degrade: ...}``) can tune, drop or
reorder them. Operations come in two stages:

- **ink** operations act on an ink coverage layer (uint8, 255 = full ink) *before* it is put
  on paper: thermal-printer fading and dotted strokes, ink bleed and starved strokes. Acting on
  the ink alone is what makes a faded receipt look faded and not just low-contrast.
- **image** operations act on the composed picture: paper texture, uneven light and shadows,
  creases, small rotations and perspective, low resolution, blur, noise, binarisation, JPEG.
  Geometric ones return the 3×3 matrix they applied, and the caller moves the ground-truth
  quads by it, so boxes stay exact.

Every operation draws from the ``random.Random`` it is given (and a numpy generator seeded
from it), so a sample stays a pure function of (seed, index).
"""

from __future__ import annotations

import math
import random
from typing import Annotated, Literal, Union

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Pipeline", "Context", "InkBleed", "Thermal", "PrintHead", "DotMatrix", "Rotate", "Perspective", "PaperTexture",
    "Lighting", "LowRes", "Blur", "Defocus", "Noise", "Toner", "ColourCast", "Binarize", "Fax", "Jpeg",
    "crop_pipeline", "page_pipeline", "receipt_pipeline", "apply_homography",
]

Range = tuple[float, float]


class Context:
    """What a sample's operations share: its random generators and the geometry applied so far."""

    def __init__(self, rng: random.Random, background: tuple[int, ...] | None = None) -> None:
        self.rng = rng
        self._np: np.random.Generator | None = None
        self.matrix = np.eye(3)
        self.background = background  # colour revealed where geometry pulls the page in
        # where ink may be put beyond the ink drawn (the characters' boxes): an ink operation that
        # spreads ink (dotting) keeps it inside them, so that every character's box still holds its ink
        self.ink_room: np.ndarray | None = None

    @property
    def np(self) -> np.random.Generator:
        if self._np is None:
            self._np = np.random.default_rng(self.rng.getrandbits(64))
        return self._np

    def then(self, m: np.ndarray) -> None:
        """Record that ``m`` (3×3) was applied after everything so far."""
        self.matrix = m @ self.matrix


def apply_homography(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Map (N, 2) points by a 3×3 matrix (affine or perspective)."""
    p = np.asarray(pts, np.float64).reshape(-1, 2)
    h = np.hstack([p, np.ones((len(p), 1))]) @ m.T
    return h[:, :2] / h[:, 2:3]


def _u(rng: random.Random, r: Range) -> float:
    return rng.uniform(r[0], r[1])


def _low_freq(ctx: Context, h: int, w: int, cells: int, lo: float, hi: float) -> np.ndarray:
    """A smooth random field in [lo, hi] (float32, h×w): noise on a coarse grid, resized up."""
    gh, gw = max(2, round(cells * h / max(h, w))), max(2, round(cells * w / max(h, w)))
    grid = ctx.np.random((gh, gw), dtype=np.float32)
    field = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(lo + (hi - lo) * field, min(lo, hi), max(lo, hi))


def _scale_channels(img: np.ndarray, field: np.ndarray) -> np.ndarray:
    """``img × field`` (field h×w float32), for gray or colour images, back to uint8."""
    f = field if img.ndim == 2 else field[..., None]
    return np.clip(img.astype(np.float32) * f + 0.5, 0, 255).astype(np.uint8)


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prob: float = Field(0.3, ge=0, le=1, description="Chance that the operation runs on a sample.")


# ----------------------------------------------------------------------------------- ink stage
class InkBleed(_Op):
    """Ink spreading into paper (strokes thicken, counters fill) or starved printing (strokes thin)."""

    type: Literal["ink_bleed"] = "ink_bleed"
    prob: float = 0.15
    bleed_share: float = Field(0.6, ge=0, le=1, description="Share of runs that thicken rather than thin.")
    kernel: tuple[int, int] = (2, 3)

    def apply(self, ink: np.ndarray, ctx: Context) -> np.ndarray:
        k = ctx.rng.randint(*self.kernel)
        if ctx.rng.random() < self.bleed_share:
            spread = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
            return cv2.addWeighted(ink, 0.4, spread, 0.6, 0) if ctx.rng.random() < 0.5 else spread
        # starved ink: strokes thin; blending with the original keeps 1-px strokes partly alive
        thin = cv2.erode(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (2, 2)))
        return cv2.addWeighted(ink, 0.35, thin, 0.65, 0)


class Thermal(_Op):
    """Thermal-receipt printing: faded bands, head-column stripes, dotted strokes, dropped pixels."""

    type: Literal["thermal"] = "thermal"
    prob: float = 0.08
    fade: Range = (0.35, 1.0)
    dot_prob: float = 0.5
    dot_period: tuple[int, int] = (2, 4)
    dropout: Range = (0.0, 0.25)

    def apply(self, ink: np.ndarray, ctx: Context) -> np.ndarray:
        h, w = ink.shape
        lo = _u(ctx.rng, self.fade)
        field = _low_freq(ctx, h, w, ctx.rng.randint(3, 12), lo, 1.0)
        stripes = _low_freq(ctx, 1, w, max(2, w // ctx.rng.randint(8, 40)), 0.55 + 0.45 * lo, 1.0)
        field *= stripes
        if ctx.rng.random() < self.dot_prob:
            p = ctx.rng.randint(*self.dot_period)
            yy, xx = np.mgrid[0:p, 0:p].astype(np.float32)
            dot = np.exp(-(((yy - (p - 1) / 2) ** 2 + (xx - (p - 1) / 2) ** 2) / (0.35 * p * p))).astype(np.float32)
            dot = 0.45 + 0.55 * dot / dot.max()
            field *= np.tile(dot, (h // p + 1, w // p + 1))[:h, :w]
        drop = _u(ctx.rng, self.dropout)
        if drop > 0.01:
            field *= (ctx.np.random((h, w), dtype=np.float32) >= drop)
        return np.clip(ink.astype(np.float32) * field + 0.5, 0, 255).astype(np.uint8)


class PrintHead(_Op):
    """A worn thermal print head: dead heater elements (white columns through every line), a
    head that heats unevenly line by line, and print fading from one end of the roll.

    Real receipts show all three; :class:`Thermal`'s fading is smooth over the page and never
    cuts a letter in two.
    """

    type: Literal["print_head"] = "print_head"
    prob: float = 0.3
    dead_columns: tuple[int, int] = (0, 3)
    dead_width: tuple[int, int] = (1, 2)
    line_heat: Range = (0.0, 0.35)
    end_fade: Range = (0.0, 0.6)

    def apply(self, ink: np.ndarray, ctx: Context) -> np.ndarray:
        h, w = ink.shape
        out = ink.astype(np.float32)
        heat = _u(ctx.rng, self.line_heat)
        if heat > 0.01:  # each dot row heated a little differently: horizontal bands a few pixels tall
            rows = _low_freq(ctx, h, 1, max(2, h // ctx.rng.randint(3, 9)), 1.0 - heat, 1.0)
            out *= rows
        fade = _u(ctx.rng, self.end_fade)
        if fade > 0.01:
            ramp = np.linspace(1.0, 1.0 - fade, h, dtype=np.float32)[:, None]
            out *= ramp if ctx.rng.random() < 0.5 else ramp[::-1]
        for _ in range(ctx.rng.randint(*self.dead_columns)):
            x = ctx.rng.randrange(w)
            out[:, x:x + ctx.rng.randint(*self.dead_width)] = 0
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)


class DotMatrix(_Op):
    """An impact (dot-matrix) printer: each glyph becomes dots on the head's grid, struck through
    a ribbon that wears unevenly, so dots vary in darkness and whole lines come out paler.

    The glyph is sampled on a grid of ``pitch`` pixels (the share of ink in each cell decides
    whether its pin fires) and every fired pin prints a round dot. No installed font is a
    dot-matrix face, so the face is made from the rendered one. With ``ctx.ink_room`` set, dots
    stay inside the characters' boxes.
    """

    type: Literal["dot_matrix"] = "dot_matrix"
    prob: float = 0.0
    pitch: Range = (2.2, 3.4)
    fire: Range = (0.25, 0.45)
    dot: Range = (0.4, 0.6)
    wear: Range = (0.0, 0.45)

    def apply(self, ink: np.ndarray, ctx: Context) -> np.ndarray:
        h, w = ink.shape
        p = _u(ctx.rng, self.pitch)
        gh, gw = max(1, int(h / p)), max(1, int(w / p))
        cells = cv2.resize(ink, (gw, gh), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        fired = cells > _u(ctx.rng, self.fire)
        ys, xs = np.nonzero(fired)
        strength = 0.65 + 0.35 * ctx.np.random(len(ys), dtype=np.float32)
        wear = _u(ctx.rng, self.wear)
        if wear > 0.01:  # ribbon wear: slow bands along the feed
            band = _low_freq(ctx, gh, 1, max(2, gh // 6), 1.0 - wear, 1.0)[:, 0]
            strength *= band[ys]
        centres = np.zeros((h, w), np.float32)
        cy = np.clip(((ys + 0.5) * p).astype(np.int32), 0, h - 1)
        cx = np.clip(((xs + 0.5) * p).astype(np.int32), 0, w - 1)
        np.maximum.at(centres, (cy, cx), strength)
        r = max(1.0, _u(ctx.rng, self.dot) * p)
        k = max(2, int(round(2 * r)))
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        out = cv2.GaussianBlur(cv2.dilate(centres, disc), (0, 0), 0.45)  # round dots, the darker one where two touch
        out = np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8)
        if ctx.ink_room is not None:
            out[~ctx.ink_room & (ink == 0)] = 0
        return out


# ----------------------------------------------------------------------------------- image stage
class Rotate(_Op):
    """A small rotation and shear, the canvas grown to keep every corner (crops: loose detector boxes)."""

    type: Literal["rotate"] = "rotate"
    prob: float = 0.3
    angle: Range = (-3.0, 3.0)
    shear: Range = (-0.18, 0.18)

    def apply(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        h, w = img.shape[:2]
        a = math.radians(_u(ctx.rng, self.angle))
        s = _u(ctx.rng, self.shear)
        m = np.array([[math.cos(a), -math.sin(a) + s, 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
        corners = apply_homography(m, np.array([[0, 0], [w, 0], [w, h], [0, h]]))
        x0, y0 = corners.min(axis=0)
        x1, y1 = corners.max(axis=0)
        m[0, 2], m[1, 2] = -x0, -y0
        size = (int(math.ceil(x1 - x0)), int(math.ceil(y1 - y0)))
        out = cv2.warpAffine(img, m[:2], size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        ctx.then(m)
        return out


class Perspective(_Op):
    """A slight perspective: each corner of the picture pulled inwards by up to ``max_inset``.

    With ``background`` set in the context (pages), the revealed border is that colour — a page
    photographed on a table; otherwise the edge is replicated (crops).
    """

    type: Literal["perspective"] = "perspective"
    prob: float = 0.2
    max_inset: float = Field(0.05, ge=0, lt=0.4, description="Fraction of the shorter side.")

    def apply(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        h, w = img.shape[:2]
        d = self.max_inset * min(h, w) if ctx.background is not None else self.max_inset * h
        d = max(d, 1.0)
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        signs = np.float32([[1, 1], [-1, 1], [-1, -1], [1, -1]])
        dst = src + signs * np.float32([[ctx.rng.uniform(0, d), ctx.rng.uniform(0, d)] for _ in range(4)])
        m = cv2.getPerspectiveTransform(src, dst)
        if ctx.background is not None:
            border = tuple(int(c) for c in ctx.background) if img.ndim == 3 else int(np.mean(ctx.background))
            out = cv2.warpPerspective(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                      borderValue=border)
        else:
            out = cv2.warpPerspective(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        ctx.then(m.astype(np.float64))
        return out


class PaperTexture(_Op):
    """Paper that is not flat white: blotchy tone, fibre grain and a few specks of dirt."""

    type: Literal["paper"] = "paper"
    prob: float = 0.35
    blotch: Range = (0.0, 0.10)
    grain: Range = (0.0, 0.05)
    specks: Range = (0.0, 0.0004)

    def apply(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        h, w = img.shape[:2]
        b = _u(ctx.rng, self.blotch)
        field = _low_freq(ctx, h, w, ctx.rng.randint(4, 24), 1.0 - b, 1.0)
        g = _u(ctx.rng, self.grain)
        if g > 0.005:
            field = field - np.abs(ctx.np.standard_normal((h, w), dtype=np.float32)) * g
        out = _scale_channels(img, field)
        n = int(_u(ctx.rng, self.specks) * h * w)
        for _ in range(n):
            cv2.circle(out, (ctx.rng.randrange(w), ctx.rng.randrange(h)), ctx.rng.choice((0, 0, 1)),
                       (ctx.rng.randint(40, 140),) * (3 if out.ndim == 3 else 1), -1)
        return out


class Lighting(_Op):
    """Uneven light: a gradient and a soft spot, a cast shadow (a hand, a phone), a crease."""

    type: Literal["lighting"] = "lighting"
    prob: float = 0.35
    gradient: Range = (0.0, 0.3)
    shadow_prob: float = 0.25
    shadow: Range = (0.45, 0.85)
    crease_prob: float = 0.15

    def apply(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        h, w = img.shape[:2]
        r = ctx.rng
        sh, sw = max(2, min(h, 48)), max(2, min(w, 48))
        yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
        yy /= max(sh - 1, 1)
        xx /= max(sw - 1, 1)
        g = _u(r, self.gradient)
        ang = r.uniform(0, 2 * math.pi)
        t = math.cos(ang) * (xx - 0.5) + math.sin(ang) * (yy - 0.5)  # in [-0.71, 0.71]
        field = 1.0 - g * (t + 0.71) / 1.42  # from 1 on the lit side to 1 - g on the dark side
        cx, cy, rad = r.uniform(0, 1), r.uniform(0, 1), r.uniform(0.3, 1.0)
        field = np.minimum(field + g * 0.3 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (rad * rad)), 1.05)
        if r.random() < self.shadow_prob:
            # a straight shadow edge across the picture, dark on one side, softened
            px, py, a = r.uniform(0.2, 0.8), r.uniform(0.2, 0.8), r.uniform(0, 2 * math.pi)
            side = (xx - px) * math.cos(a) + (yy - py) * math.sin(a)
            soft = r.uniform(0.01, 0.08)
            dark = _u(r, self.shadow)
            field *= 1.0 - (1.0 - dark) / (1.0 + np.exp(np.minimum(-side / soft, 80.0)))  # no overflow far from the edge
        field = cv2.resize(field.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        if r.random() < self.crease_prob:
            # a fold: a thin bright/dark line pair across the page
            crease = np.zeros((h, w), np.float32)
            if r.random() < 0.5:
                y = r.randrange(h)
                cv2.line(crease, (0, y), (w, y + r.randint(-h // 20 - 1, h // 20 + 1)), 1.0, max(1, h // 300))
            else:
                x = r.randrange(w)
                cv2.line(crease, (x, 0), (x + r.randint(-w // 20 - 1, w // 20 + 1), h), 1.0, max(1, w // 300))
            k = max(3, (min(h, w) // 80) | 1)
            crease = cv2.GaussianBlur(crease, (k, k), 0)
            field *= 1.0 - r.uniform(0.05, 0.2) * crease / max(float(crease.max()), 1e-6)
        return _scale_channels(img, field)


class LowRes(_Op):
    """Captured at a lower resolution and scaled back: soft, blocky strokes."""

    type: Literal["low_res"] = "low_res"
    prob: float = 0.25
    scale: Range = (0.35, 0.8)

    def apply(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        h, w = img.shape[:2]
        f = _u(ctx.rng, self.scale)
        small = cv2.resize(img, (max(2, round(w * f)), max(2, round(h * f))), interpolation=cv2.INTER_AREA)
        interp = cv2.INTER_NEAREST if ctx.rng.random() < 0.15 else cv2.INTER_LINEAR
        return cv2.resize(small, (w, h), interpolation=interp)


class Blur(_Op):
    """Out of focus (Gaussian) or shaken (a short motion streak)."""

    type: Literal["blur"] = "blur"
    prob: float = 0.3
    sigma: Range = (0.3, 1.3)
    motion_prob: float = 0.15
    motion_length: tuple[int, int] = (3, 7)

    def apply(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        if ctx.rng.random() < self.motion_prob:
            n = ctx.rng.randint(*self.motion_length)
            k = np.zeros((n, n), np.float32)
            a = ctx.rng.uniform(0, math.pi)
            c = (n - 1) / 2
            cv2.line(k, (round(c - c * math.cos(a)), round(c - c * math.sin(a))),
                     (round(c + c * math.cos(a)), round(c + c * math.sin(a))), 1.0, 1)
            return cv2.filter2D(img, -1, k / max(float(k.sum()), 1.0))
        s = _u(ctx.rng, self.sigma)
        return cv2.GaussianBlur(img, (0, 0), s)


class Defocus(_Op):
    """A camera focused in front of or behind the paper: a disc-shaped blur (a lens's, which a
    Gaussian is not: edges keep a hard rim and thin strokes spread flat)."""

    type: Literal["defocus"] = "defocus"
    prob: float = 0.25
    radius: Range = (0.8, 2.5)

    def apply(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        r = _u(ctx.rng, self.radius)
        k = int(math.ceil(r)) * 2 + 1
        yy, xx = np.mgrid[0:k, 0:k].astype(np.float32) - (k - 1) / 2
        disc = np.clip(r + 0.5 - np.sqrt(xx * xx + yy * yy), 0, 1)
        return cv2.filter2D(img, -1, disc / disc.sum(), borderType=cv2.BORDER_REPLICATE)


class Noise(_Op):
    """Sensor noise (Gaussian) and, sometimes, salt-and-pepper from a dirty scanner."""

    type: Literal["noise"] = "noise"
    prob: float = 0.3
    sigma: Range = (2.0, 14.0)
    salt_pepper_prob: float = 0.1
    salt_pepper: Range = (0.0005, 0.004)

    def apply(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        h, w = img.shape[:2]
        s = _u(ctx.rng, self.sigma)
        n = ctx.np.standard_normal((h, w), dtype=np.float32) * s
        out = np.clip(img.astype(np.float32) + (n if img.ndim == 2 else n[..., None]) + 0.5, 0, 255).astype(np.uint8)
        if ctx.rng.random() < self.salt_pepper_prob:
            u = ctx.np.random((h, w), dtype=np.float32)
            p = _u(ctx.rng, self.salt_pepper)
            out[u < p / 2] = 0
            out[u > 1 - p / 2] = 255
        return out


class Toner(_Op):
    """A photocopier or a dirty scanner: toner specks (clusters of dark dots), streaks along the
    feed (dirt on the glass) and a grey cast where the copy is over-toned."""

    type: Literal["toner"] = "toner"
    prob: float = 0.3
    specks: Range = (0.00002, 0.0003)
    streak_prob: float = 0.3
    grey: Range = (0.0, 0.08)

    def apply(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        h, w = img.shape[:2]
        out = img.copy()
        grey = _u(ctx.rng, self.grey)
        if grey > 0.005:
            out = _scale_channels(out, _low_freq(ctx, h, w, ctx.rng.randint(2, 6), 1.0 - grey, 1.0))
        colour = (0,) * (3 if out.ndim == 3 else 1)
        for _ in range(int(_u(ctx.rng, self.specks) * h * w)):
            x, y = ctx.rng.randrange(w), ctx.rng.randrange(h)
            for _ in range(ctx.rng.choice((1, 1, 2, 4))):  # a speck, or a small cluster
                dx, dy = ctx.rng.randint(-3, 3), ctx.rng.randint(-3, 3)
                cv2.circle(out, (x + dx, y + dy), ctx.rng.choice((0, 0, 1)), colour, -1)
        if ctx.rng.random() < self.streak_prob:
            for _ in range(ctx.rng.randint(1, 3)):
                x = ctx.rng.randrange(w)
                width = ctx.rng.randint(1, 3)
                f = ctx.rng.uniform(0.55, 0.9) if ctx.rng.random() < 0.6 else ctx.rng.uniform(1.05, 1.2)
                out[:, x:x + width] = np.clip(out[:, x:x + width].astype(np.float32) * f, 0, 255).astype(np.uint8)
        return out


class ColourCast(_Op):
    """A phone's white balance: warm lamplight or cool daylight tints paper and ink alike."""

    type: Literal["colour_cast"] = "colour_cast"
    prob: float = 0.5
    strength: Range = (0.0, 0.12)

    def apply(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        if img.ndim != 3:
            return img
        s = _u(ctx.rng, self.strength) * (1 if ctx.rng.random() < 0.6 else -1)  # + warm, - cool
        gains = np.array([1 + s, 1 + s * 0.3, 1 - s], np.float32)
        return np.clip(img.astype(np.float32) * gains + 0.5, 0, 255).astype(np.uint8)


def _threshold_near_otsu(gray: np.ndarray, offset: float) -> np.ndarray:
    """Black and white at Otsu's threshold moved by ``offset`` (kept within 30–230)."""
    t, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    t = float(np.clip(t + offset, 30, 230))
    return np.where(gray > t, 255, 0).astype(np.uint8)


class Binarize(_Op):
    """Black and white: a fax, a photocopy, a scanner's text mode (threshold near Otsu's)."""

    type: Literal["binarize"] = "binarize"
    prob: float = 0.05
    offset: Range = (-25.0, 25.0)

    def apply(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        out = _threshold_near_otsu(gray, _u(ctx.rng, self.offset))
        return out if img.ndim == 2 else np.repeat(out[..., None], 3, axis=2)


class Fax(_Op):
    """A fax or a scanner's black-and-white mode at a low resolution (the FUNSD scans): the page is
    thresholded *at the low resolution*, then scaled back up, so strokes become staircases of big
    pixels and thin gaps between letters close or open. :class:`LowRes` followed by
    :class:`Binarize` is not the same: it thresholds a smooth upscaled image, so edges stay fine.
    """

    type: Literal["fax"] = "fax"
    prob: float = 0.05
    scale: Range = (0.35, 0.6)
    offset: Range = (-20.0, 20.0)
    speckle: Range = (0.0, 0.002)
    nearest_prob: float = Field(0.5, ge=0, le=1, description="Scaled back up with nearest-neighbour (hard "
                                "staircases), else linearly (as a viewer or a detector's resize shows them).")

    def apply(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        h, w = img.shape[:2]
        f = _u(ctx.rng, self.scale)
        gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        small = cv2.resize(gray, (max(2, round(w * f)), max(2, round(h * f))), interpolation=cv2.INTER_AREA)
        small = _threshold_near_otsu(small, _u(ctx.rng, self.offset))
        p = _u(ctx.rng, self.speckle)
        if p > 0:
            u = ctx.np.random(small.shape, dtype=np.float32)
            small[u < p / 2] = 0
            small[u > 1 - p / 2] = 255
        interp = cv2.INTER_NEAREST if ctx.rng.random() < self.nearest_prob else cv2.INTER_LINEAR
        out = cv2.resize(small, (w, h), interpolation=interp)
        return out if img.ndim == 2 else np.repeat(out[..., None], 3, axis=2)


class Jpeg(_Op):
    """JPEG compression at the qualities phones and web uploads use."""

    type: Literal["jpeg"] = "jpeg"
    prob: float = 0.35
    quality: tuple[int, int] = (25, 90)

    def apply(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, ctx.rng.randint(*self.quality)])
        if not ok:
            return img
        return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


InkOp = Annotated[Union[InkBleed, Thermal, PrintHead, DotMatrix], Field(discriminator="type")]
ImageOp = Annotated[Union[Rotate, Perspective, PaperTexture, Lighting, LowRes, Blur, Defocus, Noise, Toner, ColourCast,
                          Binarize, Fax, Jpeg], Field(discriminator="type")]


class Pipeline(BaseModel):
    """Ink operations, then image operations, each run with its own probability, in list order."""

    model_config = ConfigDict(extra="forbid")

    ink: list[InkOp] = Field(default_factory=list)
    image: list[ImageOp] = Field(default_factory=list)

    def apply_ink(self, layer: np.ndarray, ctx: Context) -> np.ndarray:
        """Degrade one ink coverage layer (before it is composed onto paper)."""
        for op in self.ink:
            if op.prob > 0 and ctx.rng.random() < op.prob:
                layer = op.apply(layer, ctx)
        return layer

    def apply_image(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        """Degrade the composed picture; ``ctx.matrix`` ends as the geometry applied."""
        for op in self.image:
            if op.prob > 0 and ctx.rng.random() < op.prob:
                img = op.apply(img, ctx)
        return img

    def scaled(self, factor: float) -> "Pipeline":
        """The same pipeline with every probability multiplied by ``factor`` (capped at 1)."""
        ink = [op.model_copy(update={"prob": min(1.0, op.prob * factor)}) for op in self.ink]
        image = [op.model_copy(update={"prob": min(1.0, op.prob * factor)}) for op in self.image]
        return Pipeline(ink=ink, image=image)


def crop_pipeline() -> Pipeline:
    """Word and line crops: everything, at crop scale (small shifts, strong blur and JPEG)."""
    return Pipeline(
        ink=[InkBleed(prob=0.15), Thermal(prob=0.08, dropout=(0.0, 0.2))],
        image=[Rotate(prob=0.3), Perspective(prob=0.1, max_inset=0.12), PaperTexture(prob=0.25, grain=(0.0, 0.08)),
               Lighting(prob=0.2, shadow_prob=0.15, crease_prob=0.0), LowRes(prob=0.25), Blur(prob=0.3),
               Noise(prob=0.3), Binarize(prob=0.04), Jpeg(prob=0.3)],
    )


def page_pipeline() -> Pipeline:
    """Office scans and phone photos of A4 pages (skew and rotation are the page generator's own)."""
    return Pipeline(
        ink=[InkBleed(prob=0.12), Thermal(prob=0.03)],
        image=[PaperTexture(prob=0.4), Lighting(prob=0.35), Perspective(prob=0.2, max_inset=0.06),
               LowRes(prob=0.15, scale=(0.5, 0.85)), Blur(prob=0.3, sigma=(0.3, 1.0)), Noise(prob=0.3, sigma=(2.0, 9.0)),
               Binarize(prob=0.04), Jpeg(prob=0.4, quality=(35, 92))],
    )


def receipt_pipeline() -> Pipeline:
    """Thermal receipts: faded, dotted strokes on thin paper, usually photographed."""
    return Pipeline(
        ink=[Thermal(prob=0.75, fade=(0.3, 1.0)), InkBleed(prob=0.1, bleed_share=0.3)],
        image=[PaperTexture(prob=0.5), Lighting(prob=0.5, crease_prob=0.3), Perspective(prob=0.25, max_inset=0.06),
               LowRes(prob=0.15, scale=(0.5, 0.85)), Blur(prob=0.35, sigma=(0.3, 1.0)), Noise(prob=0.35, sigma=(2.0, 9.0)),
               Jpeg(prob=0.5, quality=(35, 90))],
    )
