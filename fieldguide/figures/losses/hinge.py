"""Figures for docs/losses/hinge.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.hinge import hinge_loss

MARGIN = np.linspace(-2, 3, 501)  # y s
ONES = np.ones_like(MARGIN)


def hinge() -> str:
    logistic = np.logaddexp(0, -MARGIN) / np.log(2)  # log2(1 + e^{-m}): 1 at m = 0
    return curves(
        "fig-hinge", MARGIN,
        [("0-1", (MARGIN <= 0).astype(float)),
         ("hinge", hinge_loss(MARGIN, ONES, reduction="none")),
         ("logistic (base 2)", logistic),
         ("squared hinge", hinge_loss(MARGIN, ONES, p=2, reduction="none"))],
        "Classification losses against y·s, the score times the label: the hinge is exactly 0 "
        "past 1, the logistic loss never is.",
        xlabel="y·s", ylabel="loss", ylim=(-0.2, 4),
    )
