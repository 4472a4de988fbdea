"""Figures for docs/schedules/warmup-linear.md, drawn from the snippet's own function."""

import numpy as np

from fieldguide.plotting import curves
from snippets.schedules.warmup_linear import warmup_linear as schedule

STEPS = np.arange(1201)


def warmup_linear() -> str:
    return curves(
        "fig-warmup-linear", STEPS,
        [("W = 100, s = 0, e = 0", schedule(STEPS, 1.0, 100, 1000)),
         ("W = 300, s = 0.1, e = 0.2", schedule(STEPS, 1.0, 300, 1000, 0.1, 0.2))],
        "Linear warm-up then linear decay, T = 1000 steps, as a fraction of the peak rate: "
        "the peak is reached at step W and the end value at step T, and kept after it.",
        xlabel="optimizer step t", ylabel="learning rate / peak",
    )
