"""kocr plugin: a Tesseract-backed recogniser for Han and Kana word crops.

kocr's script identifier labels each word; words labelled ``han`` or ``kana`` are dispatched to
the recogniser registered for that script, which, with this plugin installed, is Tesseract.

Two ways to reach Tesseract, the same engine and language data behind both:

- ``api`` (the default when the ``[api]`` extra, tesserocr, is installed): Tesseract's C++ API
  in this process, languages loaded once per recogniser. A word crop takes ~10–50 ms.
- ``cli``: the ``tesseract`` program through pytesseract, one process per crop. Each crop then
  pays the program's start and the loading of ``chi_sim+jpn`` (~0.3 s) — on held-out Korean
  pages, where only the script identifier's rare mistakes reach this recogniser, that was ~0.2 s
  of a 1.1 s page (docs/benchmarks.md, "Batch runs").
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from kocr_sdk import KocrModelError, Reading, Recognizer, hookimpl

__version__ = "0.2.0"

BACKENDS = ("auto", "api", "cli")


def _tessdata_dir() -> Path:
    """Where the ``tesseract`` program finds its language data (what the API must be pointed at:
    tesserocr's wheels bundle the library, not the data)."""
    out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30)
    found = re.search(r'"([^"]+)"', out.stdout + out.stderr)
    if found is None:
        raise KocrModelError(f"cannot tell where tesseract keeps its language data: {out.stdout or out.stderr!r}")
    return Path(found.group(1))


def _has_api() -> bool:
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return False
    return True


class TesseractRecognizer(Recognizer):
    """Reads upright word crops with Tesseract in single-line mode (``psm`` 7)."""

    name = "tesseract"
    scripts = ("han", "kana")
    description = "Debian's Tesseract language data, via tesserocr (in process) or the tesseract program, for Han and Kana words"

    def __init__(self, device: str = "cpu", lang: str = "chi_sim+jpn", psm: int = 7, backend: str = "auto",
                 **options: Any) -> None:
        super().__init__(device=device, **options)
        if backend not in BACKENDS:
            raise KocrModelError(f"tesseract backend {backend!r}: choose one of {', '.join(BACKENDS)}")
        if shutil.which("tesseract") is None:
            raise KocrModelError("the tesseract program is not installed: apt-get install tesseract-ocr")
        tessdata = _tessdata_dir()
        available = {p.name.removesuffix(".traineddata") for p in tessdata.glob("*.traineddata")}
        missing = [code for code in lang.split("+") if code not in available]
        if missing:
            packages = " ".join("tesseract-ocr-" + code.replace("_", "-") for code in missing)
            raise KocrModelError(f"tesseract lacks language data {missing}: apt-get install {packages}")
        has_api = _has_api()
        if backend == "api" and not has_api:
            raise KocrModelError("tesseract backend 'api' needs tesserocr: pip install 'kocr-tesseract[api]'")
        self.backend = "api" if backend == "api" or (backend == "auto" and has_api) else "cli"
        self.lang, self.psm = lang, psm
        if self.backend == "api":
            import tesserocr

            self._api = tesserocr.PyTessBaseAPI(path=str(tessdata) + "/", lang=lang, psm=psm)
        else:
            import pytesseract

            self._tess = pytesseract

    def recognize(self, crops: list[np.ndarray]) -> list[Reading]:
        return [self._read_one(crop) for crop in crops]

    def _words(self, crop: np.ndarray) -> list[tuple[str, float]]:
        """(text, confidence 0–100) of each word Tesseract finds in the prepared crop."""
        if self.backend == "api":
            import tesserocr
            from PIL import Image

            level = tesserocr.RIL.WORD
            self._api.SetImage(Image.fromarray(crop))
            self._api.Recognize()
            words = []
            for it in tesserocr.iterate_level(self._api.GetIterator(), level):
                try:
                    text = it.GetUTF8Text(level)
                except RuntimeError:  # tesserocr's word with no text ("No text returned")
                    continue
                if text and text.strip():
                    words.append((text, float(it.Confidence(level))))
            return words
        data = self._tess.image_to_data(crop, lang=self.lang, config=f"--psm {self.psm}",
                                        output_type=self._tess.Output.DICT)
        return [(t, float(c)) for t, c in zip(data["text"], data["conf"]) if t.strip() and float(c) >= 0]

    def _read_one(self, crop: np.ndarray) -> Reading:
        # Tesseract reads small text badly: give it ~48 px of text height and a white margin.
        import cv2

        h = crop.shape[0]
        if h < 48:
            crop = cv2.resize(crop, None, fx=48 / h, fy=48 / h, interpolation=cv2.INTER_CUBIC)
        crop = cv2.copyMakeBorder(crop, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=(255, 255, 255))
        words = self._words(np.ascontiguousarray(crop))
        if not words:
            return Reading(text="", confidence=0.0)
        text = "".join(t for t, _ in words) if "chi" in self.lang or "jpn" in self.lang else " ".join(t for t, _ in words)
        confidence = min(c for _, c in words) / 100.0
        return Reading(text=text, confidence=max(0.0, min(1.0, confidence)))


@hookimpl
def register_recognizers(register):
    register(TesseractRecognizer)
