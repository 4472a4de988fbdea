"""Figures for docs/attention/additive.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from fieldguide.plotting import _RC, COLORS, INK, figure_html, to_svg
from snippets.attention.additive import additive_scores, random_parameters

H = np.linspace(-6, 6, 241)


def score_shapes() -> str:
    s = torch.ones(1, 1, dtype=torch.float64)  # one query, width 1: s = 1
    h = torch.tensor(H, dtype=torch.float64)[:, None]  # 241 keys of width 1
    W, U, v = random_parameters(1, 1, 8, seed=2)  # A = 8 hidden units
    W, U = W * 2, U * 2  # steeper tanh, to show the saturation within the plot
    additive = additive_scores(s, h, W, U, v)[0].numpy()  # (S,)
    bound = v.abs().sum().item()
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        ax.plot(H, H, color=COLORS[0], linewidth=2, label="dot product s·h")
        ax.plot(H, additive, color=COLORS[1], linestyle="--", linewidth=2,
                label="additive vᵀ tanh(Ws + Uh), A = 8")
        for sign in (1, -1):
            ax.axhline(sign * bound, color=COLORS[2], linestyle=":", linewidth=1.5,
                       label="±‖v‖₁" if sign == 1 else None)
        ax.axhline(0, color=INK, linewidth=0.6)
        ax.set_ylim(-3.2, 3.2)
        ax.set_xlabel("key h")
        ax.set_ylabel("score")
        ax.legend(loc="upper left", fontsize=9)
        return figure_html(
            to_svg(fig, "fig-additive-scores"),
            "Score of one query (s = 1, width 1) against keys h of width 1. The dot product "
            "grows without limit; the additive score is a sum of A = 8 shifted tanh steps, so "
            f"it stays within ±‖v‖₁ = ±{bound:.2f} whatever the inputs.",
        )
