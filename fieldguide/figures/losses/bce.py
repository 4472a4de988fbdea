"""Figures for docs/losses/bce.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.bce import binary_cross_entropy

P = np.linspace(0, 1, 401)


def bce() -> str:
    none = {"reduction": "none"}
    return curves(
        "fig-bce", P,
        [("label y = 1", binary_cross_entropy(P, np.ones_like(P), **none)),
         ("label y = 0", binary_cross_entropy(P, np.zeros_like(P), **none)),
         ("soft label y = 0.3", binary_cross_entropy(P, np.full_like(P, 0.3), **none))],
        "Binary cross-entropy against the predicted probability: it grows without bound "
        "(up to torch's clamp at 100) as the prediction approaches the wrong certainty.",
        xlabel="predicted probability p", ylabel="loss (nats)", ylim=(0, 6),
    )
