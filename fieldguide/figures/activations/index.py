"""Family-wide figures for docs/activations/index.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.activations import index as vg


def vanishing_gradients() -> str:
    params = vg.init_stack(20, 64)
    x = np.random.default_rng(1).normal(size=(128, 64))
    layers = np.arange(1, 21)
    return curves(
        "fig-vanishing-gradients", layers,
        [(f"{a}", np.log10(vg.weight_grad_norms(x, params, a))) for a in ("sigmoid", "relu")],
        "Size of the weight gradient reaching each layer of a 20-layer stack (same weights, "
        "only the activation differs). With sigmoid it falls by about ten orders of "
        "magnitude from the last layer to the first; with ReLU it stays within a factor "
        "of a few.",
        xlabel="layer (1 = first, nearest the input)", ylabel="log10 ‖∂L/∂W‖",
    )
