"""Figures for docs/fundamentals/perceptron.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, INK, STYLES, figure_html, to_svg
from snippets.fundamentals.perceptron import separable_data, train_perceptron

T = np.linspace(-3, 3, 2)


def _line(ax, w, b, **style):
    """Draw {x : w.x + b = 0} across the axes."""
    p = -b * w / (w @ w)  # the point of the line nearest the origin
    d = np.array([-w[1], w[0]]) / np.linalg.norm(w)  # a direction along the line
    ax.plot(*(p[:, None] + d[:, None] * T * 3), **style)


def boundaries() -> str:
    w = np.array([1.0, 0.5])
    with plt.rc_context(_RC):
        fig, (left, right) = plt.subplots(1, 2, figsize=(8.8, 4.2))
        for i, b in enumerate((-1.5, 0.0, 1.5)):
            _line(left, w, b, color=COLORS[i], linestyle=STYLES[i], linewidth=2,
                  label=f"b = {b:g}")
        left.annotate("", xy=w, xytext=(0, 0),
                      arrowprops={"arrowstyle": "->", "color": INK, "linewidth": 1.5})
        left.text(w[0] + 0.1, w[1] + 0.1, "w", color=INK)
        left.plot([0], [0], "o", color=INK, markersize=4)
        left.set_title("w = (1, 0.5), three biases")
        left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=9)

        X, y, _ = separable_data(200, seed=1)
        wt, bt, _ = train_perceptron(X, y)
        for label, marker, color in ((1, "o", COLORS[1]), (-1, "x", COLORS[0])):
            pts = X[y == label]
            right.plot(pts[:, 0], pts[:, 1], marker, color=color, markersize=4,
                       linestyle="none", label=f"label {label:+d}")
        _line(right, wt, bt, color=COLORS[2], linewidth=2, label="learned boundary")
        _line(right, wt, 0.0, color=INK, linestyle=":", linewidth=1.5,
              label="same w, b = 0")
        right.plot([0], [0], "o", color=INK, markersize=4)
        right.set_title("perceptron rule on separable data")
        right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=9)
        for ax in (left, right):
            ax.set_xlim(-1.6, 1.6)
            ax.set_ylim(-1.6, 1.6)
            ax.set_aspect("equal")
            ax.set_xlabel("x₁")
        left.set_ylabel("x₂")
        return figure_html(
            to_svg(fig, "fig-perceptron-boundaries"),
            "Left: the boundary w·x + b = 0 is perpendicular to w; changing b moves it "
            "parallel to itself, and with b = 0 it passes through the origin (the dot). "
            "Right: the line the perceptron rule found on the data of the convergence demo, "
            "and the line with the same weights and no bias, which misclassifies points.",
        )
