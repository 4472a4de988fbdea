"""Figures for docs/activations/argmax.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.activations.argmax import argmax as argmax_fn
from snippets.activations.softmax import softmax as softmax_fn


def argmax() -> str:
    logits = np.array([1.0, 2.0, 2.5])
    log_t = np.linspace(-1.5, 1.5, 301)
    probs = np.stack([softmax_fn(logits / 10**lt, dim=0) for lt in log_t])  # (T, 3)
    hard = np.array([argmax_fn(logits / 10**lt) == 2 for lt in log_t], dtype=float)
    return curves(
        "fig-argmax", log_t,
        [("p(class 0), logit 1.0", probs[:, 0]), ("p(class 1), logit 2.0", probs[:, 1]),
         ("p(class 2), logit 2.5", probs[:, 2]), ("argmax one-hot, class 2", hard)],
        "softmax(z / T) for logits z = [1, 2, 2.5] as the temperature T varies. Cold "
        "(T → 0) it approaches the argmax one-hot vector; hot (T → ∞) it tends to uniform. "
        "argmax itself does not depend on T.",
        xlabel="log10 of the temperature T", ylabel="probability", ylim=(-0.05, 1.1),
    )
