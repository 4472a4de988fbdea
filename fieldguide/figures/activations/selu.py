"""Figures for docs/activations/selu.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.activations import elu as elu_snippet
from snippets.activations import selu as selu_snippet

X = np.linspace(-4, 3, 701)
LAYERS = np.arange(1, 65)


def selu() -> str:
    f = selu_snippet
    return curves(
        "fig-selu", X,
        [("SELU(x)", f.selu(X)),
         ("SELU′(x)", f.selu_grad(X)),
         ("ELU(x), α = 1", elu_snippet.elu(X))],
        "SELU is ELU with α ≈ 1.673, scaled by λ ≈ 1.051: slope λ on the right, a floor of "
        "−λα ≈ −1.758 on the left, and a slope that jumps from λα ≈ 1.758 to λ at 0.",
    )


def selu_variance() -> str:
    f = selu_snippet
    stacks = [  # (label, activation, c in W ~ N(0, c/n)), as in the page's table
        ("SELU, c = 1 (LeCun normal)", f.selu, 1.0),
        ("SELU, c = 2 (He normal)", f.selu, 2.0),
        ("SELU, c = 0.5625 (gain 3/4)", f.selu, 0.5625),
        ("ReLU, c = 2 (He normal)", lambda z: np.maximum(z, 0), 2.0),
    ]
    series = [(label, np.log10(f.stack_moments(act, c)[1])) for label, act, c in stacks]
    return curves(
        "fig-selu-variance", LAYERS, series,
        "Variance after each of 64 layers (log scale, 0 is a variance of 1), for standardized "
        "inputs and weights drawn from N(0, c/n). Only SELU with c = 1 stays near 1 at every "
        "layer; ReLU's variance wanders with the random draw. c = 0.5625 is the scale of "
        "kaiming_normal_ with nonlinearity='selu' (see the pitfalls).",
        xlabel="layer", ylabel="log10 variance",
    )
