"""Figures for docs/activations/silu.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.activations.silu import silu as silu_fn
from snippets.activations.silu import silu_grad, swish

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
