"""Figures for docs/activations/gelu.md, drawn from the snippet's own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.activations.gelu import gelu as gelu_fn
from snippets.activations.gelu import gelu_grad, gelu_tanh, gelu_tanh_grad, normal_cdf

X = np.linspace(-4, 3, 351)
X_ERR = np.linspace(-6, 6, 1201)


def gelu() -> str:
    return curves(
        "fig-gelu", X,
        [("GELU(x) = x·Φ(x)", gelu_fn(X)), ("Φ(x), the gate", normal_cdf(X)),
         ("GELU′(x)", gelu_grad(X))],
        "GELU multiplies x by Φ(x), the chance that a standard normal falls below x: the gate "
        "opens smoothly from 0 to 1, so the curve dips slightly below zero for negative x, and "
        "its slope exceeds 1 for x above 0.75, peaking at about 1.13 at x = √2.",
        ylim=(-0.5, 3.0),
    )


def tanh_error() -> str:
    value = gelu_tanh(X_ERR) - gelu_fn(X_ERR)
    slope = gelu_tanh_grad(X_ERR) - gelu_grad(X_ERR)
    return curves(
        "fig-gelu-tanh-error", X_ERR,
        [("GELU_tanh(x) − GELU(x)", value), ("GELU_tanh′(x) − GELU′(x)", slope)],
        f"How far the tanh approximation is from exact GELU: at most "
        f"{np.abs(value).max():.1e} in value and {np.abs(slope).max():.1e} in slope, "
        "largest for |x| between about 1.5 and 3.5 and vanishing in both tails.",
        ylabel="difference",
    )
