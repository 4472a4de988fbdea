"""Figures for docs/losses/questions.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.questions import sigmoid_ce_grad, sigmoid_mse_grad

Z = np.linspace(-8, 8, 401)


def mse_vs_ce_gradient() -> str:
    return curves(
        "fig-mse-vs-ce", Z,
        [("cross-entropy: σ(z) − 1", sigmoid_ce_grad(Z, 1.0)),
         ("squared error: 2(σ(z) − 1)σ(z)(1 − σ(z))", sigmoid_mse_grad(Z, 1.0))],
        "Gradient with respect to the logit z when the label is 1. Far to the left the "
        "prediction is confidently wrong: cross-entropy pushes with slope near −1, squared "
        "error hardly at all.",
        xlabel="logit z (label y = 1)", ylabel="∂loss/∂z", ylim=(-1.1, 0.1),
    )
