"""Figures for docs/normalization/feature-scaling.md: gradient descent before and after scaling."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, INK, figure_html, to_svg
from snippets.normalization.feature_scaling import fit_standard, transform

STEPS = 20


def _problem(seed=0, n=200):
    """Two centred features with spreads 1 and 5; y = 2 x1 + 0.4 x2 + noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) * [1.0, 5.0]
    X = X - X.mean(axis=0)
    return X, X @ [2.0, 0.4] + rng.normal(0, 0.5, n)


def _path(X, y):
    """Gradient descent with step 1/L from 0 on the mean squared error / 2."""
    A, b = X.T @ X / len(X), X.T @ y / len(X)
    lr = 1 / np.linalg.eigvalsh(A).max()
    theta, path = np.zeros(2), [np.zeros(2)]
    for _ in range(STEPS):
        theta = theta - lr * (A @ theta - b)
        path.append(theta)
    return A, b, np.linalg.solve(A, b), np.array(path)


def gradient_descent_paths() -> str:
    X, y = _problem()
    panels = [("raw features", X), ("standardized features", transform(X, *fit_standard(X)))]
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.6))
        for ax, (title, features) in zip(axes, panels, strict=True):
            A, _, exact, path = _path(features, y)
            half = 1.3 * np.abs(exact).max()
            t1, t2 = np.meshgrid(np.linspace(exact[0] - half, exact[0] + half, 201),
                                 np.linspace(exact[1] - half, exact[1] + half, 201))
            d = np.stack([t1 - exact[0], t2 - exact[1]], axis=-1)  # offset from the optimum
            excess = 0.5 * np.einsum("...i,ij,...j->...", d, A, d)  # loss above its minimum
            levels = np.quantile(excess, [0.002, 0.01, 0.03, 0.08, 0.2, 0.4])
            ax.contour(t1, t2, excess, levels=levels, colors=INK, linewidths=0.6, alpha=0.6)
            ax.plot(path[:, 0], path[:, 1], "o-", color=COLORS[0], markersize=3,
                    linewidth=1.5, label=f"{STEPS} steps of size 1/L")
            ax.plot(*exact, "*", color=COLORS[1], markersize=11, label="least-squares solution")
            ax.set_aspect("equal")
            kappa = np.linalg.cond(A)
            ax.set_title(f"{title}: κ = {kappa:.1f}", fontsize=10)
            ax.set_xlabel("θ₁")
            ax.set_ylabel("θ₂")
        axes[0].legend(loc="lower left", fontsize=8)
        caption = (
            "Contours of the mean squared error over the two weights of a linear model, with "
            "gradient descent from 0. Left: centred features with spreads 1 and 5, so the "
            "curvature differs about 25-fold between the two directions; the step must suit "
            "the steep direction, and the weight of the flat one creeps towards its target. "
            "Right: the same data standardized; the contours are nearly circles and the steps "
            "reach the solution at once.")
        return figure_html(to_svg(fig, "fig-feature-scaling-gd"), caption)
