"""Figures for docs/losses/mse.md, drawn from the snippets' own functions."""

from fieldguide.plotting import RESIDUAL as R
from fieldguide.plotting import ZERO
from fieldguide.plotting import residual_curves as _plot
from snippets.losses.mse import mse_loss, mse_loss_grad


def mse() -> str:
    return _plot("fig-mse", [("r² (squared error)", mse_loss(R, ZERO, "none")),
                             ("gradient 2r", mse_loss_grad(R, ZERO, "none"))],
                 "Squared error and its gradient: the pull grows in proportion to the residual.")
