"""Figures for docs/losses/margin-ranking.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.margin_ranking import margin_ranking_loss


def margin_ranking() -> str:
    diff = np.linspace(-3, 3, 601)  # x1 - x2
    zero, ones = np.zeros_like(diff), np.ones_like(diff)
    return curves(
        "fig-margin-ranking", diff,
        [("y = 1, margin 0", margin_ranking_loss(diff, zero, ones, 0.0, "none")),
         ("y = 1, margin 1", margin_ranking_loss(diff, zero, ones, 1.0, "none")),
         ("y = −1, margin 1", margin_ranking_loss(diff, zero, -ones, 1.0, "none"))],
        "Margin ranking loss against the score difference x1 − x2: y = 1 asks for "
        "x1 ≥ x2 + margin.",
        xlabel="x1 − x2", ylabel="loss", ylim=(-0.2, 4),
    )
