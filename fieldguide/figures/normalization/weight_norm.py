"""Figures for docs/normalization/weight-norm.md, drawn with the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, STYLES, figure_html, to_svg
from snippets.normalization.weight_norm import weight_norm, weight_norm_grad, weight_norm_init

LRS = (0.003, 0.03, 0.3)
STEPS = 3000


def _effective_steps(lr, seed=0, d=10):
    """SGD (one noisy sample per step) on a weight-normalized linear unit; returns
    lr / |v|^2 after each step, the size of the direction's steps relative to lr * G."""
    rng = np.random.default_rng(seed)
    w_true = rng.normal(size=(1, d))
    g, v = weight_norm_init(rng.normal(size=(1, d)))
    out = []
    for _ in range(STEPS):
        x = rng.normal(size=d)
        residual = weight_norm(g, v) @ x - (w_true @ x + 0.5 * rng.normal())  # (1,)
        grad_g, grad_v = weight_norm_grad(g, v, residual[:, None] * x[None, :])
        g, v = g - lr * grad_g, v - lr * grad_v
        out.append(lr / np.sum(v * v))
    return np.array(out)


def effective_step() -> str:
    steps = np.arange(1, STEPS + 1)
    runs = {lr: _effective_steps(lr) for lr in LRS}
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        for i, (lr, curve) in enumerate(runs.items()):
            ax.plot(steps, curve, color=COLORS[i], linestyle=STYLES[i], linewidth=2,
                    label=f"learning rate η = {lr:g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("SGD step")
        ax.set_ylabel("η / ‖v‖²")
        ax.set_ylim(5e-5, 5e-2)
        ax.legend(loc="lower right", fontsize=9)
        hi, mid = runs[LRS[2]], runs[LRS[1]]
        caption = (
            f"SGD with one noisy sample per step on a weight-normalized linear unit with 10 "
            f"inputs, for three learning rates η. Together with g and the gradient, the "
            f"plotted η / ‖v‖² sets how far each step turns the direction. Every step "
            f"lengthens v, most of all for the largest η: for η = {LRS[2]:g} the value falls "
            f"{hi[0] / hi[-1]:.1f}-fold in {STEPS} steps. It starts at 10 times the value for "
            f"η = {LRS[1]:g} ({hi[0] / mid[0]:.1f} times after the first step) and ends at "
            f"{hi[-1] / mid[-1]:.1f} times it.")
        return figure_html(to_svg(fig, "fig-weight-norm-effective-step"), caption)
