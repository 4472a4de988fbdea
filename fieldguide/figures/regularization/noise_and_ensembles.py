"""Figures for docs/regularization/noise-and-ensembles.md, drawn from the snippets' functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.regularization.noise_and_ensembles import ensemble_variance

K = np.arange(1, 51, dtype=float)


def ensemble_variance_curves() -> str:
    return curves(
        "fig-ensemble-variance", K,
        [(f"ρ = {rho:g}", ensemble_variance(1.0, rho, K)) for rho in (0.0, 0.2, 0.5, 0.8)],
        "Variance of the average of k errors of variance 1 with pairwise correlation ρ: "
        "it falls like 1/k towards a floor of ρ, which more members cannot lower.",
        xlabel="number of members k", ylabel="variance of the average", ylim=(0, 1.05),
    )
