"""Figures for docs/schedules/exponential-decay.md, drawn from the snippet's own function."""

import numpy as np

from fieldguide.plotting import curves
from snippets.schedules.exponential_decay import exponential_decay as schedule

STEPS = np.arange(1000)


def exponential_decay() -> str:
    return curves(
        "fig-exponential-decay", STEPS,
        [(f"γ = {g}", schedule(STEPS, 1.0, g)) for g in (0.999, 0.995, 0.99)],
        "Exponential decay as a fraction of the initial rate. Halving takes about 693, "
        "138 and 69 steps for these three values of γ.",
        xlabel="optimizer step t", ylabel="learning rate / initial",
    )
