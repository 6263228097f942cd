"""Fonts on this machine: what each covers, and which designs are held out from training.

Three rules keep the data honest:

1. **No tofu.** Each face's coverage is read from its cmap with fontTools. A face joins a
   script's pool only if it covers that script's reference set entirely (all 2,350 KS X 1001
   syllables for Hangul, printable ASCII for Latin; :mod:`.charsets`), and every single string
   is checked again (:meth:`FontFace.covers`) before it is drawn with a face — a string with a
   character the face lacks goes to another face or is redrawn, never rendered as boxes. The
   renderer refuses glyphs that come out empty as well (:mod:`.render`).
2. **Held-out designs.** Fonts are held out *by family name* (:data:`HELDOUT_FAMILIES`), with a
   design's variants and metric twins on the same side (Noto Serif CJK KR/JP/SC/TC/HK share
   their Hangul; Liberation Serif and Tinos are the same design under two names), so that
   evaluation (``split="heldout"``) always uses designs no model trained on.
3. **Families, not files, are sampled.** A family with ten weights is not ten times as likely
   as one with a single file: :class:`FontPool` picks a family first, then one of its faces.

Discovery reads a few hundred font files (5 s for the CJK collections); its result is cached
in ``$KOCR_CACHE_DIR`` (default ``~/.cache/kocr``), keyed by each file's path, size and mtime,
so DataLoader workers start in well under a second.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from ..errors import KocrError
from .charsets import coverage_sets

__all__ = [
    "FontFace", "FontPool", "HELDOUT_FAMILIES", "EXCLUDED_FAMILIES", "HANDWRITING_FAMILIES",
    "discover_fonts", "select_fonts", "font_pool", "is_heldout", "FONT_DIRS",
]

#: Where fonts are looked for, besides ``--font-dir`` directories.
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts",
             Path.home() / ".local/share/fonts")
SUFFIXES = {".ttf", ".otf", ".ttc", ".otc"}

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

#: Symbol and dingbat faces map letters to pictures: never text.
EXCLUDED_FAMILIES = frozenset({"D050000L", "Standard Symbols PS", "DejaVu Math TeX Gyre"})

#: Handwriting-like designs: pages use them for filled-in values and signatures.
HANDWRITING_FAMILIES = frozenset({
    "Nanum Pen Script", "Nanum Brush Script", "NanumBarunpen", "UnPen", "UnPenheulim", "UnPilgi", "UnPilgia",
})

#: Sampling weight of a family relative to 1.0: display, archaic and calligraphic designs are
#: rare on documents, and the YetHangul/Eco variants repeat another family's design.
FAMILY_WEIGHTS: dict[str, float] = {
    "Z003": 0.2, "UnYetgul": 0.3, "UnGraphic": 0.5, "UnDinaru": 0.5, "UnJamoNovel": 0.4, "UnJamoSora": 0.4,
    "UnGungseo": 0.5, "Baekmuk Headline": 0.5, "Nanum Brush Script": 0.6, "UnPilgia": 0.5,
    "NanumBarunGothic YetHangul": 0.2, "NanumMyeongjo YetHangul": 0.2, "NanumGothic Eco": 0.3,
    "NanumMyeongjo Eco": 0.3, "NanumSquare_ac": 0.5, "URW Gothic": 0.6, "URW Bookman": 0.7,
}

_CACHE_VERSION = 2
_REGION = re.compile(r" (KR|JP|SC|TC|HK)$")


def is_heldout(family: str) -> bool:
    """Whether ``family`` belongs to a held-out design."""
    return family.startswith(HELDOUT_FAMILIES)


def design_of(family: str) -> str:
    """The design a family belongs to: regional CJK variants are one design (same Hangul, same Latin)."""
    return _REGION.sub("", family)


@dataclass(frozen=True, eq=False)
class FontFace:
    """One face of a font file (a ``.ttc`` holds several) and what it covers.

    ``scripts`` names the reference sets the face covers *entirely*; :meth:`covers` answers for
    any particular string.
    """

    path: str
    index: int
    family: str
    style: str
    scripts: frozenset[str]
    mono: bool
    weight: int = 400
    italic: bool = False
    _bmp: bytes = field(default=b"", repr=False)
    _astral: frozenset[int] = field(default=frozenset(), repr=False)

    @property
    def heldout(self) -> bool:
        return is_heldout(self.family)

    @property
    def design(self) -> str:
        return design_of(self.family)

    @property
    def handwriting(self) -> bool:
        return self.family in HANDWRITING_FAMILIES

    @property
    def name(self) -> str:
        """``Family Style`` — how ground truth records the face."""
        return self.family if self.style in ("", "Regular") else f"{self.family} {self.style}"

    def covers(self, text: str) -> bool:
        """Whether every non-space character of ``text`` has a glyph in this face."""
        bmp = self._bmp
        for ch in text:
            o = ord(ch)
            if o < 0x10000:
                if not bmp[o] and not ch.isspace():
                    return False
            elif o not in self._astral:
                return False
        return True

    def __hash__(self) -> int:
        return hash((self.path, self.index))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FontFace) and (self.path, self.index) == (other.path, other.index)


# ----------------------------------------------------------------------------------- discovery
def _cache_path() -> Path:
    root = os.environ.get("KOCR_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "kocr")
    return Path(root) / "fonts.json"


def _ranges(codes: Iterable[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for c in sorted(codes):
        if out and c == out[-1][1] + 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def _read_file(path: Path) -> list[dict]:
    """Every face of one font file, with its cmap as code-point ranges."""
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() in (".ttc", ".otc"):
        fonts = TTCollection(str(path), lazy=True).fonts
    else:
        fonts = [TTFont(str(path), lazy=True)]
    faces = []
    for index, font in enumerate(fonts):
        name = font["name"]
        family = (name.getDebugName(16) or name.getDebugName(1) or path.stem).strip()
        style = (name.getDebugName(17) or name.getDebugName(2) or "Regular").strip()
        cmap = font.getBestCmap() or {}
        advances = set()
        try:
            hmtx = font["hmtx"]
            advances = {hmtx[cmap[ord(c)]][0] for c in "iMW.0" if ord(c) in cmap}
        except Exception:  # no hmtx (bitmap-only face): treat as proportional
            advances = {0, 1}
        os2 = font["OS/2"] if "OS/2" in font else None
        weight = int(getattr(os2, "usWeightClass", 400) or 400)
        italic = bool(getattr(os2, "fsSelection", 0) & 1) or bool(getattr(font.get("post"), "italicAngle", 0))
        faces.append({"index": index, "family": family, "style": style, "mono": len(advances) == 1,
                      "weight": weight, "italic": italic, "cmap": _ranges(cmap)})
    return faces


def _load_cache() -> dict:
    try:
        data = json.loads(_cache_path().read_text(encoding="utf-8"))
        return data["files"] if data.get("version") == _CACHE_VERSION else {}
    except Exception:  # missing, unreadable or from another version: rebuild
        return {}


def _save_cache(files: dict) -> None:
    path = _cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"version": _CACHE_VERSION, "files": files}), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:  # a read-only home is no reason to fail; discovery just stays slow
        pass


def _face_from_entry(path: str, entry: dict) -> FontFace:
    bmp = bytearray(0x10000)
    astral = set()
    for lo, hi in entry["cmap"]:
        if lo < 0x10000:
            bmp[lo:min(hi, 0xFFFF) + 1] = b"\x01" * (min(hi, 0xFFFF) - lo + 1)
        if hi >= 0x10000:
            astral.update(range(max(lo, 0x10000), hi + 1))
    scripts = frozenset(s for s, chars in coverage_sets().items() if all(bmp[ord(c)] for c in chars))
    return FontFace(path, entry["index"], entry["family"], entry["style"], scripts, entry["mono"], entry["weight"],
                    entry["italic"], bytes(bmp), frozenset(astral))


@functools.lru_cache(maxsize=None)
def discover_fonts(extra_dirs: tuple[str, ...] = ()) -> tuple[FontFace, ...]:
    """Every usable face under :data:`FONT_DIRS` and ``extra_dirs`` (at least Latin-capable).

    Files are visited in sorted path order, so the result — and everything sampled from it — is
    the same on every run with the same fonts installed.
    """
    files = []
    for root in [*FONT_DIRS, *map(Path, extra_dirs)]:
        if root.is_dir():
            files += [p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()]
    cache = _load_cache()
    changed = False
    faces: list[FontFace] = []
    for path in sorted(set(files)):
        key = str(path)
        st = path.stat()
        stamp = f"{st.st_size}:{int(st.st_mtime)}"
        entry = cache.get(key)
        if entry is None or entry.get("stamp") != stamp:
            try:
                entry = {"stamp": stamp, "faces": _read_file(path)}
            except Exception:  # a broken font file is skipped, not fatal
                entry = {"stamp": stamp, "faces": []}
            cache[key] = entry
            changed = True
        for face_entry in entry["faces"]:
            if face_entry["family"] in EXCLUDED_FAMILIES:
                continue
            face = _face_from_entry(key, face_entry)
            if "latin" in face.scripts or "hangul" in face.scripts:
                faces.append(face)
    if changed:
        _save_cache(cache)
    return tuple(faces)


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
        faces = [f for f in faces if not f.heldout]
    elif split == "heldout":
        faces = [f for f in faces if f.heldout]
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
            groups.setdefault(f.design, []).append(f)
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


def fonts_fingerprint(faces: Iterable[FontFace]) -> str:
    """A short hash of which faces a generator draws from: two runs with the same fingerprint and
    seed give identical samples (the fingerprint changes when fonts are installed or removed)."""
    h = hashlib.sha1()
    for f in faces:
        h.update(f"{Path(f.path).name}:{f.index}:{f.family};".encode())
    return h.hexdigest()[:12]
