"""Figures for docs/losses/label-smoothing.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.label_smoothing import cross_entropy_label_smoothing


def label_smoothing() -> str:
    # four classes, logits (z, 0, 0, 0), label 0
    z = np.linspace(-2, 12, 401)
    logits = np.stack([z, 0 * z, 0 * z, 0 * z], axis=1)
    labels = np.zeros(z.size, dtype=int)
    series = [
        (f"ε = {eps}", cross_entropy_label_smoothing(logits, labels, reduction="none",
                                                     label_smoothing=eps))
        for eps in (0.0, 0.1, 0.3)
    ]
    return curves(
        "fig-label-smoothing", z, series,
        "Loss against the true class's logit gap z (four classes): without smoothing it keeps "
        "falling as z grows; with smoothing it has a minimum at a finite gap.",
        xlabel="logit gap z", ylabel="loss (nats)", ylim=(0, 3),
    )
