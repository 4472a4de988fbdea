"""Figures for docs/activations/softmax.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.activations.softmax import log_softmax
from snippets.activations.softmax import softmax as softmax_fn


def softmax() -> str:
    gap = np.linspace(0, 130, 1301, dtype=np.float32)
    logits = np.stack([np.zeros_like(gap), -gap], axis=1)  # rows [0, -gap]
    with np.errstate(divide="ignore"):  # log(0) = -inf is what the figure shows
        two_step = np.log(softmax_fn(logits, dim=1))[:, 1]
    two_step[np.isinf(two_step)] = np.nan  # leave a gap where it has become -inf
    return curves(
        "fig-softmax", gap,
        [("log_softmax (one step)", log_softmax(logits, dim=1)[:, 1]),
         ("log(softmax) (two steps)", two_step)],
        "Log-probability of the second entry of [0, −gap] in float32. The one-step formula "
        "stays on the exact line −gap; log(softmax) follows it only until exp(−gap) "
        "underflows to 0 near gap ≈ 104, and is −∞ (no curve) from there on.",
        xlabel="gap between the two logits", ylabel="log-probability",
    )
