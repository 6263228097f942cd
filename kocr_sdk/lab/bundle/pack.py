"""Packing a training run into one folder that trains on a machine with torch and nothing else.

What goes in (docs/training.md, "Training on an offline GPU machine"):

- ``run.py`` — the launcher (standard library only until it has installed the wheels);
- ``bundle.json`` — what the bundle holds, what it weighs and what it left out;
- ``config.yaml`` — the run's config, the shared options laid over it;
- ``project/`` — the ``kocr_sdk`` source and ``pyproject.toml`` (no weights, tests, docs or caches);
- ``wheels/`` — the wheels the training path imports, LZMA-re-packed (:mod:`.wheels`);
- ``fonts.tar.xz`` — the run's faces, subset to what its generator can draw (:mod:`.fonts`);
- ``text/`` — the word and name lists in place of wordfreq and faker (:mod:`..synth.textdata`).

The whole folder must stay within ``max_bytes`` (64 MiB by default: what fits the media such
machines are reached with); the fonts get what the rest leaves.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ...errors import KocrError
from . import fonts as bundle_fonts
from . import wheels as bundle_wheels

__all__ = ["MODELS", "BundleModel", "pack", "folder_size", "size_report", "run_characters", "MAX_BYTES"]

#: The default limit on a bundle's size.
MAX_BYTES = 64 * 2**20
#: Room kept for bundle.json, written last.
_MANIFEST_ROOM = 256 * 1024
_SKIP_DIRS = {"__pycache__", "weights", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo", ".so", ".pt", ".safetensors", ".onnx"}


@dataclass(frozen=True)
class BundleModel:
    """What packing needs to know about one ``kocr train`` command."""

    command: str
    config: str  # "module:Class" under kocr_sdk.lab.training
    validates: bool  # validation draws held-out fonts

    def config_class(self) -> type:
        import importlib

        module, name = self.config.split(":")
        return getattr(importlib.import_module(f"kocr_sdk.lab.training.{module}"), name)

    def scripts(self, cfg: Any) -> tuple[str, ...]:
        """The font pools the run draws with (its crop profile's)."""
        profile = "script" if self.command == "script-id" else cfg.script
        if profile == "script":
            return ("hangul", "latin", "han", "kana")
        return ("latin",) if profile == "latin" else ("hangul", "latin")

    def languages(self, cfg: Any) -> tuple[str, ...]:
        """The wordfreq languages the run's text draws (``TextSource`` always loads ko and en)."""
        return ("ko", "en", "ja", "zh") if "han" in self.scripts(cfg) else ("ko", "en")

    def export_name(self, cfg: Any) -> str:
        if self.command == "recognizer":
            return f"{cfg.arch}-{cfg.charset or cfg.script}.safetensors"
        if self.command == "recognizer-pretrain":
            return f"{cfg.arch}-{cfg.script}-encoder.safetensors"
        return "script-id.safetensors"


#: The commands a bundle can run: the crop trainers. The detector's validation needs scipy and the
#: NER trainer transformers, which with OpenCV and NumPy do not fit 64 MiB.
MODELS: dict[str, BundleModel] = {
    "recognizer": BundleModel("recognizer", "recognizer:RecognizerTrainConfig", True),
    "recognizer-pretrain": BundleModel("recognizer-pretrain", "seqclr:PretrainConfig", False),
    "script-id": BundleModel("script-id", "script_id:ScriptIdTrainConfig", True),
}


def folder_size(path: Path) -> int:
    """Bytes of every file under ``path``."""
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def _portable(cfg: Any) -> None:
    """Refuse what a bundle cannot carry: paths on this machine (``init_from``, a folder of
    unlabelled crops) would not exist on the other."""
    for name, value in cfg.model_dump().items():
        if name in ("out", "resume", "export"):
            continue
        if isinstance(value, Path):
            raise KocrError(f"config: {name}: {value} is a path on this machine, which a bundle does not carry; "
                            "start the run without it (or copy the file and run kocr train there)")
    unlabeled = getattr(cfg, "unlabeled", None)
    if unlabeled and not str(unlabeled).startswith("synth:"):
        raise KocrError(f"config: unlabeled: {unlabeled} is a folder on this machine; a bundle carries synth:N only")


def run_characters(text_dir: Path, han_kana: bool) -> str:
    """Every character the run's generator can print: the reference sets, the recognisers'
    symbols, the strings of the text module and every character of the lists the bundle carries
    (without Han and Kana unless the run draws them)."""
    from ...recognition.charset import CHARSETS
    from ...vocabulary.charsets import COMMON_HAN, DOC_SYMBOLS, KANA, PRINTABLE_ASCII, ks_x_1001_hangul
    from ...vocabulary.scripts import script_of
    from ..synth import text as text_module
    from ..synth.textdata import characters

    chars = {" ", *PRINTABLE_ASCII, *ks_x_1001_hangul(), *DOC_SYMBOLS}
    for make in CHARSETS.values():
        chars.update(make().symbols)
    chars |= _strings_of(vars(text_module).values())
    chars |= characters(text_dir)
    if han_kana:
        chars |= {*COMMON_HAN, *KANA}
    else:
        chars = {c for c in chars if script_of(c) not in ("han", "kana")}
    return "".join(sorted(c for c in chars if c.isprintable() or c == " "))


def _strings_of(values: Any, depth: int = 0) -> set[str]:
    """The characters of the string constants in ``values`` (tuples, lists, dicts of them)."""
    chars: set[str] = set()
    for value in values:
        if isinstance(value, str):
            chars.update(value)
        elif isinstance(value, (tuple, list, frozenset, set)) and depth < 3:
            chars |= _strings_of(value, depth + 1)
        elif isinstance(value, dict) and depth < 3:
            chars |= _strings_of([*value.keys(), *value.values()], depth + 1)
    return chars


def _copy_project(dest: Path) -> None:
    """The kocr_sdk source (no weights, caches or compiled files) and pyproject.toml, LICENSE."""
    import kocr_sdk

    package = Path(kocr_sdk.__file__).resolve().parent
    for src in sorted(package.rglob("*")):
        rel = src.relative_to(package)
        if any(part in _SKIP_DIRS for part in rel.parts) or src.suffix in _SKIP_SUFFIXES or not src.is_file():
            continue
        target = dest / "kocr_sdk" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    for name in ("pyproject.toml", "LICENSE"):
        if (package.parent / name).is_file():
            shutil.copyfile(package.parent / name, dest / name)


def _write_config(cfg: Any, path: Path) -> None:
    import yaml

    data = cfg.model_dump(mode="json", exclude={"out", "resume", "export", "progress"})
    path.write_text("# The run's config, packed by `kocr train bundle`; run.py passes --out and --export.\n"
                    + yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def pack(model: str, cfg: Any, out: Path, *, max_bytes: int = MAX_BYTES, python_version: str = "3.11",
         platform: str = "manylinux2014_x86_64", wheels_from: Path | None = None, refresh_wheels: bool = False,
         with_wheels: bool = True, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write the bundle of a ``model`` run with config ``cfg`` to ``out`` (a new or empty folder);
    return its manifest (also written to ``out/bundle.json``).

    ``with_wheels=False`` packs no wheels (for a machine that has kocr's requirements, and for
    tests); the size limit then still counts what the wheels would not take.
    """
    from importlib.metadata import PackageNotFoundError, version

    from ..synth import textdata
    from . import run as launcher

    if model not in MODELS:
        raise KocrError(f"no bundle for {model!r}: choose from {', '.join(MODELS)}")
    kind = MODELS[model]
    _portable(cfg)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise KocrError(f"{out} exists and is not an empty folder; give a new one")
    say = progress or (lambda _message: None)
    out.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(launcher.__file__, out / "run.py")
        _write_config(cfg, out / "config.yaml")
        _copy_project(out / "project")
        say("extracting the word and name lists")
        text = textdata.extract(out / "text", kind.languages(cfg))
        wheel_entries: list[dict] = []
        if with_wheels:
            specs = bundle_wheels.requirement_specs()
            files = bundle_wheels.fetch_wheels(specs, python_version, platform, wheels_from, refresh_wheels, say)
            wheel_entries = bundle_wheels.copy_wheels(files, out / "wheels")
        used = folder_size(out)
        budget = max_bytes - used - _MANIFEST_ROOM
        scripts = kind.scripts(cfg)
        han_kana = "han" in scripts
        splits = ("train", "heldout") if kind.validates else ("train",)
        faces, regional = bundle_fonts.candidates(scripts, splits, regional=han_kana)
        chars = run_characters(out / "text", han_kana)
        choice, files_data = bundle_fonts.choose(faces, chars, budget, say)
        choice.left_out[:0] = regional
        bundle_fonts.write_archive(out / bundle_fonts.ARCHIVE, files_data)
        try:
            kocr_version = version("kocr-sdk")
        except PackageNotFoundError:
            import kocr_sdk

            kocr_version = kocr_sdk.__version__
        manifest = {
            "format": 1,
            "kocr": kocr_version,
            "model": model,
            "command": [kind.command],
            "config": "config.yaml",
            "export": kind.export_name(cfg),
            "device": cfg.device,
            "python": python_version,
            "platform": platform,
            "torch": _torch_requirement(),
            "wheels": wheel_entries,
            "fonts": {"archive": bundle_fonts.ARCHIVE, "scripts": list(scripts), "splits": list(splits),
                      "characters": len(chars), **choice.as_dict()},
            "text": {"dir": "text", **text},
        }
        for _ in range(3):  # the manifest counts its own bytes: write until the count holds
            manifest["sizes"] = _sizes(out)
            (out / "bundle.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
            if _sizes(out) == manifest["sizes"]:
                break
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    total = manifest["sizes"]["total"]
    if total > max_bytes:
        shutil.rmtree(out, ignore_errors=True)
        raise KocrError(f"the bundle came to {total / 2**20:.1f} MiB, over the {max_bytes / 2**20:.0f} MiB limit")
    return manifest


def _torch_requirement() -> str:
    for req in bundle_wheels._kocr_requirements():
        if req.replace(" ", "").lower().startswith("torch"):
            return req.split(";")[0].strip()[len("torch"):].strip()
    return ""


def _sizes(out: Path) -> dict[str, Any]:
    parts = {
        "wheels": folder_size(out / "wheels") if (out / "wheels").is_dir() else 0,
        "fonts": (out / bundle_fonts.ARCHIVE).stat().st_size if (out / bundle_fonts.ARCHIVE).is_file() else 0,
        "project": folder_size(out / "project"),
        "text": folder_size(out / "text"),
    }
    parts["other"] = folder_size(out) - sum(parts.values())
    parts["total"] = folder_size(out)
    return parts


def size_report(manifest: dict[str, Any]) -> str:
    """What takes the space: the parts, the largest wheels and the fonts, as lines to print."""
    sizes = manifest["sizes"]
    mib = 2**20
    lines = [f"bundle: {sizes['total'] / mib:.1f} MiB ({sizes['total']:,} bytes)"]
    for part in ("wheels", "fonts", "project", "text", "other"):
        lines.append(f"  {part:8s} {sizes[part] / mib:6.1f} MiB")
    wheels = sorted(manifest["wheels"], key=lambda w: -w["bytes"])
    if wheels:
        lines.append("  wheels: " + ", ".join(f"{w['name']} {w['version']} {w['bytes'] / mib:.1f}" for w in wheels[:6])
                     + (f", {len(wheels) - 6} more" if len(wheels) > 6 else "") + " (MiB)")
    fonts = manifest["fonts"]
    packed, left = fonts["packed"], fonts["left_out"]
    designs = {(f["split"], f["design"]) for f in packed}
    lines.append(f"  fonts: {len(packed)} faces of {len(designs)} designs "
                 f"({sum(f['split'] == 'heldout' for f in packed)} held-out, for validation), "
                 f"{fonts['characters']:,} characters each at most; {len(left)} faces left out (bundle.json says why)")
    return "\n".join(lines)

