"""Figures for docs/activations/relu.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.activations.relu import relu as relu_fn
from snippets.activations.relu import relu_grad

X = np.linspace(-4, 4, 401)


def relu() -> str:
    return curves(
        "fig-relu", X, [("ReLU(x)", relu_fn(X)), ("ReLU′(x)", relu_grad(X))],
        "ReLU and its derivative: slope 1 for positive inputs, 0 for negative ones.",
    )
