"""Figures for docs/fundamentals/gradient-descent.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, STYLES, figure_html, to_svg
from snippets.fundamentals.gradient_descent import (
    batch_gradient_spread,
    gradient_descent,
    make_problem,
    predicted_variance,
    sgd,
)


def convergence() -> str:
    X, y = make_problem()
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    L = np.linalg.eigvalsh(2 * X.T @ X / len(y))[-1]
    gd = np.array([gradient_descent(X, y, 1 / L, tol=0, max_steps=k)[0] for k in range(51)])
    runs = [
        ("full batch, lr 1/L", gd),
        ("B = 1, constant lr", sgd(X, y, 0.1 / L, 1, 50)),
        ("B = 1, decaying lr", sgd(X, y, 0.1 / L, 1, 50, decay=400)),
        ("B = 16, decaying lr", sgd(X, y, 0.5 / L, 16, 50, decay=100)),
    ]
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        for i, (label, path) in enumerate(runs):
            ax.semilogy(np.linalg.norm(path - w_star, axis=1), color=COLORS[i],
                        linestyle=STYLES[i], linewidth=2, label=label)
        ax.set_xlabel("epoch (passes over the 200 examples)")
        ax.set_ylabel("distance to the optimum")
        ax.legend(loc="lower left", fontsize=9)
        caption = (
            "Distance to the least-squares optimum after each epoch. Full-batch gradient "
            "descent takes one step per epoch; single-example SGD takes 200, gets close fastest, "
            "but with a constant learning rate stalls at a noise floor; a decaying rate keeps "
            "closing in.")
        return figure_html(to_svg(fig, "fig-fundamentals-gd-convergence"), caption)


def variance() -> str:
    X, y = make_problem()
    w0 = np.zeros(X.shape[1])
    sizes = np.array([1, 2, 4, 8, 16, 32, 64, 128, 200])
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        for i, replace in enumerate((True, False)):
            measured = [batch_gradient_spread(X, y, w0, B, replace=replace).mean()
                        for B in sizes[:-1] if replace or len(y) > B]
            exact = [predicted_variance(X, y, w0, B, replace=replace) for B in sizes[:-1]]
            label = "with replacement" if replace else "without replacement"
            ax.loglog(sizes[:-1], exact, color=COLORS[i], linestyle=STYLES[i], linewidth=2,
                      label=f"{label}, exact")
            ax.loglog(sizes[: len(measured)], measured, "o", color=COLORS[i],
                      label=f"{label}, measured")
        ax.set_xlabel("batch size B")
        ax.set_ylabel("variance of the batch gradient")
        ax.legend(loc="lower left", fontsize=9)
        caption = (
            "Total variance of the mean gradient of a random batch of B out of N = 200 examples, "
            "measured over 4000 batches. With replacement it is trΣ/B, a line of slope −1; "
            "without replacement the factor (N − B)/(N − 1) bends it down, to exactly 0 at "
            "B = N (off this log scale).")
        return figure_html(to_svg(fig, "fig-fundamentals-gd-variance"), caption)
