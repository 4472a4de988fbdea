"""Figures for docs/losses/cycle-consistency.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.cycle_consistency import linear_cycle_loss


def cycle_consistency() -> str:
    """Cycle loss and its slope when G doubles its input and F scales by s: minimum at s = 1/2."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 1)), rng.normal(size=(64, 1)) * 2
    W_G = np.array([[2.0]])
    s = np.linspace(-0.25, 1.25, 301)
    loss, slope = [], []
    for scale in s:
        value, _, grad_wf = linear_cycle_loss(x, y, W_G, np.array([[scale]]), lambda_cyc=1.0)
        loss.append(value)
        slope.append(grad_wf[0, 0])
    return curves(
        "fig-cycle-consistency", s,
        [("L_cyc (λ = 1)", np.array(loss)), ("dL_cyc/ds", np.array(slope))],
        "With G(x) = 2x and F(y) = s·y, both round trips scale by 2s: the cycle loss is a "
        "V with its minimum at s = 1/2, where F inverts G, and its slope jumps there.",
        xlabel="scale s of F",
    )
