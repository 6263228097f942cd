"""kocr plugin: a Tesseract-backed recogniser for Han and Kana word crops.

kocr's script identifier labels each word; words labelled ``han`` or ``kana`` are dispatched to
the recogniser registered for that script, which, with this plugin installed, is Tesseract.
"""

from __future__ import annotations

import shutil
from typing import Any

import numpy as np

from kocr_sdk import KocrModelError, Reading, Recognizer, hookimpl

__version__ = "0.1.0"


class TesseractRecognizer(Recognizer):
    """Reads upright word crops with ``tesseract --psm 7`` (a single text line)."""

    name = "tesseract"
    scripts = ("han", "kana")
    description = "Debian tesseract via pytesseract, for Han and Kana words"

    def __init__(self, device: str = "cpu", lang: str = "chi_sim+jpn", psm: int = 7, **options: Any) -> None:
        super().__init__(device=device, **options)
        import pytesseract

        if shutil.which("tesseract") is None:
            raise KocrModelError("the tesseract program is not installed: apt-get install tesseract-ocr")
        available = set(pytesseract.get_languages(config=""))
        missing = [code for code in lang.split("+") if code not in available]
        if missing:
            packages = " ".join("tesseract-ocr-" + code.replace("_", "-") for code in missing)
            raise KocrModelError(f"tesseract lacks language data {missing}: apt-get install {packages}")
        self._tess = pytesseract
        self.lang = lang
        self.psm = psm

    def recognize(self, crops: list[np.ndarray]) -> list[Reading]:
        return [self._read_one(crop) for crop in crops]

    def _read_one(self, crop: np.ndarray) -> Reading:
        # Tesseract reads small text badly: give it ~48 px of text height and a white margin.
        import cv2

        h = crop.shape[0]
        if h < 48:
            crop = cv2.resize(crop, None, fx=48 / h, fy=48 / h, interpolation=cv2.INTER_CUBIC)
        crop = cv2.copyMakeBorder(crop, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=(255, 255, 255))
        data = self._tess.image_to_data(
            crop, lang=self.lang, config=f"--psm {self.psm}", output_type=self._tess.Output.DICT
        )
        words = [(t, float(c)) for t, c in zip(data["text"], data["conf"]) if t.strip() and float(c) >= 0]
        if not words:
            return Reading(text="", confidence=0.0)
        text = "".join(t for t, _ in words) if "chi" in self.lang or "jpn" in self.lang else " ".join(t for t, _ in words)
        confidence = min(c for _, c in words) / 100.0
        return Reading(text=text, confidence=max(0.0, min(1.0, confidence)))


@hookimpl
def register_recognizers(register):
    register(TesseractRecognizer)
