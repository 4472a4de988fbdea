"""Figures for docs/activations/softplus.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.activations import softplus as softplus_snippet
from snippets.activations.relu import relu as relu_fn

X = np.linspace(-4, 4, 401)


def softplus() -> str:
    f = softplus_snippet
    return curves(
        "fig-softplus", X,
        [("β = 1", f.softplus(X)), ("β = 4", f.softplus(X, beta=4.0)),
         ("ReLU", relu_fn(X)), ("derivative, β = 1", f.softplus_grad(X))],
        "Softplus for two sharpness values β next to ReLU: the gap is largest at 0, where "
        "it equals log(2)/β. Its derivative is the sigmoid of βx.",
    )
