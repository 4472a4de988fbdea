"""Family-wide figures for docs/optimizers/index.md: every optimizer's path on two test functions,
drawn from the snippets' own step functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, INK, STYLES, figure_html, to_svg
from snippets.optimizers import adadelta, adagrad, adam, momentum, rmsprop, sgd
from snippets.optimizers.index import (
    quadratic,
    quadratic_grad,
    rosenbrock,
    rosenbrock_grad,
    trajectory,
)


def _optimizers(lrs):
    """(label, step function, initial-state function, options) for each optimizer."""
    sgd_lr, mom_lr, ada_lr, rms_lr, delta_lr, adam_lr = lrs
    return [
        (f"SGD, η = {sgd_lr:g}", sgd.sgd_step, sgd.init_state, {"lr": sgd_lr}),
        (f"momentum 0.9, η = {mom_lr:g}", momentum.momentum_step, momentum.init_state,
         {"lr": mom_lr, "momentum": 0.9}),
        (f"Nesterov 0.9, η = {mom_lr:g}", momentum.momentum_step, momentum.init_state,
         {"lr": mom_lr, "momentum": 0.9, "nesterov": True}),
        (f"Adagrad, η = {ada_lr:g}", adagrad.adagrad_step, adagrad.init_state,
         {"lr": ada_lr}),
        (f"RMSprop, η = {rms_lr:g}", rmsprop.rmsprop_step, rmsprop.init_state,
         {"lr": rms_lr}),
        (f"Adadelta, η = {delta_lr:g}", adadelta.adadelta_step, adadelta.init_state,
         {"lr": delta_lr}),
        (f"Adam, η = {adam_lr:g}", adam.adam_step, adam.init_state, {"lr": adam_lr}),
    ]


def _paths(name, f, grad_fn, theta0, steps, lrs, box, minimum, caption):
    """Two panels on the objective's contours: the momentum family, then the adaptive one."""
    theta0 = np.asarray(theta0, dtype=float)
    (x0, x1), (y0, y1) = box
    X, Y = np.meshgrid(np.linspace(x0, x1, 120), np.linspace(y0, y1, 120))
    Z = np.log10(f(np.stack([X, Y], axis=-1)) + 1e-3)  # log levels: the valley floor shows
    optimizers = _optimizers(lrs)
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.8), sharey=True)
        fig.subplots_adjust(wspace=0.06)
        for ax, group in zip(axes, (optimizers[:3], optimizers[3:]), strict=True):
            ax.contour(X, Y, Z, levels=12, colors=INK, linewidths=0.4, alpha=0.3)
            for i, (label, step, init, options) in enumerate(group):
                path = trajectory(step, init([theta0]), theta0, grad_fn, steps, **options)
                ax.plot(path[:, 0], path[:, 1], color=COLORS[i], linestyle=STYLES[i],
                        linewidth=1.5, label=label)
                ax.plot(*path[-1], "s", color=COLORS[i], markersize=4)  # where it stopped
            ax.plot(*theta0, "o", color=INK, markersize=5)
            ax.plot(*minimum, "*", color=INK, markersize=10)
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            ax.set_xlabel("θ₁")
            ax.grid(False)
            ax.legend(loc="lower left", fontsize=8.5, framealpha=0)
        axes[0].set_ylabel("θ₂")
        return figure_html(to_svg(fig, name), caption)


def quadratic_paths() -> str:
    return _paths(
        "fig-optimizers-quadratic", quadratic, quadratic_grad, (-4.0, 1.0), 100,
        (0.09, 0.02, 1.0, 0.05, 30.0, 0.3), ((-4.5, 1.5), (-1.3, 1.3)), (0.0, 0.0),
        "100 steps of each optimizer on f(θ) = ½(θ₁² + 20 θ₂²) from (−4, 1) (dot) towards "
        "the minimum (star); a square marks where each one stopped. SGD zigzags across "
        "the steep axis; heavy-ball momentum overshoots and swings, Nesterov's less, and both "
        "end farther from the minimum than SGD (μ = 0.9 is too large for this bowl). The "
        "adaptive methods scale each axis by its own gradient size, so their first steps go "
        "diagonally, equally far along both axes. Adadelta's first steps are tiny (about "
        "0.003 η per coordinate with its default ε and ρ), so it is given η = 30 here.")


def rosenbrock_paths() -> str:
    return _paths(
        "fig-optimizers-rosenbrock", rosenbrock, rosenbrock_grad, (-1.2, 1.0), 500,
        (0.0015, 0.001, 0.3, 0.01, 1.0, 0.05), ((-1.5, 1.45), (-0.5, 1.5)), (1.0, 1.0),
        "500 steps on Rosenbrock's function (a = 1, b = 100) from (−1.2, 1) (dot) towards "
        "its minimum at (1, 1) (star); a square marks where each one stopped. Every method "
        "drops into the curved valley quickly; they differ in how far each then travels "
        "along its nearly flat floor.")
