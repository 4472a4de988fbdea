"""Figures for docs/losses/triplet.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.triplet import triplet_margin_loss


def triplet() -> str:
    d_an = np.linspace(0, 4, 401)
    anchor = np.zeros((d_an.size, 2))
    positive = np.tile([1.0, 0.0], (d_an.size, 1))  # d(a, x+) = 1
    negative = np.stack([np.zeros_like(d_an), d_an], axis=1)  # d(a, x-) from 0 to 4
    series = [(f"margin {m:g}", triplet_margin_loss(anchor, positive, negative, m, eps=0.0,
                                                    reduction="none")) for m in (0.5, 1, 2)]
    return curves(
        "fig-triplet", d_an, series,
        "Triplet loss with d(a, x⁺) = 1 as the negative moves away: it is 0 once "
        "d(a, x⁻) ≥ 1 + margin.",
        xlabel="distance anchor–negative d(a, x⁻)", ylabel="loss",
    )
