"""Which fonts the generator draws with: held-out designs, family weights, pools per script.

Discovery and coverage (:class:`~kocr_sdk.fonts.FontFace`) are :mod:`kocr_sdk.fonts`'s.

Three rules keep the data honest:

1. **No tofu.** Each face's coverage is read from its cmap with fontTools. A face joins a
   script's pool only if it covers that script's reference set entirely (all 2,350 KS X 1001
   syllables for Hangul, printable ASCII for Latin; :mod:`kocr_sdk.vocabulary.charsets`), and every single string
   is checked again (:meth:`FontFace.covers`) before it is drawn with a face — a string with a
   character the face lacks goes to another face or is redrawn, never rendered as boxes. The
   renderer refuses glyphs that come out empty as well (:mod:`.render`).
2. **Held-out designs.** Fonts are held out *by family name* (:data:`HELDOUT_FAMILIES`), with a
   design's variants and metric twins on the same side (Noto Serif CJK KR/JP/SC/TC/HK share
   their Hangul; Liberation Serif and Tinos are the same design under two names), so that
   evaluation (``split="heldout"``) always uses designs no model trained on.
3. **Families, not files, are sampled.** A family with ten weights is not ten times as likely
   as one with a single file: :class:`FontPool` picks a family first, then one of its faces.
"""

from __future__ import annotations

import functools
import random
import re
from typing import Sequence

from ...errors import KocrError
from ...fonts import EXCLUDED_FAMILIES, FONT_DIRS, HANDWRITING_FAMILIES, FontFace, discover_fonts

__all__ = [
    "FontFace", "FontPool", "HELDOUT_FAMILIES", "EXCLUDED_FAMILIES", "HANDWRITING_FAMILIES",
    "discover_fonts", "select_fonts", "font_pool", "is_heldout", "FONT_DIRS",
]

#: Designs never used for training (matched as family-name prefixes). A serif, two gothics and a
#: handwriting design for Korean; a serif, a sans and a monospace design for Latin (the
#: Liberation superfamily with its Croscore twins, and Carlito). Training keeps other designs of
#: every style: NanumMyeongjo and Baekmuk Batang (serif), Nanum/Noto Sans gothics, Nanum Brush,
#: UnPen and NanumBarunpen (handwriting), UnTaza (typewriter), Nimbus/Free/DejaVu Latin.
HELDOUT_FAMILIES: tuple[str, ...] = (
    "Noto Serif CJK",                 # Korean serif (Myeongjo); all regional variants
    "UnBatang", "UnJamoBatang",       # Korean serif, a second design (jamo variant with it)
    "UnDotum", "UnJamoDotum",         # Korean gothic
    "Baekmuk Gulim",                  # Korean rounded gothic
    "Nanum Pen Script",               # Korean handwriting
    "Liberation Serif", "Tinos",      # Latin serif (Times-metric; twins)
    "Liberation Sans", "Arimo",       # Latin sans (Arial-metric; twins, incl. Liberation Sans Narrow)
    "Liberation Mono", "Cousine",     # Latin monospace (Courier New-metric; twins)
    "Carlito",                        # Latin humanist sans (Calibri-metric)
)

#: Sampling weight of a family relative to 1.0: display, archaic and calligraphic designs are
#: rare on documents, and the YetHangul/Eco variants repeat another family's design.
FAMILY_WEIGHTS: dict[str, float] = {
    "Z003": 0.2, "UnYetgul": 0.3, "UnGraphic": 0.5, "UnDinaru": 0.5, "UnJamoNovel": 0.4, "UnJamoSora": 0.4,
    "UnGungseo": 0.5, "Baekmuk Headline": 0.5, "Nanum Brush Script": 0.6, "UnPilgia": 0.5,
    "NanumBarunGothic YetHangul": 0.2, "NanumMyeongjo YetHangul": 0.2, "NanumGothic Eco": 0.3,
    "NanumMyeongjo Eco": 0.3, "NanumSquare_ac": 0.5, "URW Gothic": 0.6, "URW Bookman": 0.7,
}

_REGION = re.compile(r" (KR|JP|SC|TC|HK)$")


def is_heldout(family: str) -> bool:
    """Whether ``family`` belongs to a held-out design."""
    return family.startswith(HELDOUT_FAMILIES)


def design_of(family: str) -> str:
    """The design a family belongs to: regional CJK variants are one design (same Hangul, same Latin)."""
    return _REGION.sub("", family)


# ----------------------------------------------------------------------------------- selection
def _install_hint(script: str, split: str) -> str:
    return (
        f"no usable {script} font for split {split!r}: install fonts with "
        "`apt-get install fonts-nanum fonts-noto-cjk` (the held-out split also needs fonts-unfonts-core "
        "fonts-baekmuk fonts-liberation fonts-crosextra-carlito) or pass --font-dir DIR "
        f"(a directory of .ttf/.otf/.ttc files; held-out families: {', '.join(HELDOUT_FAMILIES)})"
    )


def select_fonts(script: str, split: str = "train", extra_dirs: Sequence[str] = ()) -> list[FontFace]:
    """Faces covering ``script`` in the ``train``, ``heldout`` or ``all`` split.

    Raises :class:`KocrError` saying what to install when there is none.
    """
    if split not in ("train", "heldout", "all"):
        raise KocrError(f"unknown font split {split!r}: use train, heldout or all")
    faces = [f for f in discover_fonts(tuple(extra_dirs)) if script in f.scripts]
    if split == "train":
        faces = [f for f in faces if not is_heldout(f.family)]
    elif split == "heldout":
        faces = [f for f in faces if is_heldout(f.family)]
    if not faces:
        raise KocrError(_install_hint(script, split))
    return faces


def _face_weight(face: FontFace) -> float:
    w = 1.0
    if face.weight < 300:
        w *= 0.25  # hairline weights vanish under blur: some, not many
    elif face.weight >= 700:
        w *= 0.6
    if face.italic:
        w *= 0.3
    return w


class FontPool:
    """Faces to draw from, sampled family first (weighted by :data:`FAMILY_WEIGHTS`), then face."""

    def __init__(self, faces: Sequence[FontFace]) -> None:
        if not faces:
            raise KocrError("a font pool needs at least one face")
        groups: dict[str, list[FontFace]] = {}
        for f in faces:
            groups.setdefault(design_of(f.family), []).append(f)
        self.designs = sorted(groups)
        self.faces = {d: groups[d] for d in self.designs}
        self.design_weights = [FAMILY_WEIGHTS.get(d, 1.0) for d in self.designs]
        self.face_weights = {d: [_face_weight(f) for f in groups[d]] for d in self.designs}

    def __len__(self) -> int:
        return sum(len(v) for v in self.faces.values())

    def __iter__(self):
        for d in self.designs:
            yield from self.faces[d]

    def choose(self, rng: random.Random, text: str | None = None, tries: int = 12) -> FontFace | None:
        """A face that covers ``text`` (any face when None); None when ``tries`` draws all lack a character."""
        for _ in range(tries):
            design = rng.choices(self.designs, self.design_weights)[0]
            face = rng.choices(self.faces[design], self.face_weights[design])[0]
            if text is None or face.covers(text):
                return face
        if text is not None:  # the rare string few faces cover: look through all of them, in order
            able = [f for f in self if f.covers(text)]
            if able:
                return rng.choice(able)
        return None

    def subset(self, keep) -> "FontPool | None":
        """The faces for which ``keep(face)`` holds, or None when there are none."""
        faces = [f for f in self if keep(f)]
        return FontPool(faces) if faces else None


@functools.lru_cache(maxsize=None)
def font_pool(script: str, split: str = "train", extra_dirs: tuple[str, ...] = ()) -> FontPool:
    """The :class:`FontPool` of ``script`` faces in ``split`` (cached per process)."""
    return FontPool(select_fonts(script, split, extra_dirs))
