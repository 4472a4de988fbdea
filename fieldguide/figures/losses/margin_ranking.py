"""Figures for docs/losses/margin-ranking.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.margin_ranking import logistic_ranking_loss, margin_ranking_loss


def margin_ranking() -> str:
    diff = np.linspace(-3, 3, 601)  # x1 - x2
    zero, ones = np.zeros_like(diff), np.ones_like(diff)
    return curves(
        "fig-margin-ranking", diff,
        [("hinge, margin 0", margin_ranking_loss(diff, zero, ones, 0.0, "none")),
         ("hinge, margin 1", margin_ranking_loss(diff, zero, ones, 1.0, "none")),
         ("logistic, margin 0", logistic_ranking_loss(diff, zero, ones, 0.0, "none"))],
        "Pairwise losses for y = 1 against the score difference x1 − x2: the hinge is 0 once "
        "x1 ≥ x2 + margin; the logistic loss, log 2 at a tie, never quite reaches 0.",
        xlabel="x1 − x2", ylabel="loss", ylim=(-0.2, 4),
    )
