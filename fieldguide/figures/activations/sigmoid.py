"""Figures for docs/activations/sigmoid.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.activations import sigmoid as sigmoid_snippet


def sigmoid() -> str:
    f = sigmoid_snippet
    x = np.linspace(-8, 8, 401)
    return curves(
        "fig-sigmoid", x, [("σ(x)", f.sigmoid(x)), ("σ′(x)", f.sigmoid_grad(x))],
        "The sigmoid and its derivative: the slope peaks at 1/4 at x = 0 and is close to 0 "
        "once |x| passes about 5 (saturation).",
    )
