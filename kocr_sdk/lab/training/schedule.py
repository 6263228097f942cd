"""The learning-rate schedule every kocr trainer uses: linear warm-up, then cosine to 2%.

The schedule is a pure function of the global step, so a run resumed in another session picks
up exactly where it stopped. A warm start from shipped weights (no optimiser moments) re-warms
over ``REWARM_STEPS`` from the step it resumed at: AdamW's first updates with fresh moments are
as large as the learning rate allows, and a model in a good minimum should not take them at full
rate.

A run that has already decayed can be given a second cosine (a warm restart, as in SGDR):
``start`` is the global step at which the new schedule begins, warm-up included, and
``total_steps`` stays the global step where it ends. A detector run that continues
afd-slim-line this way from a checkpoint whose first schedule had reached its floor.
"""

from __future__ import annotations

import math

REWARM_STEPS = 200


def lr_at(step: int, lr: float, warmup_steps: int, total_steps: int, rewarm_from: int | None = None,
          start: int = 0) -> float:
    local = step - start
    if local < warmup_steps:
        return lr * (max(local, 0) + 1) / warmup_steps
    progress = min(1.0, (local - warmup_steps) / max(1, total_steps - start - warmup_steps))
    value = lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))
    if rewarm_from is not None and step - rewarm_from < REWARM_STEPS:
        value *= (step - rewarm_from + 1) / REWARM_STEPS
    return value
