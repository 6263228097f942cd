"""The learning-rate schedule every kocr trainer uses: linear warm-up, then cosine to 2%.

The schedule is a pure function of the global step, so a run resumed in another session picks
up exactly where it stopped. A warm start from shipped weights (no optimiser moments) re-warms
over ``REWARM_STEPS`` from the step it resumed at: AdamW's first updates with fresh moments are
as large as the learning rate allows, and a model in a good minimum should not take them at full
rate.
"""

from __future__ import annotations

import math

REWARM_STEPS = 200


def lr_at(step: int, lr: float, warmup_steps: int, total_steps: int, rewarm_from: int | None = None) -> float:
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    value = lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))
    if rewarm_from is not None and step - rewarm_from < REWARM_STEPS:
        value *= (step - rewarm_from + 1) / REWARM_STEPS
    return value
