"""Figures for docs/regularization/weight-decay.md, drawn from the snippet's own Adam step."""

import numpy as np

from fieldguide.plotting import curves
from snippets.regularization.weight_decay import decay_run

STEPS = np.arange(1, 2001)


def decay_paths() -> str:
    series = [(f"Adam + L2, |g| = {s:g}", decay_run(s, False)) for s in (10.0, 1.0, 0.1)]
    series.append(("AdamW, any |g|", decay_run(0.1, True)))
    return curves(
        "fig-weight-decay-paths", STEPS, series,
        "One weight starting at 1, with a loss gradient alternating ±|g| (mean zero) and "
        "λ = 0.1, η = 0.001. With the L2 term inside Adam the weight decays at a rate of "
        "about ηλ/|g| per step: hardly at all for |g| = 10, fast for |g| = 0.1. AdamW "
        "decays it by the factor 1 − ηλ per step whatever |g| is (its curves for "
        "|g| = 100 to 0.01 coincide), which is the L2 rate at |g| = 1: the dotted curve "
        "lies on the dashed one.",
        xlabel="step t", ylabel="θₜ", ylim=(-0.05, 1.05))
