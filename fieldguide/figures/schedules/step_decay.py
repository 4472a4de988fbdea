"""Figures for docs/schedules/step-decay.md, drawn from the snippet's own function."""

import numpy as np

from fieldguide.plotting import curves
from snippets.schedules.step_decay import step_decay as schedule

STEPS = np.arange(1000)


def step_decay() -> str:
    return curves(
        "fig-step-decay", STEPS,
        [("S = 300, γ = 0.1", schedule(STEPS, 1.0, 300, 0.1)),
         ("S = 100, γ = 0.5", schedule(STEPS, 1.0, 100, 0.5))],
        "Step decay as a fraction of the initial rate: constant for S steps at a time, "
        "multiplied by γ at steps S, 2S, 3S, ...",
        xlabel="optimizer step t", ylabel="learning rate / initial",
    )
