"""Training bundles (``kocr train bundle``): the word and name lists that replace wordfreq and faker,
the fonts they carry, the packing, the launcher's clear failures and — slow — a run in a virtual
environment that holds only torch."""

from __future__ import annotations

import json
import lzma
import os
import random
import subprocess
import sys
import tarfile
import time
import venv
from pathlib import Path

import pytest

from kocr_sdk.errors import KocrError
from kocr_sdk.fonts import discover_fonts, font_dirs
from kocr_sdk.lab.bundle import fonts as bundle_fonts
from kocr_sdk.lab.bundle import run as launcher
from kocr_sdk.lab.bundle.pack import MAX_BYTES, MODELS, pack, size_report
from kocr_sdk.lab.synth import fakenames, text, textdata

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_FONTS = {
    "UnGraphic.ttf": "/usr/share/fonts/truetype/unfonts-core/UnGraphic.ttf",  # Korean, training
    "UnGraphicBold.ttf": "/usr/share/fonts/truetype/unfonts-core/UnGraphicBold.ttf",
    "UnDotum.ttf": "/usr/share/fonts/truetype/unfonts-core/UnDotum.ttf",  # Korean, held out
    "DejaVuSans.ttf": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # Latin, training
    "LiberationSans-Regular.ttf": "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",  # held out
}
TINY = "batch_size: 4\nval_size: 8\nworkers: 0\nlog_every: 1\nval_every: 1000\n"


def _clear_text_caches() -> None:
    for cached in (text.korean_words, text.english_words, text.han_words, text.kana_words, textdata._words,
                   textdata._names):
        cached.cache_clear()


@pytest.fixture(scope="module")
def text_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("text")
    textdata.extract(out, verify_seeds=range(50))
    return out


@pytest.fixture
def few_fonts(tmp_path, monkeypatch) -> Path:
    """A font folder with two Korean designs (one held out) and two Latin ones, as the only fonts."""
    missing = [p for p in SYSTEM_FONTS.values() if not Path(p).is_file()]
    if missing:
        pytest.skip(f"fonts not installed: {', '.join(missing)}")
    folder = tmp_path / "fonts"
    folder.mkdir()
    for name, path in SYSTEM_FONTS.items():
        (folder / name).symlink_to(path)
    monkeypatch.setenv("KOCR_FONT_DIRS", str(folder))
    monkeypatch.setenv("KOCR_CACHE_DIR", str(tmp_path / "cache"))
    from kocr_sdk.lab.synth.fonts import font_pool

    font_pool.cache_clear()
    yield folder
    font_pool.cache_clear()


# ------------------------------------------------------------------------------ the lists' seam
def test_the_name_lists_replay_faker_call_for_call():
    from faker import Faker

    for locale in fakenames.LOCALES:
        data = json.loads(json.dumps(fakenames.extract(locale)))  # as a bundle stores them
        real, replay = Faker(locale), fakenames.ListFaker(locale, data)
        for seed in range(400):
            for method in fakenames.METHODS[locale]:
                real.seed_instance(seed)
                replay.seed_instance(seed)
                assert getattr(replay, method)() == getattr(real, method)(), (locale, method, seed)


def test_the_generator_prints_the_same_text_from_the_lists_as_from_the_packages(text_dir, monkeypatch):
    def draw() -> list[str]:
        _clear_text_caches()
        source = text.TextSource()
        out = []
        for i in range(150):
            rng = random.Random(f"bundle-text:{i}")
            for kind in text.KINDS:
                for lang in (None, "ko", "en"):
                    out.append(source.phrase(rng, kind, lang).text)
            out.extend(p.text for p in source.sentence(rng, rng.choice(("ko", "en"))))
        return out

    monkeypatch.delenv(textdata.TEXT_DATA_ENV, raising=False)
    from_packages = draw()
    monkeypatch.setenv(textdata.TEXT_DATA_ENV, str(text_dir))
    from_lists = draw()
    assert isinstance(textdata.faker("ko_KR"), fakenames.ListFaker)
    _clear_text_caches()
    assert from_lists == from_packages
    assert len(set(from_packages)) > 1000  # names, addresses and words, not one string repeated


def test_the_lists_are_read_only_when_asked_for_and_say_what_they_lack(text_dir, tmp_path, monkeypatch):
    from faker import Faker

    monkeypatch.delenv(textdata.TEXT_DATA_ENV, raising=False)
    assert isinstance(textdata.faker("en_US"), Faker)
    monkeypatch.setenv(textdata.TEXT_DATA_ENV, str(text_dir))
    _clear_text_caches()
    assert textdata.top_n_list("en", 10) == __import__("wordfreq").top_n_list("en", 10)
    with pytest.raises(KocrError, match="top 30,000 words; 50,000 were asked"):
        textdata.top_n_list("en", 50_000)
    assert len(textdata.top_n_list("ko", 50_000)) < 30_000  # wordfreq's whole Korean list is shorter: fine
    monkeypatch.setenv(textdata.TEXT_DATA_ENV, str(tmp_path))
    _clear_text_caches()
    with pytest.raises(KocrError, match=r"no words.json.xz in .*kocr train bundle"):
        textdata.top_n_list("ko", 10)
    _clear_text_caches()


def test_a_language_the_bundle_did_not_pack_is_a_clear_error(tmp_path, monkeypatch):
    textdata.extract(tmp_path, languages=("ko", "en"), verify_seeds=range(5))
    monkeypatch.setenv(textdata.TEXT_DATA_ENV, str(tmp_path))
    _clear_text_caches()
    with pytest.raises(KocrError, match="hold ko, en, not 'ja'"):
        text.kana_words()
    _clear_text_caches()


# ------------------------------------------------------------------------------------ fonts
def test_kocr_font_dirs_replaces_the_system_font_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("KOCR_FONT_DIRS", "")
    assert font_dirs() == () and discover_fonts() == ()
    monkeypatch.setenv("KOCR_FONT_DIRS", str(tmp_path))
    (tmp_path / "DejaVuSans.ttf").symlink_to(SYSTEM_FONTS["DejaVuSans.ttf"])
    if not Path(SYSTEM_FONTS["DejaVuSans.ttf"]).is_file():
        pytest.skip("DejaVu Sans not installed")
    monkeypatch.setenv("KOCR_CACHE_DIR", str(tmp_path / "cache"))
    assert [f.family for f in discover_fonts()] == ["DejaVu Sans"]
    monkeypatch.delenv("KOCR_FONT_DIRS")
    assert font_dirs()[0] == Path("/usr/share/fonts")


def test_subset_faces_keep_their_names_split_and_coverage_and_every_design_comes_first(few_fonts, text_dir, tmp_path,
                                                                                       monkeypatch):
    from kocr_sdk.lab.bundle.pack import run_characters
    from kocr_sdk.vocabulary.charsets import ks_x_1001_hangul

    chars = run_characters(text_dir, han_kana=False)
    assert set(ks_x_1001_hangul()) <= set(chars) and "₩" in chars and "株" not in chars
    faces, regional = bundle_fonts.candidates(("hangul", "latin"), ("train", "heldout"), regional=False)
    assert {(f.split, f.design) for f in faces} == {("train", "UnGraphic"), ("train", "DejaVu Sans"),
                                                     ("heldout", "UnDotum"), ("heldout", "Liberation Sans")}
    assert regional == []
    everything, files = bundle_fonts.choose(faces, chars, budget=10 * 2**20)
    assert len(everything.packed) == 5 and not everything.left_out
    bold = next(f for f in everything.packed if f.name == "UnGraphic Bold")
    tight = sum(f.packed_bytes for f in everything.packed) - 1  # one byte short of everything: the bold face goes
    again, _ = bundle_fonts.candidates(("hangul", "latin"), ("train", "heldout"), regional=False)
    chosen, _ = bundle_fonts.choose(again, chars, budget=tight)
    assert [f.name for f in chosen.left_out] == ["UnGraphic Bold"] and "UnGraphic design keeps UnGraphic" in \
        chosen.left_out[0].reason
    with pytest.raises(KocrError, match="one face of each of the run's 4 font designs needs .* raise --max-mib"):
        bundle_fonts.choose(again, chars, budget=bold.packed_bytes)
    # The subset faces, discovered as the bundle's run discovers them: same names, same split, same scripts.
    out = tmp_path / "subset"
    out.mkdir()
    for name, data in files.items():
        (out / name).write_bytes(data)
    monkeypatch.setenv("KOCR_FONT_DIRS", str(out))
    found = {f.name: f for f in discover_fonts()}
    assert set(found) == {f.name for f in everything.packed}
    assert "hangul" in found["UnGraphic"].scripts and "hangul" in found["UnDotum"].scripts
    assert "latin" in found["DejaVu Sans Book"].scripts
    from kocr_sdk.lab.synth.fonts import select_fonts

    assert {f.family for f in select_fonts("hangul", "heldout")} == {"UnDotum"}
    assert {f.family for f in select_fonts("hangul", "train")} == {"UnGraphic"}
    assert all(len(data) < 0.5 * Path(SYSTEM_FONTS["UnGraphic.ttf"]).stat().st_size
               for name, data in files.items() if name.startswith("UnGraphic"))


# ------------------------------------------------------------------------------------ packing
@pytest.fixture
def packed(few_fonts, tmp_path) -> tuple[Path, dict]:
    cfg = MODELS["recognizer"].config_class()(script="hangul", batch_size=4, val_size=8, workers=0, log_every=1)
    out = tmp_path / "bundle"
    return out, pack("recognizer", cfg, out, with_wheels=False)


def test_a_bundle_holds_the_project_the_lists_the_fonts_and_the_config(packed):
    out, manifest = packed
    assert (out / "run.py").read_text() == Path(launcher.__file__).read_text()
    assert (out / "project/kocr_sdk/__init__.py").is_file() and (out / "project/pyproject.toml").is_file()
    assert (out / "project/kocr_sdk/lab/bundle/run.py").is_file()
    files = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()]
    assert not [f for f in files if "__pycache__" in f or f.endswith((".pyc", ".safetensors", ".pt"))]
    assert not [f for f in files if f.startswith(("project/tests", "project/docs", "project/.git"))]
    assert {p.name for p in (out / "text").iterdir()} == {"words.json.xz", "names.json.xz"}
    words = json.loads(lzma.decompress((out / "text/words.json.xz").read_bytes()))
    assert sorted(words["lists"]) == ["en", "ko"]
    config = (out / "config.yaml").read_text()
    assert "script: hangul" in config and "batch_size: 4" in config and "out:" not in config
    with tarfile.open(out / manifest["fonts"]["archive"]) as tar:
        assert sorted(tar.getnames()) == sorted(f["file"] for f in manifest["fonts"]["packed"])
    assert {f["split"] for f in manifest["fonts"]["packed"]} == {"train", "heldout"}
    assert manifest["command"] == ["recognizer"] and manifest["export"] == "vitstr-tiny-hangul.safetensors"
    assert manifest["sizes"]["total"] == sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert manifest["sizes"]["total"] < MAX_BYTES
    report = size_report(manifest)
    assert report.startswith("bundle: ") and "fonts: 5 faces of 4 designs (2 held-out" in report


def test_packing_refuses_what_it_cannot_carry(few_fonts, tmp_path):
    config = MODELS["recognizer"].config_class()
    with pytest.raises(KocrError, match="init_from: .* is a path on this machine"):
        pack("recognizer", config(init_from=tmp_path / "w.safetensors"), tmp_path / "a", with_wheels=False)
    with pytest.raises(KocrError, match="unlabeled: .* a bundle carries synth:N only"):
        pack("recognizer", config(unlabeled=str(tmp_path)), tmp_path / "b", with_wheels=False)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(KocrError, match="not an empty folder"):
        pack("recognizer", config(), tmp_path / "full", with_wheels=False)
    with pytest.raises(KocrError, match="raise --max-mib"):
        pack("recognizer", config(), tmp_path / "small", with_wheels=False, max_bytes=2**20)
    assert not (tmp_path / "small").exists()  # a failed pack leaves nothing half-written


def test_the_cli_packs_and_reports_the_size(few_fonts, tmp_path):
    from click.testing import CliRunner

    from kocr_sdk.lab.cli.train import BUNDLE_MODELS, train

    assert set(BUNDLE_MODELS) == set(MODELS)
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(TINY)
    result = CliRunner().invoke(train, ["bundle", "recognizer", "--config", str(cfg), "--out", str(tmp_path / "b"),
                                        "--no-wheels", "--max-steps", "7"])
    assert result.exit_code == 0, result.output
    assert "bundle: " in result.output and "python b/run.py --out OUTDIR --device cuda" in result.output
    assert "max_steps: 7" in (tmp_path / "b" / "config.yaml").read_text()
    bad = CliRunner().invoke(train, ["bundle", "script-id", "--script", "latin", "--out", str(tmp_path / "c")])
    assert bad.exit_code != 0 and "--script is not an option of script-id" in bad.output


# ------------------------------------------------------------------------------------ the launcher
def test_the_launcher_fails_in_one_line_without_torch_or_without_a_gpu(packed, tmp_path):
    out, _ = packed
    bare = tmp_path / "bare"
    venv.EnvBuilder(with_pip=False).create(bare)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    no_torch = subprocess.run([str(bare / "bin" / "python"), str(out / "run.py"), "--out", str(tmp_path / "r")],
                              capture_output=True, text=True, env=env)
    assert no_torch.returncode == 2
    assert no_torch.stderr.strip().count("\n") == 0 and "run.py: torch is not installed" in no_torch.stderr
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    no_gpu = subprocess.run([sys.executable, str(out / "run.py"), "--out", str(tmp_path / "r"), "--device", "cuda"],
                            capture_output=True, text=True, env=env)
    assert no_gpu.returncode == 2
    assert no_gpu.stderr.strip().count("\n") == 0 and "--device cuda was asked but torch" in no_gpu.stderr
    assert "sees no CUDA GPU" in no_gpu.stderr


def test_the_launcher_resumes_from_last_pt_and_passes_the_run_options(packed, tmp_path):
    out, manifest = packed
    args = launcher.parse(["--out", str(tmp_path / "r"), "--device", "cuda:1", "--max-minutes", "30", "--workers", "8"])
    cmd = launcher.command(manifest, args)
    assert cmd[3:6] == ["recognizer", "--config", str(launcher.BUNDLE / "config.yaml")]
    assert ["--device", "cuda:1"] == cmd[cmd.index("--device"):cmd.index("--device") + 2]
    assert "--resume" not in cmd and "-q" in cmd and "8" in cmd and "30.0" in cmd
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "last.pt").write_bytes(b"")
    assert "--resume" in launcher.command(manifest, args)
    assert "--resume" not in launcher.command(manifest, launcher.parse(["--out", str(tmp_path / "r"), "--fresh"]))
    with pytest.raises(launcher.Fail, match="wheels are for Python 3.9"):
        launcher.check_python({**manifest, "python": "3.9", "wheels": [{"file": "x.whl"}]})


# ------------------------------------------------------------------------------------ end to end
def _bare_torch_python() -> Path:
    """A virtual environment with torch and nothing else (torch's own dependencies), made once per
    machine: this is the GPU machine the bundle meets, minus the GPU."""
    import torch

    version = torch.__version__.split("+")[0]
    home = Path(os.environ.get("KOCR_CACHE_DIR") or Path.home() / ".cache" / "kocr") / f"bare-torch-{version}"
    python = home / "bin" / "python"
    if not (home / "ready").is_file():
        venv.EnvBuilder(with_pip=True, clear=True).create(home)
        done = subprocess.run([str(python), "-m", "pip", "install", "-q", f"torch=={version}"], capture_output=True,
                              text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot install torch {version} into a fresh venv: {done.stderr.strip()[-200:]}")
        (home / "ready").write_text(version)
    return python


@pytest.mark.slow
def test_a_bundle_trains_in_a_venv_that_has_only_torch(few_fonts, tmp_path):
    python = _bare_torch_python()
    for module in ("numpy", "cv2", "PIL", "pydantic", "fontTools", "faker", "wordfreq", "kocr_sdk"):
        probe = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True, cwd=tmp_path,
                               env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)})
        assert probe.returncode != 0, f"the bare venv has {module}"
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(TINY)
    from kocr_sdk.lab.cli.train import train
    from click.testing import CliRunner

    started = time.time()
    packed = CliRunner().invoke(train, ["bundle", "recognizer", "--config", str(cfg), "--out",
                                        str(tmp_path / "bundle")])
    assert packed.exit_code == 0, packed.output
    pack_s = time.time() - started
    manifest = json.loads((tmp_path / "bundle" / "bundle.json").read_text())
    assert manifest["sizes"]["total"] <= MAX_BYTES and manifest["wheels"]
    home = tmp_path / "home"  # an empty home: no ~/.fonts, no pip config, no caches
    home.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"}
    started = time.time()
    run = subprocess.run([str(python), str(tmp_path / "bundle" / "run.py"), "--out", str(tmp_path / "out"),
                          "--device", "cpu", "--max-steps", "3"], capture_output=True, text=True, env=env,
                         cwd=home)
    run_s = time.time() - started
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    out = tmp_path / "out"
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == [1, 2, 3]
    assert any("val" in r for r in rows)
    from kocr_sdk.weights_file import read_checkpoint, read_weights

    assert read_checkpoint(out / "last.pt")["step"] == 3
    state, meta = read_weights(out / manifest["export"], "recogniser")
    assert state and meta["charset"] == "hangul" and meta["step"] == 3
    # The run discovered the bundle's fonts and nothing else.
    seen = json.loads((out / ".kocr" / "cache" / "fonts.json").read_text())["files"]
    assert seen and all(path.startswith(str(out / ".kocr" / "fonts")) for path in seen)
    ready = next(line for line in run.stdout.splitlines() if "ready in" in line)
    print(f"\npack {pack_s:.1f} s; run {run_s:.1f} s; {ready}; bundle {manifest['sizes']['total'] / 2**20:.1f} MiB")
