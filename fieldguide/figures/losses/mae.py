"""Figures for docs/losses/mae.md, drawn from the snippets' own functions."""

from fieldguide.plotting import RESIDUAL as R
from fieldguide.plotting import ZERO
from fieldguide.plotting import residual_curves as _plot
from snippets.losses.mae import l1_loss, l1_loss_grad


def mae() -> str:
    return _plot("fig-mae", [("|r| (absolute error)", l1_loss(R, ZERO, "none")),
                             ("gradient sign(r)", l1_loss_grad(R, ZERO, "none"))],
                 "Absolute error and its gradient: the same pull, ±1, whatever the size of "
                 "the residual, with a jump at 0.")
