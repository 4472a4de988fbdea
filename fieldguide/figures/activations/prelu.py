"""Figures for docs/activations/prelu.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.activations import prelu as prelu_snippet

X = np.linspace(-4, 4, 401)


def prelu() -> str:
    f = prelu_snippet
    series = [(f"a = {a:g}", f.prelu(X, np.array([a]))) for a in (0.25, 0.5, -0.25)]
    grad_input, _ = f.prelu_grad(X, np.array([0.25]))
    return curves(
        "fig-prelu", X, [*series, ("derivative, a = 0.25", grad_input)],
        "PReLU for a few values of the learned slope a (0.25 is torch's initial value), "
        "and its derivative with respect to the input.",
    )
