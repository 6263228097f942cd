"""Stage doubles for batch tests that run in other processes (spawned pool workers, Ray actors):
they must live in an importable module, and they are configured by files, not by test state."""

from __future__ import annotations

import os
import time
from pathlib import Path

from kocr_sdk import EngineConfig, hookimpl
from kocr_sdk.batch import EngineSpec

from .conftest import FakePlugin, FixedDetector


class DyingDetector(FixedDetector):
    """Kills its worker process once: the first page it sees while ``$KOCR_TEST_DIE_ONCE`` names
    an existing file (which it deletes first, so the retry lives)."""

    name = "dying"

    def detect(self, image):
        marker = os.environ.get("KOCR_TEST_DIE_ONCE")
        if marker:
            # Claimed by unlinking, which only one process can do: two workers that both saw the
            # file exist raced here under load, and the loser's FileNotFoundError failed its page.
            try:
                Path(marker).unlink()
            except FileNotFoundError:
                pass
            else:
                os._exit(3)
        return super().detect(image)


class SlowDetector(FixedDetector):
    """Takes its time, so a test can interrupt a run half-way."""

    name = "slow"

    def detect(self, image):
        time.sleep(float(os.environ.get("KOCR_TEST_SLOW", "0.3")))
        return super().detect(image)


class PoisonDetector(SlowDetector):
    """Kills its worker on every page as wide as ``$KOCR_TEST_POISON_WIDTH`` (a file that always
    crashes its decoder); takes ``$KOCR_TEST_SLOW`` seconds on the others, so that they are still
    in flight when the poisonous one kills the pool."""

    name = "poison"

    def detect(self, image):
        if image.shape[1] == int(os.environ.get("KOCR_TEST_POISON_WIDTH", "-1")):
            os._exit(9)
        return super().detect(image)


class BatchPlugin(FakePlugin):
    @staticmethod
    @hookimpl
    def register_detectors(register):
        register(FixedDetector)
        register(DyingDetector)
        register(SlowDetector)
        register(PoisonDetector)


def spec(detector: str = "fixed") -> EngineSpec:
    """An engine of fakes only: names every stage so the shipped models (visible in other
    processes, where the test fixtures that hide them do not reach) are never loaded."""
    config = EngineConfig(
        detector=detector, script_identifier="by-width", entity_recognizer="none", device="cpu",
        recognizers={"hangul": "hangul-reader", "latin": "latin-reader", "digits": "latin-reader"},
    )
    return EngineSpec(config, plugins=(BatchPlugin,), load_entrypoints=False)
