"""Figures for docs/losses/cross-entropy.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.cross_entropy import (
    sparse_categorical_cross_entropy,
    sparse_categorical_cross_entropy_grad,
)

Z = np.linspace(-8, 8, 401)


def cross_entropy() -> str:
    # three classes, logits (z, 0, 0), label 0
    logits = np.stack([Z, 0 * Z, 0 * Z], axis=1)
    labels = np.zeros(Z.size, dtype=int)
    loss = sparse_categorical_cross_entropy(logits, labels, reduction="none")
    grad = sparse_categorical_cross_entropy_grad(logits, labels, reduction="none")[:, 0]
    return curves(
        "fig-cross-entropy", Z,
        [("cross-entropy", loss), ("∂loss/∂z (true class)", grad)],
        "Cross-entropy of three classes with logits (z, 0, 0) and label 0: the loss falls "
        "linearly while z is wrong and flattens once it is right; the gradient is p − 1.",
        xlabel="logit z of the true class", ylim=(-1.2, 6),
    )
