"""Figures for docs/fundamentals/deep-vs-traditional.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from fieldguide.plotting import _RC, COLORS, INK, figure_html, one_torch_thread, to_svg
from snippets.fundamentals.deep_vs_traditional import (
    circles,
    fit_logistic,
    fit_mlp,
    with_radius,
)


def boundaries() -> str:
    with one_torch_thread():  # tiny networks
        return _boundaries()


def _boundaries() -> str:
    X, y = circles(200, seed=0)  # the training set of seed 0 on the page
    g = np.linspace(-3.2, 3.2, 161)
    g1, g2 = np.meshgrid(g, g)
    grid = np.c_[g1.ravel(), g2.ravel()]
    w, b = fit_logistic(X, y)
    wr, br = fit_logistic(with_radius(X), y)
    net = fit_mlp(X, y, seed=0)
    with torch.no_grad():
        mlp_scores = net(torch.tensor(grid, dtype=torch.float32)).squeeze(1).numpy()
    panels = [
        ("logistic on (x₁, x₂)", grid @ w + b),
        ("MLP on (x₁, x₂)", mlp_scores),
        ("logistic on (x₁, x₂, x₁² + x₂²)", with_radius(grid) @ wr + br),
    ]
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.4))
        for ax, (title, scores) in zip(axes, panels, strict=True):
            z = scores.reshape(g1.shape)
            ax.contourf(g1, g2, z > 0, levels=[-0.5, 0.5, 1.5], colors=[COLORS[1], COLORS[0]],
                        alpha=0.15)
            ax.contour(g1, g2, z, levels=[0], colors=INK, linewidths=1.2)
            for label, marker in ((0, "o"), (1, "^")):
                pts = X[y == label]
                ax.plot(pts[:, 0], pts[:, 1], marker, color=COLORS[1 - label], markersize=3,
                        linestyle="none", label=f"class {label}")
            ax.set_aspect("equal")
            ax.set_xlim(-3.2, 3.2)
            ax.set_ylim(-3.2, 3.2)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("x₁")
        axes[0].set_ylabel("x₂")
        axes[0].legend(loc="lower left", fontsize=8)
        return figure_html(
            to_svg(fig, "fig-deep-vs-traditional-boundaries"),
            "Decision boundaries (black line; shaded by predicted class) on the 200 training "
            "examples of the concentric circles: a straight line on the raw inputs, the closed "
            "curve the MLP learned, and the circle a linear model draws once the squared "
            "radius is one of its features.",
        )
