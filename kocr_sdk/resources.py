"""Where kocr's own package data lies: shipped weights and bundled data files.

One place, so that moving a module never moves the folder it reads from.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: Shipped model weights (``*.safetensors``, and the NER model's folder).
WEIGHTS_DIR = PACKAGE_DIR / "weights"
#: Bundled data: the sample page and the shipped form templates.
DATA_DIR = PACKAGE_DIR / "data"
SAMPLE_PAGE = DATA_DIR / "sample_ko.png"
TEMPLATES_DIR = DATA_DIR / "templates"
