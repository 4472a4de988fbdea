"""Figures for docs/fundamentals/generalization.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, INK, STYLES, figure_html, to_svg
from snippets.fundamentals.generalization import (
    error_curves,
    fit_polynomial,
    make_data,
    predict,
)

DEGREES = np.arange(1, 16)


def error_curves_figure() -> str:
    x_train, y_train, x_val, y_val = make_data(seed=6)
    train, val = error_curves(x_train, y_train, x_val, y_val, DEGREES)
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        ax.semilogy(DEGREES, train, "o-", color=COLORS[0], linewidth=2, label="training MSE")
        ax.semilogy(DEGREES, val, "s--", color=COLORS[1], linewidth=2, label="validation MSE")
        ax.axhline(0.09, color=INK, linestyle=STYLES[3], linewidth=1,
                   label="noise variance σ² = 0.09")
        best = DEGREES[np.argmin(val)]
        ax.axvline(best, color=COLORS[2], linestyle=STYLES[2], linewidth=1,
                   label=f"lowest validation error (degree {best})")
        ax.set_xlabel("polynomial degree")
        ax.set_ylabel("mean squared error")
        ax.set_xticks(DEGREES)
        ax.legend(loc="upper left", fontsize=9)
        caption = (
            "Training and validation error of least-squares polynomials fitted to 20 noisy "
            "samples of sin(3x). The training error only falls with the degree; the validation "
            "error falls while the fit gains the shape it lacked (underfitting), stays near the "
            "noise level, then rises as the fit follows the noise (overfitting).")
        return figure_html(to_svg(fig, "fig-fundamentals-generalization-curves"), caption)


def fits() -> str:
    x_train, y_train, _, _ = make_data(seed=6)
    grid = np.linspace(-1, 1, 801)
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        ax.plot(grid, np.sin(3 * grid), color=INK, linestyle=STYLES[3], linewidth=1.5,
                label="sin(3x), the truth")
        for i, p in enumerate((1, 5, 15)):
            ax.plot(grid, predict(fit_polynomial(x_train, y_train, p), grid), color=COLORS[i],
                    linestyle=STYLES[i], linewidth=2, label=f"degree {p}")
        ax.plot(x_train, y_train, "o", color=INK, markersize=4, label="20 training points")
        ax.set_ylim(-2, 2)
        ax.set_xlabel("x")
        ax.legend(loc="lower right", fontsize=9)
        caption = (
            "Fits of degree 1 (a line: too simple, it underfits), 5 (close to the truth) and 15 "
            "(it bends towards individual noisy points and swings away from the truth between "
            "and beyond them: it overfits).")
        return figure_html(to_svg(fig, "fig-fundamentals-generalization-fits"), caption)
