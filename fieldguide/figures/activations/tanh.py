"""Figures for docs/activations/tanh.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.activations import sigmoid as sigmoid_snippet
from snippets.activations import tanh as tanh_snippet


def tanh() -> str:
    x = np.linspace(-5, 5, 401)
    return curves(
        "fig-tanh", x,
        [("tanh(x)", tanh_snippet.tanh(x)), ("tanh′(x)", tanh_snippet.tanh_grad(x)),
         ("σ(x), for comparison", sigmoid_snippet.sigmoid(x))],
        "tanh is a sigmoid stretched to (−1, 1) and centred on 0; its slope peaks at 1, "
        "four times the sigmoid's.",
    )
