"""The fonts a bundle carries: the run's faces, cut down to the characters its generator can draw.

A run draws with the faces :func:`~kocr_sdk.lab.synth.fonts.select_fonts` gives it — the
training split for its samples and, when the trainer validates, the held-out split — and only
ever prints characters of its text generator (KS X 1001 Hangul, printable ASCII, the document
symbols, the word and name lists it carries, Han and Kana where it draws them). Each face is
subset with fontTools to those characters and nothing else: no hinting, no OpenType layout
tables (the renderer lays text out with FreeType's basic engine, which reads only ``cmap``,
glyphs, metrics and ``kern``), no embedded bitmaps. Family and style names stay, so the
held-out split still excludes the held-out designs by name, and a subset face covers exactly
the strings the full face covers among those the generator can print.

When every face does not fit the size budget, faces are chosen design by design
(:func:`choose`): first the most regular face (upright, weight nearest 400) of every design of
both splits, then each design's next face, round after round, while they fit. A pool samples a
design first and then one of its faces, so leaving a face out changes the variety of weights
inside a design, never how often the design is drawn. Regional copies of one design (Noto Sans
CJK KR/JP/SC/TC/HK) have the same Hangul and Latin glyphs; a run that draws no Han or Kana keeps
the KR one.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import lzma
import os
import re
import tarfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ...errors import KocrError
from ...fonts import FontFace
from ..synth.fonts import design_of, select_fonts

__all__ = ["PackedFace", "FontChoice", "candidates", "subset_face", "choose", "write_archive", "ARCHIVE"]

#: The fonts' archive in a bundle (xz: subset TrueType outlines compress to about a third).
ARCHIVE = "fonts.tar.xz"
#: Bumped whenever what :func:`subset_face` writes changes (the cache key includes it).
SUBSET_VERSION = 1

_REGION = re.compile(r" (KR|JP|SC|TC|HK)(?= |$)")
_REGION_ORDER = {"KR": 0, "JP": 1, "SC": 2, "TC": 3, "HK": 4}
_DROPPED_TABLES = ("DSIG", "GSUB", "GPOS", "GDEF", "BASE", "JSTF", "MATH", "VORG", "vhea", "vmtx", "EBDT",
                   "EBLC", "EBSC", "CBDT", "CBLC", "sbix", "hdmx", "LTSH", "VDMX", "PCLT")


@dataclass
class PackedFace:
    """One face as the bundle packs it (or left out): where it came from and what it weighs."""

    family: str
    style: str
    design: str
    split: str
    weight: int
    italic: bool
    source: str
    index: int
    file: str = ""
    glyphs: int = 0
    bytes: int = 0
    packed_bytes: int = 0
    reason: str = ""

    @property
    def name(self) -> str:
        return self.family if self.style in ("", "Regular") else f"{self.family} {self.style}"


@dataclass
class FontChoice:
    """The faces a bundle packs and those it leaves out, with why."""

    packed: list[PackedFace] = field(default_factory=list)
    left_out: list[PackedFace] = field(default_factory=list)

    def as_dict(self) -> dict:
        keep = ("file", "family", "style", "design", "split", "weight", "italic", "glyphs", "bytes", "packed_bytes")
        return {"packed": [{k: v for k, v in asdict(f).items() if k in keep} for f in self.packed],
                "left_out": [{"name": f.name, "design": f.design, "split": f.split, "reason": f.reason,
                              "packed_bytes": f.packed_bytes} for f in self.left_out]}


def _region_key(face: FontFace) -> tuple[str, str]:
    return _REGION.sub("", face.family), face.style


def candidates(scripts: Iterable[str], splits: Iterable[str], regional: bool) -> tuple[list[PackedFace], list[PackedFace]]:
    """The faces a run draws with — every face covering one of ``scripts`` in each of ``splits`` —
    and, unless ``regional``, the regional copies left out (the KR face of each kept)."""
    seen: dict[tuple[str, int], PackedFace] = {}
    for split in splits:
        for script in scripts:
            try:
                faces = select_fonts(script, split)
            except KocrError:
                if script in ("han", "kana"):
                    continue  # the generator skips those kinds when no face covers them
                raise
            for face in faces:
                key = (face.path, face.index)
                if key not in seen:
                    seen[key] = PackedFace(face.family, face.style, design_of(face.family), split, face.weight,
                                           face.italic, face.path, face.index)
    faces = list(seen.values())
    left: list[PackedFace] = []
    if not regional:
        groups: dict[tuple[str, str, str], list[PackedFace]] = {}
        for f in faces:
            groups.setdefault((f.split, _REGION.sub("", f.family), f.style), []).append(f)
        keep = []
        for group in groups.values():
            group.sort(key=lambda f: (_REGION_ORDER.get(m.group(1), 9) if (m := _REGION.search(f.family)) else -1))
            keep.append(group[0])
            for dup in group[1:]:
                dup.reason = f"regional copy of {group[0].name}: the same Hangul and Latin glyphs (the run draws no Han/Kana)"
                left.append(dup)
        faces = keep
    faces.sort(key=lambda f: (f.split, f.design, f.italic, abs(f.weight - 400), f.name))
    return faces, left


def _cache_dir() -> Path:
    root = os.environ.get("KOCR_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "kocr")
    return Path(root) / "bundle-fonts"


def subset_face(face: PackedFace, characters: str) -> bytes:
    """``face`` cut down to the ``characters`` it has, glyphs only (see the module's docstring).

    Cached in ``$KOCR_CACHE_DIR/bundle-fonts`` by file, size, mtime, face index and character set:
    a CJK face takes seconds to subset, and a second pack of the same run reuses them all.
    """
    st = os.stat(face.source)
    key = hashlib.sha256(json.dumps([SUBSET_VERSION, face.source, face.index, st.st_size, int(st.st_mtime),
                                     hashlib.sha256(characters.encode()).hexdigest()]).encode()).hexdigest()[:32]
    cached = _cache_dir() / f"{key}.font"
    if cached.is_file():
        return cached.read_bytes()
    quiet = logging.getLogger("fontTools")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "timestamp seems very low", "TSI0 NOT subset": true of many fonts, not news
    try:
        data = _subset(face, characters)
    finally:
        quiet.setLevel(level)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, cached)
    except OSError:  # a read-only cache only makes the next pack slower
        pass
    return data


def _subset(face: PackedFace, characters: str) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(face.source, fontNumber=face.index, lazy=False)
    cmap = font.getBestCmap() or {}
    options = subset.Options()
    options.name_IDs = ["*"]  # typographic family (16) and style (17) decide the split and the design
    options.name_languages = ["*"]
    options.name_legacy = True
    options.hinting = False
    options.layout_features = []
    options.notdef_outline = True
    options.drop_tables = [*options.drop_tables, *_DROPPED_TABLES]
    options.ignore_missing_unicodes = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in characters if ord(c) in cmap])
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def _file_name(face: PackedFace, data: bytes, taken: set[str]) -> str:
    stem = Path(face.source).stem + (f"-{face.index}" if Path(face.source).suffix.lower() in (".ttc", ".otc") else "")
    suffix = ".otf" if data[:4] == b"OTTO" else ".ttf"
    name, n = f"{stem}{suffix}", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}{suffix}"
    taken.add(name)
    return name


def choose(faces: Sequence[PackedFace], characters: str, budget: int,
           progress: Callable[[str], None] | None = None) -> tuple[FontChoice, dict[str, bytes]]:
    """The faces to pack within ``budget`` bytes (xz-compressed), design by design, and their subset data.

    Raises :class:`KocrError` when even one face of every design does not fit: a bundle without a
    design would train a different model, so that is a choice to make (a larger ``--max-mib``),
    not one to make silently.
    """
    by_design: dict[tuple[str, str], list[PackedFace]] = {}
    for f in faces:
        by_design.setdefault((f.split, f.design), []).append(f)
    from fontTools.ttLib import TTFont

    data: dict[int, bytes] = {}
    for i, f in enumerate(faces):
        if progress is not None and i % 10 == 0:
            progress(f"subsetting fonts: {i}/{len(faces)} faces")
        raw = subset_face(f, characters)
        data[id(f)] = raw
        f.bytes = len(raw)
        f.packed_bytes = len(lzma.compress(raw, preset=6))
        f.glyphs = len(TTFont(io.BytesIO(raw), lazy=True).getGlyphOrder())
    choice = FontChoice()
    first = [group[0] for group in by_design.values()]
    need = sum(f.packed_bytes for f in first)
    if need > budget:
        raise KocrError(f"one face of each of the run's {len(first)} font designs needs {need / 2**20:.1f} MiB "
                        f"compressed; {max(budget, 0) / 2**20:.1f} MiB are left for fonts: raise --max-mib")
    used = 0
    rounds = max(len(group) for group in by_design.values()) if by_design else 0
    for r in range(rounds):
        for group in by_design.values():
            if r >= len(group):
                continue
            f = group[r]
            if used + f.packed_bytes <= budget:
                choice.packed.append(f)
                used += f.packed_bytes
            else:
                f.reason = (f"size: {f.packed_bytes / 1e3:.0f} kB compressed; the {f.design} design keeps "
                            f"{', '.join(g.name for g in group if g in choice.packed) or 'other faces'}")
                choice.left_out.append(f)
    taken: set[str] = set()
    files: dict[str, bytes] = {}
    for f in choice.packed:
        f.file = _file_name(f, data[id(f)], taken)
        files[f.file] = data[id(f)]
    choice.packed.sort(key=lambda f: f.file)
    return choice, files


def write_archive(path: Path, files: dict[str, bytes]) -> int:
    """Write ``files`` as one xz tar (names sorted, fixed times: the same fonts give the same bytes)."""
    with lzma.open(path, "wb", preset=9) as xz, tarfile.open(fileobj=xz, mode="w") as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o644, 0
            tar.addfile(info, io.BytesIO(files[name]))
    return path.stat().st_size
