"""Figures for docs/activations/mish.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.activations.gelu import gelu
from snippets.activations.mish import mish as mish_fn
from snippets.activations.mish import mish_grad

X = np.linspace(-5, 3, 401)


def mish() -> str:
    return curves(
        "fig-mish", X,
        [("Mish(x) = x·tanh(softplus(x))", mish_fn(X)), ("Mish′(x)", mish_grad(X)),
         ("GELU(x), for comparison", gelu(X))],
        "Mish is smooth, dips to about −0.31 near x = −1.19 and decays more slowly than GELU "
        "for negative x; its slope exceeds 1 for x above about 0.8.",
        ylim=(-0.6, 3.0),
    )
