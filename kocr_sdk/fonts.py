"""Fonts installed on this machine, and what each one covers.

Each face's coverage is read from its cmap with fontTools, so a caller can ask whether a face
has a glyph for every character of a string (:meth:`FontFace.covers`) before drawing it: the
overlay picks a face that can write Hangul, Latin and digits, and the data generator never
renders a character as an empty box.

Discovery reads a few hundred font files (5 s for the CJK collections); its result is cached in
``$KOCR_CACHE_DIR`` (default ``~/.cache/kocr``), keyed by each file's path, size and mtime.

``$KOCR_FONT_DIRS`` (directories separated by ``os.pathsep``) replaces the system's font
directories, and set but empty it removes them: a training bundle's run draws with exactly the
fonts it packed, whatever the machine has installed (docs/training.md).
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .vocabulary.charsets import coverage_sets

__all__ = ["FontFace", "FONT_DIRS", "FONT_DIRS_ENV", "EXCLUDED_FAMILIES", "HANDWRITING_FAMILIES", "discover_fonts",
           "font_dirs"]

#: Where fonts are looked for, besides directories a caller adds.
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts",
             Path.home() / ".local/share/fonts")

#: The environment variable that, when set, replaces :data:`FONT_DIRS` (empty: no system fonts).
FONT_DIRS_ENV = "KOCR_FONT_DIRS"
SUFFIXES = {".ttf", ".otf", ".ttc", ".otc"}

#: Symbol and dingbat faces map letters to pictures: never text.
EXCLUDED_FAMILIES = frozenset({"D050000L", "Standard Symbols PS", "DejaVu Math TeX Gyre"})

#: Handwriting-like designs: the generator uses them for filled-in values, the overlay never.
HANDWRITING_FAMILIES = frozenset({
    "Nanum Pen Script", "Nanum Brush Script", "NanumBarunpen", "UnPen", "UnPenheulim", "UnPilgi", "UnPilgia",
})

_CACHE_VERSION = 2


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


def font_dirs() -> tuple[Path, ...]:
    """The system font directories: :data:`FONT_DIRS`, or those ``$KOCR_FONT_DIRS`` names when it is set."""
    value = os.environ.get(FONT_DIRS_ENV)
    if value is None:
        return FONT_DIRS
    return tuple(Path(part) for part in value.split(os.pathsep) if part.strip())


def discover_fonts(extra_dirs: tuple[str, ...] = ()) -> tuple[FontFace, ...]:
    """Every usable face under :func:`font_dirs` and ``extra_dirs`` (at least Latin-capable).

    Files are visited in sorted path order, so the result — and everything sampled from it — is
    the same on every run with the same fonts installed.
    """
    return _discover((*font_dirs(), *map(Path, extra_dirs)))


@functools.lru_cache(maxsize=None)
def _discover(roots: tuple[Path, ...]) -> tuple[FontFace, ...]:
    """:func:`discover_fonts` for these directories (cached per process: the directories are the key,
    so changing ``$KOCR_FONT_DIRS`` is seen)."""
    files = []
    for root in roots:
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
