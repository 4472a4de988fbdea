"""Figures for docs/regularization/index.md, drawn from the snippet's own fitting code."""

import matplotlib.pyplot as plt
import numpy as np
from numpy.polynomial.legendre import legvander

from fieldguide.plotting import _RC, COLORS, INK, STYLES, figure_html, to_svg
from snippets.regularization.index import fit_ridge, make_data

X = np.linspace(-1, 1, 801)


def overfit() -> str:
    x_train, y_train, _, _ = make_data()
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        ax.plot(X, np.sin(np.pi * X), color=INK, linestyle=STYLES[3], linewidth=1.5,
                label="sin(πx), the truth")
        for i, lam in enumerate((0.0, 1e-2)):
            w = fit_ridge(x_train, y_train, lam)
            ax.plot(X, legvander(X, len(w) - 1) @ w, color=COLORS[i], linestyle=STYLES[i],
                    linewidth=2, label=f"degree 12, λ = {lam:g}")
        ax.plot(x_train, y_train, "o", color=INK, markersize=4, label="15 training points")
        ax.set_ylim(-2.5, 2.5)
        ax.set_xlabel("x")
        ax.legend(loc="lower right", fontsize=9)
        caption = (
            "A degree-12 polynomial fitted to 15 noisy samples of sin(πx). Without a penalty "
            "(λ = 0) it passes close to every training point and swings far from the truth "
            "where they are sparse, out of the plotted range; with the L2 penalty λ = 0.01 "
            "it is smooth and much closer to sin(πx).")
        return figure_html(to_svg(fig, "fig-regularization-overfit"), caption)
