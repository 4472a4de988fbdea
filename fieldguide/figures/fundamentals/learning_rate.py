"""Figures for docs/fundamentals/learning-rate.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, STYLES, figure_html, to_svg
from snippets.fundamentals.learning_rate import best_constant_rate, make_quadratic, run_gd


def loss_curves() -> str:
    mu, L = 1.0, 10.0
    A, Q = make_quadratic([mu, L])
    x0 = Q @ np.array([1.0, 1.0])
    runs = [("η = 0.1/L, too small", 0.1 / L),
            ("η = 2/(L + μ), the best constant rate", best_constant_rate(mu, L)[0]),
            ("η = 2/L, on the bound", 2 / L),
            ("η = 1.05 · 2/L, above it", 1.05 * 2 / L)]
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        for i, (label, lr) in enumerate(runs):
            path = run_gd(A, x0, lr, 60)
            loss = 0.5 * np.einsum("ti,ij,tj->t", path, A, path)
            ax.semilogy(loss, color=COLORS[i], linestyle=STYLES[i], linewidth=2, label=label)
        ax.set_ylim(1e-12, 1e3)
        ax.set_xlabel("step t")
        ax.set_ylabel("loss f(x_t)")
        ax.legend(loc="lower left", fontsize=9)
        caption = (
            "Gradient descent on f(x) = ½ xᵀAx with eigenvalues μ = 1 and L = 10. Too small a "
            "rate crawls; 2/(L + μ) shrinks the loss fastest; at exactly 2/L the loss settles "
            "at the part along the top eigenvector, which flips sign at every step; 5 % above "
            "2/L the loss grows without bound.")
        return figure_html(to_svg(fig, "fig-fundamentals-lr-loss-curves"), caption)
