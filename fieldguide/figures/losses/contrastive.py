"""Figures for docs/losses/contrastive.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.contrastive import contrastive_loss, info_nce_loss


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


def info_nce() -> str:
    cos = np.linspace(-1, 1, 201)  # cosine between the anchor and its positive
    anchors = np.tile([1.0, 0.0, 0.0], (8, 1))  # only row 0's loss is plotted
    negatives = np.tile([0.0, 1.0, 0.0], (7, 1))  # 7 negatives at cosine 0

    def anchor_loss(c, tau):
        positive = [[c, np.sqrt(1 - c * c), 0.0]]
        z2 = np.concatenate([positive, negatives])
        return info_nce_loss(anchors, z2, tau, reduction="none")[0]

    series = [(f"τ = {tau:g}", [anchor_loss(c, tau) for c in cos]) for tau in (0.05, 0.2, 1)]
    return curves(
        "fig-info-nce", cos, series,
        "InfoNCE loss of one anchor against the cosine of its positive, with 7 negatives at "
        "cosine 0: with a low temperature τ it is near 0 once the positive clearly beats the "
        "negatives, and steep below; with τ = 1 even a perfect match costs "
        "log(1 + 7/e) ≈ 1.27.",
        xlabel="cosine of anchor and positive", ylabel="loss", ylim=(-0.2, 6),
    )
