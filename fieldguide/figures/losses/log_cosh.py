"""Figures for docs/losses/log-cosh.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import RESIDUAL as R
from fieldguide.plotting import ZERO
from fieldguide.plotting import residual_curves as _plot
from snippets.losses.log_cosh import log_cosh_loss, log_cosh_loss_grad
from snippets.losses.mae import l1_loss
from snippets.losses.mse import mse_loss


def log_cosh() -> str:
    return _plot("fig-log-cosh", [
        ("log cosh r", log_cosh_loss(R, ZERO, "none")),
        ("r²/2 (small-r limit)", mse_loss(R, ZERO, "none") / 2),
        ("|r| − log 2 (large-r limit)", l1_loss(R, ZERO, "none") - np.log(2)),
        ("gradient tanh r", log_cosh_loss_grad(R, ZERO, "none")),
    ], "Log-cosh follows r²/2 near 0 and |r| − log 2 far from it; its gradient tanh r is "
       "smooth and bounded by 1.", ylim=(-1.5, 3.5))
