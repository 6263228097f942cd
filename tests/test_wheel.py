"""What a user installs: the wheel, installed non-editable into a fresh virtual environment and run
from another folder, holds the templates, the weights and everything the commands point to."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True)
    return next(out.glob("kocr_sdk-*.whl"))


def test_the_wheel_holds_templates_weights_configs_types_and_license(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("kocr_sdk/py.typed", "kocr_sdk/data/sample_ko.png", "kocr_sdk/data/templates/kr_receipt.yaml",
                   "kocr_sdk/data/templates/kr_business_registration.yaml", "kocr_sdk/lab/training/configs/detector.yaml",
                   "kocr_sdk/weights/vitstr-tiny-hangul.safetensors", "kocr_sdk/weights/ner-char-bert/model.safetensors"):
        assert needed in names, needed
    assert any(n.endswith("licenses/LICENSE") for n in names)


def test_a_fresh_install_lists_the_templates_and_fills_the_sample_s_fields(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    target = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip())
    # kocr's dependencies come from the test environment's site-packages (a path, so its .pth files,
    # among them the editable install of this checkout, are not run); kocr itself only from the wheel.
    (target / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(target),
                    str(wheel)], check=True, capture_output=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "templates").mkdir()  # a stray folder of that name must not be taken for kocr's
    (work / "templates" / "stray.yaml").write_text("id: stray\nname: x\nmatch: {keywords: [{text: x}]}\nfields: {a: {anchors: [x]}}\n")
    env = {**os.environ, "KOCR_LOAD_PLUGINS": "", "PYTHONPATH": ""}
    run = [str(py), "-c", "import sys; from kocr_sdk.cli.main import main; sys.argv[0] = 'kocr'; main()"]
    where = subprocess.run([str(py), "-c", "import kocr_sdk; print(kocr_sdk.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(target)), where
    listed = subprocess.run(run + ["templates", "list"], cwd=work, env=env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    ids = {line.split("\t")[0] for line in listed.stdout.splitlines()}
    assert {"kr_business_registration", "kr_receipt", "kr_tax_invoice", "invoice_en"} <= ids and "stray" not in ids
    sample = target / "kocr_sdk" / "data" / "sample_ko.png"
    read = subprocess.run(run + ["read", str(sample), "--format", "json", "-q"], cwd=work, env=env,
                          capture_output=True, text=True)
    assert read.returncode == 0, read.stderr
    match = json.loads(read.stdout)["pages"][0]["template_match"]
    assert match["template_id"] == "kr_business_registration"
    filled = {k for k, f in match["fields"].items() if f["value"]}
    assert len(filled) >= 4, match["fields"]
