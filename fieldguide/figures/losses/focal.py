"""Figures for docs/losses/focal.md, drawn from the snippets' own functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide import plotting
from snippets.losses.focal import sigmoid_focal_loss


def focal() -> str:
    p_t = np.linspace(0.01, 0.999, 400)
    logit = np.log(p_t) - np.log1p(-p_t)  # x with sigmoid(x) = p_t, target 1
    ones = np.ones_like(p_t)
    with plt.rc_context(plotting._RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        styles = [*plotting.STYLES, (0, (6, 2, 1, 2, 1, 2))]  # a fifth, distinct dash
        for i, gamma in enumerate((0, 0.5, 1, 2, 5)):
            loss = sigmoid_focal_loss(logit, ones, None, gamma, "none")
            label = f"γ = {gamma:g}" + (" (cross-entropy)" if gamma == 0 else "")
            ax.plot(p_t, loss, label=label, color=plotting.COLORS[i % 4],
                    linestyle=styles[i], linewidth=2)
        ax.set_xlabel("probability of the true class p_t")
        ax.set_ylabel("loss")
        ax.set_ylim(-0.1, 4)
        ax.axhline(0, color=plotting.INK, linewidth=0.6)
        ax.legend(loc="best")
        svg = plotting.to_svg(fig, "fig-focal")
    return plotting.figure_html(
        svg, "Focal loss against p_t: larger γ flattens the loss of well-classified "
        "examples (p_t near 1) far more than that of hard ones.")
