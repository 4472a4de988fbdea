"""Figures for docs/regularization/entropy.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.regularization.entropy import entropy

BETA = np.linspace(0, 3, 121)
Q = np.linspace(1e-4, 1 - 1e-6, 4001)  # candidate probabilities of the true class


def best_true_class_probability(k: int) -> np.ndarray:
    """argmin over q of -log q - beta H(q, (1-q)/(k-1), ...), for every beta."""
    probs = np.column_stack([Q] + [(1 - Q) / (k - 1)] * (k - 1))
    h = entropy(np.log(probs))  # (len(Q),)
    loss = -np.log(Q)[None, :] - BETA[:, None] * h[None, :]  # (len(BETA), len(Q))
    return Q[np.argmin(loss, axis=1)]


def confidence_penalty() -> str:
    return curves(
        "fig-entropy-penalty", BETA,
        [(f"K = {k} classes", best_true_class_probability(k)) for k in (2, 4, 10)],
        "Confidence penalty: the probability of the true class that minimises "
        "cross-entropy − β·H, against β. At β = 0 it is 1 (the logits grow without bound); "
        "any β > 0 stops it short of 1.",
        xlabel="β", ylabel="best p(true class)", ylim=(0, 1.05),
    )
