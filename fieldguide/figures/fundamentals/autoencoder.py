"""Figures for docs/fundamentals/autoencoder.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, INK, figure_html, to_svg
from snippets.fundamentals.autoencoder import low_rank_data, train_linear_autoencoder


def subspace() -> str:
    X = low_rank_data(n=150, d=2, seed=4)
    E, D = train_linear_autoencoder(X, 1)
    _, _, Vt = np.linalg.svd(X, full_matrices=False)
    R = X @ E.T @ D.T  # reconstructions, on the decoder's line
    t = np.array([-3.0, 3.0])
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.0, 4.4))
        ax.plot(X[:, 0], X[:, 1], "o", color=COLORS[1], markersize=3, label="data x")
        ax.plot(R[:, 0], R[:, 1], "x", color=COLORS[0], markersize=4, label="reconstruction DEx")
        u = D[:, 0] / np.linalg.norm(D[:, 0])
        ax.plot(t * u[0], t * u[1], color=COLORS[0], linewidth=2, label="span of D")
        v = Vt[0]
        ax.plot(t * v[0], t * v[1], color=INK, linestyle=":", linewidth=2,
                label="top right singular vector")
        ax.set_aspect("equal")
        ax.set_xlim(-3, 3)
        ax.set_ylim(-2.2, 2.2)
        ax.set_xlabel("x₁")
        ax.set_ylabel("x₂")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=9)
        caption = ("A linear autoencoder with a one-number code trained on 2-D data: every "
                   "reconstruction lies on the line spanned by the decoder's column, and that "
                   "line coincides with the first principal direction from the SVD (dotted).")
        return figure_html(to_svg(fig, "fig-autoencoder-subspace"), caption)
