"""Figures for docs/losses/contrastive.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.contrastive import contrastive_loss


def contrastive() -> str:
    D = np.linspace(0, 3, 301)
    a, b = np.zeros((D.size, 1)), D[:, None]  # pairs of 1-D points, D apart
    ones, zeros = np.ones_like(D), np.zeros_like(D)
    return curves(
        "fig-contrastive", D,
        [("similar pair", contrastive_loss(a, b, ones, 1.0, 0.0, "none")),
         ("dissimilar, margin 1", contrastive_loss(a, b, zeros, 1.0, 0.0, "none")),
         ("dissimilar, margin 2", contrastive_loss(a, b, zeros, 2.0, 0.0, "none"))],
        "Contrastive loss against the distance D of a pair: similar pairs are pulled in, "
        "dissimilar ones pushed out to the margin.",
        xlabel="distance D", ylabel="loss", ylim=(-0.1, 2.5),
    )
