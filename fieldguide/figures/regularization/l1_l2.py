"""Figures for docs/regularization/l1-l2.md, drawn from the snippet's own training code."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, INK, STYLES, figure_html, to_svg
from snippets.regularization.l1_l2 import fit, l2_step, proximal_step, sparse_regression

LAMS = np.logspace(-2, 2, 41)


def paths() -> str:
    X, y, _ = sparse_regression()
    lip = np.linalg.eigvalsh(X.T @ X / len(y)).max()  # Lipschitz constant of the loss
    runs = {"L1 (proximal steps)": (proximal_step, lambda lam: 1 / lip),
            "L2 (gradient steps)": (l2_step, lambda lam: 1 / (lip + lam))}
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.4), sharey=True)
        for ax, (title, (step, lr)) in zip(axes, runs.items(), strict=True):
            ws = np.array([fit(X, y, step, lam, lr(lam)) for lam in LAMS])  # (λ, d)
            for j in range(ws.shape[1]):
                true = j < 3
                ax.plot(LAMS, ws[:, j], color=COLORS[j] if true else INK,
                        linestyle=STYLES[0] if true else STYLES[3],
                        linewidth=2 if true else 1, label=f"w{j + 1}" if true else None)
            ax.set_xscale("log")
            ax.set_xlabel("penalty strength λ")
            ax.set_title(title, fontsize=11)
            ax.axhline(0, color=INK, linewidth=0.6)
        axes[0].set_ylabel("fitted weight")
        axes[0].legend(loc="upper right")
        caption = (
            "Weights of the sparse regression on this page, fitted for 41 values of λ. "
            "Coloured: the three weights that are not zero in truth (3, −2, 1.5); dotted: the "
            "seven that are zero. With L1, each weight reaches exactly zero at some λ and stays "
            "there, the seven noise weights first; for λ above max|Xᵀy|/n ≈ 2.7 all are zero. "
            "With L2, every weight shrinks smoothly towards zero and none reaches it.")
        return figure_html(to_svg(fig, "fig-l1-l2-paths"), caption)
