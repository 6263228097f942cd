"""The wheels a bundle carries: what the training path imports that a machine with torch lacks.

Found by running the crop trainers in a virtual environment holding only torch (and kept honest
by tests/test_bundle.py, which does exactly that): numpy, Pillow, OpenCV, fontTools (font
discovery reads each face's cmap), pydantic with pydantic-settings, PyYAML, click, safetensors
and RapidFuzz (the recogniser's validation), with their own dependencies. Not needed there, so
not packed: wordfreq and faker (the bundle carries their lists), rich (the run is quiet; the
launcher reports progress), scipy, scikit-learn, spaCy, transformers and the rest of the reading
pipeline — ``import kocr_sdk`` loads none of it.

The versions are the newest that kocr's requirements allow with a wheel for the target
(``--python-version``, ``--platform``), except :data:`SIZE_PINS`. Every wheel is then re-packed
with LZMA instead of deflate — the same files, a valid wheel pip installs as any other — which
is what lets OpenCV, NumPy and Pillow fit a 64 MiB bundle with the fonts. Both steps are cached
in ``$KOCR_CACHE_DIR/bundle-wheels``: re-packing OpenCV takes minutes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable, Sequence

from ...errors import KocrError

__all__ = ["RUNTIME", "SIZE_PINS", "requirement_specs", "fetch_wheels", "recompress"]

#: Distributions the crop trainers import (their dependencies come with them).
RUNTIME = ("numpy", "pillow", "opencv-python-headless", "fonttools", "pydantic", "pydantic-settings", "pyyaml",
           "click", "safetensors", "rapidfuzz")
#: Versions chosen for size. OpenCV 4.10.0.84 is the oldest release built for NumPy 2 and 7 MB
#: (compressed) smaller than the 5.x wheels: enough to keep one face of every font design.
SIZE_PINS = {"opencv-python-headless": "==4.10.0.84"}
#: Distributions whose pure-Python wheel does the same work: fontTools' compiled parts only speed
#: up what font discovery does once.
PURE = ("fonttools",)
#: What the bundle never carries: the machine brings its own torch (and CUDA).
NEVER = re.compile(r"^(torch|triton|nvidia[-_].*)$", re.I)

_NAME = re.compile(r"^([A-Za-z0-9_.]+)-([^-]+)-")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_name(path: Path | str) -> tuple[str, str]:
    """(canonical distribution name, version) of a wheel file."""
    match = _NAME.match(Path(path).name)
    if not match:
        raise KocrError(f"not a wheel file name: {Path(path).name}")
    return _canonical(match.group(1)), match.group(2)


def _kocr_requirements() -> list[str]:
    from importlib.metadata import PackageNotFoundError, requires

    try:
        return [r for r in requires("kocr-sdk") or [] if "extra ==" not in r]
    except PackageNotFoundError:
        pass
    pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise KocrError("kocr-sdk is not installed and this Python has no tomllib to read pyproject.toml") from None
    try:
        return list(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"])
    except (OSError, KeyError) as exc:
        raise KocrError(f"cannot read kocr's requirements ({exc})") from None


def requirement_specs(names: Sequence[str] = RUNTIME) -> list[str]:
    """kocr's requirement for each of ``names`` (a :data:`SIZE_PINS` pin instead where there is one)."""
    found: dict[str, str] = {}
    for req in _kocr_requirements():
        match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req.split(";")[0])
        if match:
            found[_canonical(match.group(1))] = match.group(2).strip()
    specs = []
    for name in names:
        key = _canonical(name)
        if key not in found:
            raise KocrError(f"{name} is not among kocr's requirements")
        specs.append(f"{name}{SIZE_PINS.get(key, found[key])}")
    return specs


def _cache_dir() -> Path:
    root = os.environ.get("KOCR_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "kocr")
    return Path(root) / "bundle-wheels"


def _pip(args: list[str]) -> None:
    cmd = [sys.executable, "-m", "pip", *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["(no output)"]
        raise KocrError(f"pip download failed: {tail[0]} (command: {' '.join(cmd)})")


def fetch_wheels(specs: Sequence[str], python_version: str, platform: str, find_links: Path | None = None,
                 refresh: bool = False, progress: Callable[[str], None] | None = None) -> list[Path]:
    """The LZMA-re-packed wheels of ``specs`` and their dependencies for ``python_version`` on ``platform``.

    ``pip download`` resolves them (from the indexes pip is configured with, or only from
    ``find_links`` when given); the result is cached by (specs, target), so a second pack needs
    no network unless ``refresh``.
    """
    cache = _cache_dir()
    key = hashlib.sha256(json.dumps([sorted(specs), python_version, platform,
                                     str(find_links) if find_links else None]).encode()).hexdigest()[:24]
    listing = cache / f"set-{key}.json"
    if listing.is_file() and not refresh:
        files = [cache / "lzma" / name for name in json.loads(listing.read_text())]
        if all(f.is_file() for f in files):
            return files
    target = ["--only-binary=:all:", "--python-version", python_version, "--platform", platform]
    source = ["--no-index", "--find-links", str(find_links)] if find_links else []
    with tempfile.TemporaryDirectory(prefix="kocr-wheels-") as tmp:
        if progress:
            progress(f"pip download: {', '.join(specs)} (Python {python_version}, {platform})")
        _pip(["download", "-q", "--disable-pip-version-check", *target, "--implementation", "cp", *source,
              "--dest", tmp, *specs])
        downloaded = sorted(Path(tmp).glob("*.whl"))
        if any(NEVER.match(wheel_name(w)[0]) for w in downloaded):
            names = [w.name for w in downloaded if NEVER.match(wheel_name(w)[0])]
            raise KocrError(f"a bundled requirement pulls in {', '.join(names)}; the machine brings its own torch")
        for wheel in list(downloaded):
            name, version = wheel_name(wheel)
            if name in PURE and not wheel.name.endswith("-none-any.whl"):
                pure = Path(tmp) / "pure"
                _pip(["download", "-q", "--disable-pip-version-check", "--no-deps", "--only-binary=:all:",
                      "--python-version", python_version, "--implementation", "py", "--abi", "none", "--platform",
                      "any", *source, "--dest", str(pure), f"{name}=={version}"])
                downloaded.remove(wheel)
                downloaded += sorted(pure.glob("*.whl"))
        files = []
        for i, wheel in enumerate(downloaded):
            if progress:
                progress(f"re-packing wheels with LZMA ({i + 1}/{len(downloaded)}): {wheel.name}")
            files.append(recompress(wheel, cache / "lzma"))
    listing.parent.mkdir(parents=True, exist_ok=True)
    listing.write_text(json.dumps([f.name for f in files]))
    return files


def recompress(wheel: Path, dest: Path) -> Path:
    """``wheel`` with every member LZMA-compressed (same names, bytes, order and modes), in ``dest``;
    an existing one is reused (wheel names are unique per build)."""
    out = dest / wheel.name
    if out.is_file():
        return out
    dest.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_LZMA) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, info.date_time)
            member.external_attr, member.compress_type = info.external_attr, zipfile.ZIP_LZMA
            dst.writestr(member, src.read(info))
    os.replace(tmp, out)
    return out


def copy_wheels(files: Sequence[Path], dest: Path) -> list[dict]:
    """Copy ``files`` into ``dest``; return their manifest entries (name, version, file, bytes)."""
    dest.mkdir(parents=True, exist_ok=True)
    entries = []
    for f in sorted(files, key=lambda p: p.name):
        shutil.copyfile(f, dest / f.name)
        name, version = wheel_name(f)
        entries.append({"name": name, "version": version, "file": f.name, "bytes": f.stat().st_size})
    return entries
