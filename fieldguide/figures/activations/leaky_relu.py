"""Figures for docs/activations/leaky-relu.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.activations import leaky_relu as leaky_relu_snippet

X = np.linspace(-4, 4, 401)


def leaky_relu() -> str:
    f = leaky_relu_snippet
    return curves(
        "fig-leaky-relu", X,
        [("slope 0.01 (default)", f.leaky_relu(X)),
         ("slope 0.2", f.leaky_relu(X, 0.2)),
         ("derivative, slope 0.2", f.leaky_relu_grad(X, 0.2))],
        "Leaky ReLU: the default slope 0.01 is barely visible; 0.2 shows the idea. "
        "The derivative is 1 for positive inputs and the slope for the rest.",
    )
