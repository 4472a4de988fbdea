"""Figures for docs/fundamentals/mlp.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, INK, STYLES, figure_html, to_svg
from snippets.fundamentals.mlp import mlp_forward

W1, B1 = np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([0.0, -1.0])
W2, B2 = np.array([[1.0, -2.0]]), np.array([0.0])
X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
T = np.linspace(-1, 3, 2)


def _points(ax, pts, labels):
    for label, marker, color in ((1, "o", COLORS[1]), (0, "x", COLORS[0])):
        sel = pts[labels == label]
        ax.plot(sel[:, 0], sel[:, 1], marker, color=color, markersize=9, markeredgewidth=2,
                linestyle="none", label=f"XOR = {label}")


def xor() -> str:
    out, acts = mlp_forward(X, [(W1, B1), (W2, B2)])
    labels = out[:, 0].round().astype(int)
    with plt.rc_context(_RC):
        fig, (left, right) = plt.subplots(1, 2, figsize=(8.8, 4.2))
        _points(left, X, labels)
        for i, c in enumerate((0.0, 1.0)):
            left.plot(T, c - T, color=COLORS[2 + i], linestyle=STYLES[1 + i], linewidth=1.5,
                      label=f"unit {i + 1} switches on: x₁ + x₂ = {c:g}")
        left.set_xlabel("x₁")
        left.set_ylabel("x₂")
        left.set_title("input space: no line separates")
        _points(right, acts[1], labels)
        right.plot(T, (T - 0.5) / 2, color=INK, linestyle=":", linewidth=1.5,
                   label="h₁ − 2h₂ = 0.5")
        right.annotate("(0, 1) and (1, 0)", xy=(1, 0), xytext=(1.2, -0.45), color=INK,
                       fontsize=9)
        right.set_xlabel("h₁")
        right.set_ylabel("h₂")
        right.set_title("hidden space: one line does")
        for ax in (left, right):
            ax.set_xlim(-0.5, 2.5)
            ax.set_ylim(-0.7, 1.5)
            ax.set_aspect("equal")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), fontsize=9)
        return figure_html(
            to_svg(fig, "fig-mlp-xor"),
            "Left: the four XOR inputs and the lines where the two hidden units switch on. "
            "Right: the same inputs after the hidden layer, h = ReLU(W₁x + b₁). The two "
            "inputs labelled 1 land on the same point, and the output unit h₁ − 2h₂ "
            "separates the classes with a single line.",
        )
