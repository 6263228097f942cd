"""Loading a local Hugging Face model directory: quietly, and with an error that names it."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import KocrModelError


@contextmanager
def loading_from(path: Path) -> Iterator[None]:
    """Load from a local Hugging Face directory quietly, and name the directory when it fails.

    Its "Loading weights" bar, once per engine, is noise on a CLI's stderr; transformers raises
    many kinds of error, and the user needs the path and the reason."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    except Exception as exc:
        raise KocrModelError(f"cannot load the token-classification model in {path}: {type(exc).__name__}: {exc}") from exc
    finally:
        if bars:
            hf_logging.enable_progress_bar()
