"""How pages reach kocr: phone photos, office scans and thermal receipts, with exact ground truth.

kocr reads real captures worse than its own flat synthetic pages: paper that curls and creases,
a camera that looks at it askew, a table around it, shadows, defocus; receipts printed by a
worn thermal head or a dot-matrix ribbon on narrow paper; scans that are grey, speckled,
skewed and low in resolution. Each capture kind here turns a composed page into such a picture,
and moves every ground-truth point with the pixels:

- ``photo``: the paper is a surface in 3D (:class:`Surface`: a bend along one axis with exact
  arc length — a page bowing, a receipt's end curling up —, fold creases, crumpling), lit by a
  lamp (shading follows the surface normal), seen through a pinhole camera (:class:`Camera`)
  from a tilted, turned viewpoint, on a generated background (:data:`BACKGROUNDS`), then
  shadowed, defocused or shaken, noisy and JPEG-compressed. Points move by the forward map
  (:meth:`PhotoWarp.forward`, exact); pixels by its inverse, solved by Newton's method.
- ``thermal``: a till receipt: thermal print (fading, a worn head's dead columns and uneven
  heat, crisp bitmap-like glyphs) or a dot-matrix printer's dots through a worn ribbon, on a
  58 or 80 mm roll (print 48 or 72 mm wide), then photographed curled and crumpled.
- ``scan``: an office scanner or copier (the FUNSD look): grey, toner specks and streaks, a
  small skew, often thresholded at the scanner's resolution and then stored smaller, so strokes
  have staircase edges softened by the downscale.

Backgrounds are held out the way fonts are: the held-out split photographs paper on
:data:`HELDOUT_BACKGROUNDS`, which training never sees.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ...errors import KocrError
from .degrade import (
    ColourCast,
    Context,
    Defocus,
    DotMatrix,
    Lighting,
    PaperTexture,
    PrintHead,
    Thermal,
    Toner,
    _low_freq,
    _scale_channels,
    apply_homography,
)
from .render import WordBox, transform_words

__all__ = [
    "CAPTURE_KINDS", "BACKGROUNDS", "HELDOUT_BACKGROUNDS", "backgrounds_for", "background", "CaptureOptions",
    "PhotoLook", "ThermalLook", "ScanLook", "Surface", "Camera", "PhotoWarp", "draw_capture", "photograph",
    "thermal_print", "thermal_roll", "scan", "refit_words", "ink_room",
]

Range = tuple[float, float]

#: Capture kinds ``PageConfig.capture`` draws from; ``plain`` is the page pipeline alone.
CAPTURE_KINDS = ("plain", "scan", "photo", "thermal")
#: Backgrounds a photographed paper lies on, generated (no image files).
BACKGROUNDS = ("plain", "wood", "fabric", "dark", "granite", "checked")
#: Never used for training: held-out photos lie on these (a stone counter, a gingham tablecloth).
HELDOUT_BACKGROUNDS = ("granite", "checked")


def backgrounds_for(split: str) -> tuple[str, ...]:
    """The backgrounds of ``split`` (``train``, ``heldout`` or ``all``), as fonts are split."""
    if split == "train":
        return tuple(b for b in BACKGROUNDS if b not in HELDOUT_BACKGROUNDS)
    if split == "heldout":
        return HELDOUT_BACKGROUNDS
    if split == "all":
        return BACKGROUNDS
    raise KocrError(f"unknown split {split!r}: use train, heldout or all")


def _u(rng: random.Random, r: Range) -> float:
    return rng.uniform(r[0], r[1])


# ----------------------------------------------------------------------------------- options
class _Look(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PhotoLook(_Look):
    """A phone photo of paper lying on something: how the paper bends and how the camera sees it."""

    tilt: Range = Field((0.0, 28.0), description="Degrees the camera looks away from the paper's normal.")
    roll: Range = Field((-10.0, 10.0), description="Degrees the paper is turned in the picture.")
    distance: Range = Field((1.0, 2.2), description="Camera distance over the paper's longer side (closer: "
                            "stronger perspective).")
    fill: Range = Field((0.6, 0.92), description="Share of the frame's limiting side the paper spans.")
    text_scale: Range = Field((0.65, 1.0), description="Picture pixels per page pixel at the paper's centre.")
    max_side: int = Field(2400, ge=256, description="Longest side of the picture, at most.")
    curl_prob: float = Field(0.5, ge=0, le=1)
    curl: Range = Field((0.15, 0.9), description="How far the paper bends, in radians (an end curling up, or "
                        "the whole sheet bowing).")
    fold_prob: float = Field(0.25, ge=0, le=1, description="Folded into halves or thirds and opened again.")
    fold_slope: Range = (0.03, 0.12)
    crumple_prob: float = Field(0.1, ge=0, le=1)
    crumple: Range = Field((1.5, 6.0), description="Height of the crumples, page pixels.")
    shadow_prob: float = Field(0.35, ge=0, le=1, description="A hand's or a phone's shadow across the picture.")
    gloss_prob: float = Field(0.0, ge=0, le=1, description="A glossy sheet (thermal paper) catching the lamp.")
    defocus_prob: float = Field(0.3, ge=0, le=1)
    motion_prob: float = Field(0.12, ge=0, le=1)
    noise: Range = Field((1.0, 5.0), description="Sensor noise, grey levels.")
    jpeg: tuple[int, int] = (45, 92)


class ThermalLook(_Look):
    """A till receipt: the printer, the roll, and then the photo (a receipt is read off a phone)."""

    dot_matrix_prob: float = Field(0.3, ge=0, le=1, description="Printed by an impact printer's dots through "
                                   "a ribbon, not by a thermal head.")
    roll_mm: tuple[int, ...] = Field((58, 80), description="Paper widths: 58 mm rolls print 48 mm, 80 mm "
                                     "rolls 72 mm.")
    roll_weights: tuple[float, ...] = (0.6, 0.4)
    bitmap_prob: float = Field(0.5, ge=0, le=1, description="Glyph edges snapped to the head's dots (no grey "
                               "anti-aliasing), as a POS printer's bitmap face prints.")
    photo: PhotoLook = Field(default_factory=lambda: PhotoLook(
        curl_prob=0.8, curl=(0.3, 1.2), fold_prob=0.4, crumple_prob=0.45, crumple=(2.0, 9.0), gloss_prob=0.35,
        fill=(0.75, 0.95)))


class ScanLook(_Look):
    """An office scanner or copier, as FUNSD's forms were scanned: grey, low resolution, specks."""

    skew: float = Field(1.5, ge=0, le=15, description="Largest skew, degrees.")
    resolution: Range = Field((0.5, 0.8), description="Stored resolution over the page's (150 dpi: 75-120 dpi).")
    binary_prob: float = Field(0.55, ge=0, le=1, description="Scanned in black and white (thresholded at the "
                               "scanner's resolution), then stored smaller in grey.")
    binary_resolution: Range = Field((1.0, 1.5), description="The black-and-white scan's resolution over the "
                                     "stored one.")
    colour_prob: float = Field(0.1, ge=0, le=1, description="Kept in colour (the rest are grey).")
    copies: tuple[int, int] = Field((0, 2), description="Photocopy generations before the scan.")
    toner_prob: float = Field(0.6, ge=0, le=1)
    jpeg_prob: float = Field(0.25, ge=0, le=1)


class CaptureOptions(_Look):
    """Options of every capture kind (``PageConfig.capture_options``)."""

    photo: PhotoLook = Field(default_factory=PhotoLook)
    thermal: ThermalLook = Field(default_factory=ThermalLook)
    scan: ScanLook = Field(default_factory=ScanLook)


def draw_capture(capture: str | dict[str, float] | None, rng: random.Random) -> str | None:
    """The capture kind of one page; None (and no draw) when ``capture`` is None.

    ``capture`` is a kind or ``{kind: probability}``; what the probabilities leave is ``plain``.
    """
    if capture is None:
        return None
    if isinstance(capture, str):
        return capture
    r = rng.random()
    for kind, p in capture.items():
        if r < p:
            return kind
        r -= p
    return "plain"


def check_capture(capture: str | dict[str, float] | None) -> None:
    """A :class:`KocrError` for an unknown kind or probabilities that are not a distribution."""
    if capture is None:
        return
    kinds = [capture] if isinstance(capture, str) else list(capture)
    unknown = sorted(set(kinds) - set(CAPTURE_KINDS))
    if unknown:
        raise KocrError(f"unknown capture kind(s) {', '.join(unknown)}: choose from {', '.join(CAPTURE_KINDS)}")
    if isinstance(capture, dict):
        if any(p < 0 for p in capture.values()) or sum(capture.values()) > 1 + 1e-9:
            raise KocrError(f"capture probabilities must be ≥ 0 and sum to at most 1, not {capture}")


# ----------------------------------------------------------------------------------- geometry
def _bilinear(grid: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``grid`` (h×w) sampled at float grid coordinates, clamped at its edges."""
    h, w = grid.shape
    x = np.clip(x, 0, w - 1.000001)
    y = np.clip(y, 0, h - 1.000001)
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    fx, fy = x - x0, y - y0
    g00, g01 = grid[y0, x0], grid[y0, x0 + 1]
    g10, g11 = grid[y0 + 1, x0], grid[y0 + 1, x0 + 1]
    return (g00 * (1 - fx) + g01 * fx) * (1 - fy) + (g10 * (1 - fx) + g11 * fx) * fy


@dataclass
class Surface:
    """A sheet of ``width``×``height`` page pixels in 3D: ``points`` maps page coordinates to space.

    The sheet bends along one page axis (``axis`` 0: x, 1: y) with exact arc length (a profile of
    curvature integrated on a fine grid), so text is not stretched; folds add a rounded V
    (``(nx, ny, c, slope, reach, sign)``: the crease is ``nx·x + ny·y = c``) and ``bumps`` a
    smooth height field (crumpling). Heights (``z``) grow towards the camera. The sheet is flat
    beyond its edges, so the map stays one-to-one around it.
    """

    width: float
    height: float
    axis: int = 0
    t: np.ndarray = field(default_factory=lambda: np.array([-1.0, 1.0]))
    along: np.ndarray = field(default_factory=lambda: np.array([-1.0, 1.0]))
    lift: np.ndarray = field(default_factory=lambda: np.zeros(2))
    folds: list[tuple[float, float, float, float, float, float]] = field(default_factory=list)
    bumps: np.ndarray | None = None
    bump_step: float = 1.0
    bump_origin: float = 0.0
    bend: float = 0.0  # how far the sheet bends end to end, radians (what a record's ``curl`` says)

    @classmethod
    def flat(cls, width: float, height: float) -> "Surface":
        n = max(width, height)
        return cls(width, height, 0, np.array([-2 * n, 3 * n]), np.array([-2 * n, 3 * n]), np.zeros(2))

    @classmethod
    def bent(cls, width: float, height: float, axis: int, curvature: Callable[[np.ndarray], np.ndarray]) -> "Surface":
        """A sheet bent along ``axis`` by ``curvature(t)`` (radians a pixel), flat at its middle."""
        length = width if axis == 0 else height
        n = max(width, height)
        t = np.arange(-2 * n, length + 2 * n + 1, 1.0)
        k = np.where((t >= 0) & (t <= length), curvature(t), 0.0)
        mid = int(np.searchsorted(t, length / 2))
        theta = np.cumsum(k)
        theta -= theta[mid]
        along = np.cumsum(np.cos(theta))
        lift = np.cumsum(np.sin(theta))
        along += t[mid] - along[mid]
        lift -= lift[mid]
        return cls(width, height, axis, t, along, lift)

    def points(self, uv: np.ndarray) -> np.ndarray:
        """(N, 2) page points → (N, 3) points of the sheet in space (x, y, z towards the camera)."""
        u, v = uv[:, 0], uv[:, 1]
        bent = u if self.axis == 0 else v
        a = np.interp(bent, self.t, self.along)
        z = np.interp(bent, self.t, self.lift)
        x, y = (a, v) if self.axis == 0 else (u, a)
        for nx, ny, c, slope, reach, sign in self.folds:
            d = np.sqrt((nx * u + ny * v - c) ** 2 + 4.0) - 2.0  # a crease rounded over a few pixels
            z = z + sign * slope * reach * (1.0 - np.exp(-d / reach))
        if self.bumps is not None:
            z = z + _bilinear(self.bumps, (u - self.bump_origin) / self.bump_step, (v - self.bump_origin) / self.bump_step)
        return np.stack([x, y, z], axis=1)


@dataclass
class Camera:
    """A pinhole camera ``distance`` away from the sheet's centre, turned by ``rotation`` (3×3), whose
    image is scaled by ``scale`` and shifted by ``offset`` into picture pixels."""

    rotation: np.ndarray
    distance: float
    centre: tuple[float, float]
    scale: float = 1.0
    offset: tuple[float, float] = (0.0, 0.0)

    def project(self, pts: np.ndarray) -> np.ndarray:
        x = pts[:, 0] - self.centre[0]
        y = pts[:, 1] - self.centre[1]
        z = -pts[:, 2]  # the camera looks along +z: heights come closer
        r = self.rotation
        f = self.scale * self.distance / (r[2, 0] * x + r[2, 1] * y + r[2, 2] * z + self.distance)
        out = np.empty((len(pts), 2))
        out[:, 0] = (r[0, 0] * x + r[0, 1] * y + r[0, 2] * z) * f + self.offset[0]
        out[:, 1] = (r[1, 0] * x + r[1, 1] * y + r[1, 2] * z) * f + self.offset[1]
        return out


def _rotation(tilt: float, azimuth: float, roll: float) -> np.ndarray:
    """Tilt (radians) about an in-plane axis at ``azimuth``, then ``roll`` about the view axis."""
    ax = np.array([math.cos(azimuth), math.sin(azimuth), 0.0])
    k = np.array([[0, -ax[2], ax[1]], [ax[2], 0, -ax[0]], [-ax[1], ax[0], 0]])
    r_tilt = np.eye(3) + math.sin(tilt) * k + (1 - math.cos(tilt)) * (k @ k)
    c, s = math.cos(roll), math.sin(roll)
    r_roll = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    return r_roll @ r_tilt


class PhotoWarp:
    """Page pixels → picture pixels through a :class:`Surface` and a :class:`Camera`.

    Coordinates are pixel edges (pixel ``(r, c)`` covers ``[c, c+1) × [r, r+1)``), as every
    quad of the generator. :meth:`forward` is exact; :meth:`maps` inverts it for ``cv2.remap``
    by Newton's method on a coarse grid of the picture, interpolated between grid points.
    """

    def __init__(self, surface: Surface, camera: Camera) -> None:
        self.surface, self.camera = surface, camera

    def forward(self, uv: np.ndarray) -> np.ndarray:
        uv = np.asarray(uv, np.float64).reshape(-1, 2)
        return self.camera.project(self.surface.points(uv))

    def corners(self) -> np.ndarray:
        w, h = self.surface.width, self.surface.height
        return self.forward(np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64))

    def inverse(self, xy: np.ndarray, iterations: int = 30) -> tuple[np.ndarray, np.ndarray]:
        """Page points of picture points ``xy`` (N, 2), and each one's remaining error in picture pixels."""
        xy = np.asarray(xy, np.float64).reshape(-1, 2)
        w, h = self.surface.width, self.surface.height
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
        guess = cv2.getPerspectiveTransform(self.corners().astype(np.float32), src.astype(np.float32))
        s = apply_homography(guess, xy)
        eps = 0.5
        err = np.full(len(xy), np.inf)
        for _ in range(iterations):
            f = self.forward(s)
            r = f - xy
            err = np.hypot(r[:, 0], r[:, 1])
            if err.max() < 1e-3:
                break
            fu = (self.forward(s + [eps, 0]) - f) / eps
            fv = (self.forward(s + [0, eps]) - f) / eps
            det = fu[:, 0] * fv[:, 1] - fv[:, 0] * fu[:, 1]
            det = np.where(np.abs(det) < 1e-9, 1e-9, det)
            du = (r[:, 0] * fv[:, 1] - fv[:, 0] * r[:, 1]) / det
            dv = (fu[:, 0] * r[:, 1] - r[:, 0] * fu[:, 1]) / det
            step = np.clip(np.stack([du, dv], axis=1), -200, 200)
            s = s - step
        err = np.hypot(*(self.forward(s) - xy).T)
        return s, err

    def maps(self, width: int, height: int, step: int = 4) -> tuple[np.ndarray, np.ndarray]:
        """``cv2.remap`` maps (float32, height×width) from picture pixel indices to page pixel indices;
        picture pixels that show no point of the sheet map far outside it."""
        gw, gh = width // step + 2, height // step + 2
        gx, gy = np.meshgrid(np.arange(gw) * step + 0.5, np.arange(gh) * step + 0.5)
        uv, err = self.inverse(np.stack([gx.ravel(), gy.ravel()], axis=1))
        uv[err > 0.05] = -1e5
        cu = (uv[:, 0] - 0.5).reshape(gh, gw).astype(np.float32)
        cv = (uv[:, 1] - 0.5).reshape(gh, gw).astype(np.float32)
        px, py = np.meshgrid(np.arange(width, dtype=np.float32) / step, np.arange(height, dtype=np.float32) / step)
        map_x = cv2.remap(cu, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        map_y = cv2.remap(cv, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return map_x, map_y

    def shading(self, light: np.ndarray, ambient: float, gloss: float = 0.0, shininess: float = 30.0,
                step: int = 8) -> tuple[np.ndarray, np.ndarray]:
        """Lambertian light on the sheet (1 where it faces the lamp as a flat sheet would) and a
        specular highlight (0–1), both over the page's pixels."""
        w, h = int(round(self.surface.width)), int(round(self.surface.height))
        gw, gh = w // step + 2, h // step + 2
        gu, gv = np.meshgrid(np.arange(gw) * step, np.arange(gh) * step)
        uv = np.stack([gu.ravel(), gv.ravel()], axis=1).astype(np.float64)
        cam = self.camera

        def space(p: np.ndarray) -> np.ndarray:
            c = np.array([cam.centre[0], cam.centre[1], 0.0])
            q = ((self.surface.points(p) - c) * np.array([1.0, 1.0, -1.0])) @ cam.rotation.T
            q[:, 2] += cam.distance
            return q

        p0 = space(uv)
        du = space(uv + [1.0, 0]) - p0
        dv = space(uv + [0, 1.0]) - p0
        n = np.cross(du, dv)
        n /= np.linalg.norm(n, axis=1, keepdims=True)
        n *= np.where((n * p0).sum(axis=1) > 0, -1.0, 1.0)[:, None]  # towards the camera
        flat = cam.rotation @ np.array([0, 0, -1.0])
        lam = ambient + (1 - ambient) * np.clip(n @ light, 0, None)
        ref = ambient + (1 - ambient) * max(float(flat @ light), 0.2)
        shade = (lam / ref).reshape(gh, gw).astype(np.float32)
        spec = np.zeros(len(uv))
        if gloss > 0:
            view = -p0 / np.linalg.norm(p0, axis=1, keepdims=True)
            refl = 2 * (n @ light)[:, None] * n - light
            spec = gloss * np.clip((refl * view).sum(axis=1), 0, 1) ** shininess
        spec = spec.reshape(gh, gw).astype(np.float32)
        size = (gw * step, gh * step)
        shade = cv2.resize(shade, size, interpolation=cv2.INTER_LINEAR)[:h, :w]
        spec = cv2.resize(spec, size, interpolation=cv2.INTER_LINEAR)[:h, :w]
        return shade, spec


def refit_words(words: Sequence[WordBox]) -> None:
    """After a curved map: push each word quad's sides out until they hold every corner of its
    characters' quads (each character stays exact; a long word on a curl bows out of the straight
    line between its mapped corners by up to a pixel or two)."""
    for w in words:
        if not w.chars:
            continue
        q = np.asarray(w.quad, np.float64).copy()
        pts = np.concatenate([c for _, c in w.chars], axis=0)
        for a, b in ((0, 1), (1, 2), (2, 3), (3, 0)):  # each side, its outward normal from the quad's centre
            edge = q[b] - q[a]
            n = np.array([edge[1], -edge[0]]) / max(np.linalg.norm(edge), 1e-9)
            if np.dot(q.mean(axis=0) - q[a], n) > 0:
                n = -n
            out = float(((pts - q[a]) @ n).max())
            if out > 0:
                q[a] += n * out
                q[b] += n * out
        w.quad = q


# ----------------------------------------------------------------------------------- backgrounds
def background(kind: str, height: int, width: int, ctx: Context) -> np.ndarray:
    """A generated surface for paper to lie on (RGB uint8): a table, wood, cloth, stone, a tablecloth.

    Drawn at half the size and scaled up: the camera never sees a table sharper than that.
    """
    small = _texture(kind, max(2, (height + 1) // 2), max(2, (width + 1) // 2), ctx)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _texture(kind: str, h: int, w: int, ctx: Context) -> np.ndarray:
    rng, g = ctx.rng, ctx.np
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, math.pi)
    along = xx * math.cos(a) + yy * math.sin(a)
    across = -xx * math.sin(a) + yy * math.cos(a)
    if kind == "plain":  # a table top: any colour, from white laminate to black
        base = np.array([rng.randint(20, 250)] * 3, np.float32) + np.array([rng.randint(-25, 25) for _ in range(3)])
        img = np.ones((h, w, 3), np.float32) * base
        img *= _low_freq(ctx, h, w, rng.randint(2, 5), 0.9, 1.05)[..., None]
        img += g.standard_normal((h, w, 1), dtype=np.float32) * rng.uniform(1.5, 4)
    elif kind == "wood":
        base = np.array([rng.randint(110, 200), rng.randint(70, 130), rng.randint(30, 80)], np.float32)
        period = rng.uniform(3, 13)
        warp = _low_freq(ctx, h, w, rng.randint(3, 8), -1, 1) * rng.uniform(5, 20)
        grain = np.sin((across + warp) * 2 * math.pi / period) * 0.5 + 0.5
        fine = cv2.GaussianBlur(g.standard_normal((h, w), dtype=np.float32), (0, 0), 0.8)
        tone = 0.78 + 0.16 * grain + 0.05 * fine
        plank = rng.uniform(75, 200)
        seams = np.abs(((across + plank / 2) % plank) - plank / 2) < 0.7
        tone[seams] *= 0.55
        img = tone[..., None] * base
    elif kind == "fabric":  # woven cloth: threads both ways and soft folds
        grey = rng.randint(40, 200)  # dyed cloth: a grey with a tint, not a primary colour
        base = np.array([grey + rng.randint(-40, 40) for _ in range(3)], np.float32)
        p = rng.uniform(2.2, 4)
        weave = np.sin(along * 2 * math.pi / p) * np.sin(across * 2 * math.pi / p)
        folds = _low_freq(ctx, h, w, rng.randint(2, 5), 0.75, 1.05)
        tone = (0.9 + 0.08 * weave + 0.04 * g.standard_normal((h, w), dtype=np.float32)) * folds
        img = tone[..., None] * base
    elif kind == "dark":  # leather, a dark desk mat
        base = np.array([rng.randint(15, 70)] * 3, np.float32) + np.array([rng.randint(-10, 10) for _ in range(3)])
        grain = cv2.GaussianBlur(g.standard_normal((h, w), dtype=np.float32), (0, 0), rng.uniform(0.5, 1.5))
        img = (1 + 0.25 * grain)[..., None] * base * _low_freq(ctx, h, w, 3, 0.8, 1.2)[..., None]
    elif kind == "granite":  # speckled stone: grains of several sizes and tones
        base = np.array([rng.randint(90, 210)] * 3, np.float32) + np.array([rng.randint(-20, 20) for _ in range(3)])
        tone = np.ones((h, w), np.float32)
        for sigma, amp in ((0.5, 0.22), (1.0, 0.18), (2.0, 0.12)):
            n = cv2.GaussianBlur(g.standard_normal((h, w), dtype=np.float32), (0, 0), sigma)
            tone += amp * np.sign(n) * (np.abs(n) > np.percentile(np.abs(n), 80)) * (1 if rng.random() < 0.5 else -1)
        img = tone[..., None] * base
    elif kind == "checked":  # a gingham tablecloth
        colour = np.array([rng.randint(20, 220) for _ in range(3)], np.float32)
        cell = rng.uniform(7, 25)
        sx = (np.floor(along / cell) % 2).astype(np.float32)
        sy = (np.floor(across / cell) % 2).astype(np.float32)
        share = (sx + sy) / 2  # 0: white, 0.5: tint, 1: full colour
        white = np.array([235, 235, 230], np.float32)
        img = white + (colour - white) * share[..., None]
        img *= (0.93 + 0.05 * np.sin(along * 2 * math.pi / 2.2) * np.sin(across * 2 * math.pi / 2.2))[..., None]
        img *= _low_freq(ctx, h, w, 3, 0.85, 1.05)[..., None]
    else:
        raise KocrError(f"unknown background {kind!r}: choose from {', '.join(BACKGROUNDS)}")
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------------- photo
def _surface(w: int, h: int, look: PhotoLook, ctx: Context) -> Surface:
    rng = ctx.rng
    if rng.random() < look.curl_prob:
        axis = 1 if (h > w) == (rng.random() < 0.75) else 0  # a long sheet mostly curls along its length
        length = float(w if axis == 0 else h)
        total = _u(rng, look.curl) * (1 if rng.random() < 0.8 else -1)
        kind = rng.random()
        if kind < 0.4:  # the whole sheet bows
            def curvature(t: np.ndarray) -> np.ndarray:
                return np.full_like(t, total * 0.6 / length)
        else:  # one end (or both) curls up, over a stretch of the sheet
            reach = length * rng.uniform(0.15, 0.45)
            ends = (0, 1) if kind < 0.7 else ((0,) if rng.random() < 0.5 else (1,))

            def curvature(t: np.ndarray) -> np.ndarray:
                k = np.zeros_like(t)
                if 0 in ends:
                    k -= np.clip((reach - t) / reach, 0, 1) * 2 * total / reach
                if 1 in ends:
                    k += np.clip((t - (length - reach)) / reach, 0, 1) * 2 * total / reach
                return k
        surface = Surface.bent(w, h, axis, curvature)
        surface.bend = abs(total) * (0.6 if kind < 0.4 else 1.0)
    else:
        surface = Surface.flat(w, h)
    if rng.random() < look.fold_prob:  # folded in halves or thirds across its length, opened again
        parts = rng.choice((2, 3))
        across_x = h > w
        for i in range(1, parts):
            c = (h if across_x else w) * i / parts + rng.uniform(-8, 8)
            ang = rng.uniform(-0.02, 0.02)
            nx, ny = (math.sin(ang), math.cos(ang)) if across_x else (math.cos(ang), math.sin(ang))
            surface.folds.append((nx, ny, c, _u(rng, look.fold_slope), rng.uniform(60, 200), rng.choice((-1.0, 1.0))))
    if rng.random() < look.crumple_prob:  # creases every way, and bumps between them
        for _ in range(rng.randint(3, 9)):
            a = rng.uniform(0, math.pi)
            nx, ny = math.cos(a), math.sin(a)
            c = nx * rng.uniform(0, w) + ny * rng.uniform(0, h)
            surface.folds.append((nx, ny, c, rng.uniform(0.01, 0.06), rng.uniform(20, 80), rng.choice((-1.0, 1.0))))
        step = rng.uniform(40, 90)
        pad = 2 * max(w, h)
        n = int((max(w, h) + 2 * pad) / step) + 2
        grid = ctx.np.standard_normal((n, n)).astype(np.float64)
        grid = cv2.GaussianBlur(grid, (0, 0), 0.8)
        grid *= _u(rng, look.crumple) / max(float(np.abs(grid).max()), 1e-6)
        surface.bumps, surface.bump_step, surface.bump_origin = grid, step, -pad
    return surface


def photograph(image: np.ndarray, words: Sequence[WordBox], ctx: Context, look: PhotoLook,
               backgrounds: Sequence[str]) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """A phone photo of the page ``image``: (picture, the paper's four corners in it, what the
    record says of it: ``background``, ``curl`` (radians end to end), ``folds``).

    Every quad of ``words`` is moved to the picture's pixels.
    """
    rng = ctx.rng
    h, w = image.shape[:2]
    page = PaperTexture(prob=1.0, blotch=(0.0, 0.06)).apply(image, ctx) if rng.random() < 0.5 else image
    surface = _surface(w, h, look, ctx)
    rot = _rotation(math.radians(_u(rng, look.tilt)), rng.uniform(0, 2 * math.pi), math.radians(_u(rng, look.roll)))
    distance = _u(rng, look.distance) * max(w, h)
    camera = Camera(rot, distance, (w / 2, h / 2))
    warp = PhotoWarp(surface, camera)
    # how large the picture is: the paper at about text_scale at its centre, spanning `fill` of the frame
    outline = warp.forward(_outline(w, h))
    span = outline.max(axis=0) - outline.min(axis=0)
    scale = _u(rng, look.text_scale)
    fill = _u(rng, look.fill)
    portrait = span[1] >= span[0]
    aspect = rng.choice((0.75, 0.75, 0.5625))  # 3:4, sometimes 9:16
    fw, fh = (span[0] * scale, span[1] * scale)
    if portrait:
        frame_h = max(fh / fill, fw / fill / aspect)
        frame_w = frame_h * aspect
    else:
        frame_w = max(fw / fill, fh / fill / aspect)
        frame_h = frame_w * aspect
    shrink = min(1.0, look.max_side / max(frame_w, frame_h))
    scale *= shrink
    frame_w, frame_h = int(round(frame_w * shrink)), int(round(frame_h * shrink))
    lo = outline.min(axis=0) * scale
    size = span * scale
    ox = rng.uniform(0, max(0.0, frame_w - size[0])) - lo[0]
    oy = rng.uniform(0, max(0.0, frame_h - size[1])) - lo[1]
    camera.scale, camera.offset = scale, (ox, oy)
    # light on the bent sheet, in page pixels, before it is warped
    light = np.array([rng.uniform(-0.7, 0.7), rng.uniform(-0.7, 0.7), -1.0])
    light /= np.linalg.norm(light)
    gloss = rng.uniform(0.15, 0.45) if rng.random() < look.gloss_prob else 0.0
    shade, spec = warp.shading(light, ambient=rng.uniform(0.35, 0.6), gloss=gloss, shininess=rng.uniform(15, 60))
    lit = page.astype(np.float32) * np.clip(shade, 0.3, 1.3)[..., None]
    lit += (255.0 - lit) * spec[..., None]
    page = np.clip(lit + 0.5, 0, 255).astype(np.uint8)
    # the picture
    map_x, map_y = warp.maps(frame_w, frame_h)
    paper = cv2.remap(page, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    alpha = cv2.remap(np.ones((h, w), np.float32), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                      borderValue=0.0)
    kind = rng.choice(tuple(backgrounds))
    bg = background(kind, frame_h, frame_w, ctx)
    drop = cv2.GaussianBlur(alpha, (0, 0), rng.uniform(3, 12))  # the sheet's own soft shadow on the table
    shift = np.float32([[1, 0, rng.uniform(-6, 6)], [0, 1, rng.uniform(0, 8)]])
    drop = cv2.warpAffine(drop, shift, (frame_w, frame_h))
    bg = _scale_channels(bg, 1 - rng.uniform(0.15, 0.4) * drop)
    out = cv2.blendLinear(paper, bg, alpha, 1 - alpha)
    transform_words(words, warp.forward)
    refit_words(words)
    # what the camera and the room add
    out = Lighting(prob=1.0, gradient=(0.0, 0.35), shadow_prob=look.shadow_prob, shadow=(0.35, 0.75),
                   crease_prob=0.0).apply(out, ctx)
    out = _vignette(out, rng.uniform(0.0, 0.3))
    out = ColourCast(prob=1.0).apply(out, ctx)
    if rng.random() < look.defocus_prob:
        out = Defocus(prob=1.0, radius=(0.6, 2.0 * max(scale, 0.5))).apply(out, ctx)
    elif rng.random() < look.motion_prob:
        out = _motion(out, rng.randint(3, 9), rng.uniform(0, math.pi))
    else:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 0.8))
    sigma = _u(rng, look.noise)
    noise = ctx.np.standard_normal(out.shape[:2], dtype=np.float32) * sigma
    out = cv2.add(out.astype(np.float32), cv2.merge([noise, noise, noise]) + 0.5, dtype=cv2.CV_8U)
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(*look.jpeg)])
    if ok:
        out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    info = {"background": kind, "curl": round(surface.bend, 3), "folds": len(surface.folds)}
    return out, warp.corners(), info


def _outline(w: int, h: int, n: int = 24) -> np.ndarray:
    t = np.linspace(0, 1, n, endpoint=False)
    return np.concatenate([np.stack([t * w, 0 * t], 1), np.stack([w + 0 * t, t * h], 1),
                           np.stack([w - t * w, h + 0 * t], 1), np.stack([0 * t, h - t * h], 1)])


def _vignette(img: np.ndarray, strength: float) -> np.ndarray:
    if strength <= 0.005:
        return img
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:64, 0:64].astype(np.float32) / 31.5 - 1
    field = 1.0 - strength * np.clip((xx * xx + yy * yy) / 2, 0, 1)
    return _scale_channels(img, cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR))


def _motion(img: np.ndarray, n: int, angle: float) -> np.ndarray:
    k = np.zeros((n, n), np.float32)
    c = (n - 1) / 2
    cv2.line(k, (round(c - c * math.cos(angle)), round(c - c * math.sin(angle))),
             (round(c + c * math.cos(angle)), round(c + c * math.sin(angle))), 1.0, 1)
    return cv2.filter2D(img, -1, k / max(float(k.sum()), 1.0))


# ----------------------------------------------------------------------------------- thermal
def ink_room(words: Sequence[WordBox], height: int, width: int) -> np.ndarray:
    """Where ink may go on an upright page beyond the ink drawn: its characters' boxes (bool h×w)."""
    room = np.zeros((height, width), bool)
    for w in words:
        for _, q in w.chars:
            x0, y0 = np.floor(q.min(axis=0)).astype(int)
            x1, y1 = np.ceil(q.max(axis=0)).astype(int)
            room[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = True
    return room


def thermal_print(layers: list[np.ndarray], kinds: Sequence[str], words: Sequence[WordBox], ctx: Context,
                  look: ThermalLook) -> tuple[list[np.ndarray], str]:
    """The ink of a till receipt, printed by a thermal head or by a dot-matrix printer's pins;
    returns the layers and which printer (``thermal`` or ``dot_matrix``)."""
    rng = ctx.rng
    printer = "dot_matrix" if rng.random() < look.dot_matrix_prob else "thermal"
    h, w = layers[0].shape
    ctx.ink_room = ink_room(words, h, w)
    heights = [float(np.ptp(q[:, 1])) for wd in words for _, q in wd.chars]
    text_height = float(np.median(heights)) if heights else 16.0
    out = []
    for layer, kind in zip(layers, kinds):
        if kind != "ink":
            out.append(layer)
            continue
        if printer == "dot_matrix":  # a head of 9 to 24 pins: 8 to 14 dots over a line's letters
            pitch = max(1.3, text_height / 14), max(1.5, text_height / 8)
            layer = DotMatrix(prob=1.0, pitch=pitch, fire=(0.15, 0.35)).apply(layer, ctx)
        else:
            if rng.random() < look.bitmap_prob:  # the head's dots: on or off, no grey edges
                layer = np.where(layer >= rng.randint(100, 160), 255, 0).astype(np.uint8)
            layer = Thermal(prob=1.0, fade=(0.4, 1.0), dot_prob=0.3, dropout=(0.0, 0.12)).apply(layer, ctx)
            layer = PrintHead(prob=1.0).apply(layer, ctx)
        out.append(layer)
    ctx.ink_room = None
    return out, printer


def thermal_roll(image: np.ndarray, words: Sequence[WordBox], ctx: Context, look: ThermalLook,
                 tone: tuple[int, int, int]) -> tuple[np.ndarray, int]:
    """The printed strip with the roll's margins around the print (a 58 mm roll prints 48 mm, an
    80 mm roll 72 mm); returns it and the roll's width in mm. Quads move with the print."""
    rng = ctx.rng
    mm = rng.choices(look.roll_mm, look.roll_weights[:len(look.roll_mm)])[0]
    printed = {58: 48.0, 80: 72.0}.get(mm, mm * 0.85)
    h, w = image.shape[:2]
    side = int(round(w * (mm / printed - 1) / 2))
    top, bottom = rng.randint(4, 30), rng.randint(4, 30)
    out = np.empty((h + top + bottom, w + 2 * side, 3), np.uint8)
    out[:] = tone
    out[top:top + h, side:side + w] = image
    transform_words(words, lambda p: p + np.array([side, top], np.float64))
    return out, mm


def paper_tone(rng: random.Random, printer: str | None) -> tuple[int, int, int]:
    """Thermal paper is a cold white; dot-matrix slips are white, cream or a carbonless copy's pastel."""
    if printer == "dot_matrix" and rng.random() < 0.35:
        return rng.choice(((250, 240, 190), (245, 215, 220), (215, 230, 245), (250, 248, 235)))
    if printer == "thermal":
        t = rng.randint(232, 252)
        return (t - rng.randint(0, 6), t - rng.randint(0, 3), t)
    t = rng.randint(236, 255)
    return (t, max(0, t - rng.randint(0, 8)), max(0, t - rng.randint(0, 18)))


def ribbon_colour(rng: random.Random) -> tuple[int, int, int]:
    """A dot-matrix ribbon: purple, navy or worn black."""
    return rng.choice(((70, 40, 110), (40, 45, 100), (45, 45, 55), (90, 50, 120)))


# ----------------------------------------------------------------------------------- scan
def scan(image: np.ndarray, words: Sequence[WordBox], ctx: Context, look: ScanLook) -> tuple[np.ndarray, np.ndarray]:
    """An office scan of the page (grey unless ``colour_prob``), quads moved with skew and scale;
    returns the scan and the page's corners in it."""
    rng = ctx.rng
    h, w = image.shape[:2]
    colour = rng.random() < look.colour_prob
    img = image if colour else np.repeat(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    for _ in range(rng.randint(*look.copies)):  # a photocopy: harder contrast, thicker or thinner strokes
        img = np.clip((img.astype(np.float32) - 128) * rng.uniform(1.1, 1.5) + 128 + rng.uniform(0, 25), 0, 255)
        img = cv2.GaussianBlur(img.astype(np.uint8), (0, 0), rng.uniform(0.4, 0.9))
        if rng.random() < 0.4:
            k = cv2.getStructuringElement(cv2.MORPH_RECT, (2, 2))
            img = cv2.erode(img, k) if rng.random() < 0.7 else cv2.dilate(img, k)
    if rng.random() < look.toner_prob:
        img = Toner(prob=1.0).apply(img, ctx)
    angle = rng.uniform(-look.skew, look.skew)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    lid = (rng.randint(235, 255),) * 3
    img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=lid)
    matrix = _pixel_matrix(np.vstack([m, [0, 0, 1]]))
    f = _u(rng, look.resolution)
    size = (max(8, int(round(w * f))), max(8, int(round(h * f))))
    if rng.random() < look.binary_prob:  # black and white at the scanner's resolution, stored smaller in grey
        fb = min(1.0, f * _u(rng, look.binary_resolution))
        mid = (max(8, int(round(w * fb))), max(8, int(round(h * fb))))
        gray = cv2.cvtColor(cv2.resize(img, mid, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        t, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        bw = np.where(gray > float(np.clip(t + rng.uniform(-25, 20), 40, 220)), 255, 0).astype(np.uint8)
        img = np.repeat(cv2.resize(bw, size, interpolation=cv2.INTER_AREA)[..., None], 3, axis=2)
    else:
        img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        img = np.clip(img.astype(np.float32) + ctx.np.standard_normal(img.shape[:2] + (1,), dtype=np.float32)
                      * rng.uniform(0.5, 3.0) + 0.5, 0, 255).astype(np.uint8)
    sx, sy = size[0] / w, size[1] / h
    matrix = np.diag([sx, sy, 1.0]) @ matrix
    transform_words(words, lambda p: apply_homography(matrix, p))
    if rng.random() < look.jpeg_prob:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(50, 90)])
        if ok:
            img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return img, apply_homography(matrix, np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64))


def _pixel_matrix(m: np.ndarray) -> np.ndarray:
    """A 3×3 map of pixel indices (OpenCV's warps) as a map of pixel edges (the generator's quads)."""
    t = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1.0]])
    return t @ m @ np.linalg.inv(t)


def capture_record(kind: str, corners: np.ndarray | None, **extra: Any) -> dict[str, Any]:
    """What a page's record says about its capture (``paper``: the sheet's corners, TL TR BR BL upright)."""
    rec: dict[str, Any] = {"capture": kind}
    if corners is not None:
        rec["paper"] = [[round(float(x), 2), round(float(y), 2)] for x, y in corners]
    rec.update(extra)
    return rec

