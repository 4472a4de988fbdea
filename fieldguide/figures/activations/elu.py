"""Figures for docs/activations/elu.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.activations import elu as elu_snippet

X = np.linspace(-4, 3, 701)


def elu() -> str:
    f = elu_snippet
    return curves(
        "fig-elu", X,
        [("ELU, α = 1 (default)", f.elu(X)),
         ("ELU, α = 2", f.elu(X, 2.0)),
         ("CELU, α = 2", f.celu(X, 2.0)),
         ("ELU, α = 0 (ReLU)", f.elu(X, 0.0))],
        "ELU follows the identity for positive inputs and bends smoothly towards −α for "
        "negative ones; with α = 0 it is ReLU. CELU with α = 2 reaches −2 more slowly and "
        "leaves 0 with slope 1.",
    )


def elu_derivatives() -> str:
    f = elu_snippet
    return curves(
        "fig-elu-derivatives", X,
        [("ELU′, α = 1", f.elu_grad(X)),
         ("ELU′, α = 2", f.elu_grad(X, 2.0)),
         ("CELU′, α = 2", f.celu_grad(X, 2.0))],
        "Derivatives: with α = 1 the slope of ELU is continuous at 0; with α = 2 it jumps from "
        "2 to 1 there. CELU's slope is continuous for every α.",
        ylim=(-0.1, 2.2),
    )
