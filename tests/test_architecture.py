"""The architecture is checked, not only described: import-linter's contracts hold on the tree, and a
product module that imports the lab breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("importlinter")

# Runs lint-imports on a copy of the package: the editable install's finder is taken off
# sys.meta_path so that the copy, first on sys.path, is the kocr_sdk that gets analysed.
_RUN = (
    "import sys; sys.meta_path = [f for f in sys.meta_path if 'kocr_sdk' not in type(f).__module__ "
    "and 'kocr_sdk' not in getattr(f, '__module__', '')]; sys.path.insert(0, sys.argv[1]); "
    "import kocr_sdk; assert kocr_sdk.__file__.startswith(sys.argv[1]), kocr_sdk.__file__; "
    "from importlinter.cli import lint_imports_command; sys.argv = ['lint-imports', '--config', sys.argv[2]]; "
    "lint_imports_command()"
)


def lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _RUN, str(root), str(ROOT / "pyproject.toml")],
                          capture_output=True, text=True, cwd=root)


def test_the_import_contracts_hold():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_a_product_module_importing_the_lab_breaks_the_contracts(tmp_path):
    shutil.copytree(ROOT / "kocr_sdk", tmp_path / "kocr_sdk", ignore=shutil.ignore_patterns("weights", "data", "*.pyc"))
    engine = tmp_path / "kocr_sdk" / "engine.py"
    engine.write_text(engine.read_text() + "\nfrom .lab.synth import pages  # noqa: E402,F401\n")
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "The product never imports the lab BROKEN" in result.stdout
    assert "kocr_sdk.engine -> kocr_sdk.lab.synth.pages" in result.stdout
