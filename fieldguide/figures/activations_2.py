"""Figures for the SiLU, softmax and argmax pages and the ReLU-vs-sigmoid comparison.

Every curve is computed with the snippets' own functions.
"""

import numpy as np

from fieldguide.plotting import curves
from snippets.activations import vanishing_gradients as vg
from snippets.activations.argmax import argmax as argmax_fn
from snippets.activations.silu import silu as silu_fn
from snippets.activations.silu import silu_grad, swish
from snippets.activations.softmax import log_softmax
from snippets.activations.softmax import softmax as softmax_fn

X = np.linspace(-5, 4, 451)


def silu() -> str:
    return curves(
        "fig-silu", X,
        [("SiLU(x) = x·σ(x)", silu_fn(X)), ("SiLU′(x)", silu_grad(X)),
         ("swish, β = 5", swish(X, 5.0))],
        "SiLU is smooth, dips to about −0.28 near x = −1.28, and its slope overshoots 1 "
        "for positive inputs; a larger β sharpens swish towards ReLU.",
        ylim=(-0.6, 4.0),
    )


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


def vanishing_gradients() -> str:
    params = vg.init_stack(20, 64)
    x = np.random.default_rng(1).normal(size=(128, 64))
    layers = np.arange(1, 21)
    return curves(
        "fig-vanishing-gradients", layers,
        [(f"{a}", np.log10(vg.weight_grad_norms(x, params, a))) for a in ("sigmoid", "relu")],
        "Size of the weight gradient reaching each layer of a 20-layer stack (same weights, "
        "only the activation differs). With sigmoid it falls by about ten orders of "
        "magnitude from the last layer to the first; with ReLU it stays within a factor "
        "of a few.",
        xlabel="layer (1 = first, nearest the input)", ylabel="log10 ‖∂L/∂W‖",
    )
