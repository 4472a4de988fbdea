"""Figures for the regression-loss pages, drawn from the snippets' own functions.

Every curve is a loss (or its gradient) of a prediction against a target of 0, so the x axis
is the residual r = prediction - target.
"""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.huber import huber_loss, huber_loss_grad, smooth_l1_loss
from snippets.losses.log_cosh import log_cosh_loss, log_cosh_loss_grad
from snippets.losses.mae import l1_loss, l1_loss_grad
from snippets.losses.mse import mse_loss, mse_loss_grad

R = np.linspace(-3, 3, 601)
ZERO = np.zeros_like(R)


def _plot(name, series, caption, ylim=None):
    return curves(name, R, series, caption, xlabel="residual r = prediction − target",
                  ylim=ylim)


def mse() -> str:
    return _plot("fig-mse", [("r² (squared error)", mse_loss(R, ZERO, "none")),
                             ("gradient 2r", mse_loss_grad(R, ZERO, "none"))],
                 "Squared error and its gradient: the pull grows in proportion to the residual.")


def mae() -> str:
    return _plot("fig-mae", [("|r| (absolute error)", l1_loss(R, ZERO, "none")),
                             ("gradient sign(r)", l1_loss_grad(R, ZERO, "none"))],
                 "Absolute error and its gradient: the same pull, ±1, whatever the size of "
                 "the residual, with a jump at 0.")


def huber() -> str:
    return _plot("fig-huber", [
        ("Huber, δ = 1", huber_loss(R, ZERO, "none", delta=1.0)),
        ("Huber, δ = 2", huber_loss(R, ZERO, "none", delta=2.0)),
        ("smooth L1, β = 2", smooth_l1_loss(R, ZERO, "none", beta=2.0)),
        ("gradient of Huber, δ = 1", huber_loss_grad(R, ZERO, "none", delta=1.0)),
    ], "Huber is quadratic inside ±δ and linear with slope δ outside; smooth L1 divides it "
       "by δ so the outer slope is 1.", ylim=(-1.5, 4.5))


def log_cosh() -> str:
    return _plot("fig-log-cosh", [
        ("log cosh r", log_cosh_loss(R, ZERO, "none")),
        ("r²/2 (small-r limit)", mse_loss(R, ZERO, "none") / 2),
        ("|r| − log 2 (large-r limit)", l1_loss(R, ZERO, "none") - np.log(2)),
        ("gradient tanh r", log_cosh_loss_grad(R, ZERO, "none")),
    ], "Log-cosh follows r²/2 near 0 and |r| − log 2 far from it; its gradient tanh r is "
       "smooth and bounded by 1.", ylim=(-1.5, 3.5))


def overview() -> str:
    return _plot("fig-regression-losses", [
        ("MSE: r²", mse_loss(R, ZERO, "none")),
        ("MAE: |r|", l1_loss(R, ZERO, "none")),
        ("Huber, δ = 1", huber_loss(R, ZERO, "none", delta=1.0)),
        ("log-cosh", log_cosh_loss(R, ZERO, "none")),
    ], "The regression losses against the residual: squared error grows fastest, the other "
       "three grow linearly far from 0; Huber and log-cosh are smooth at 0, MAE is not.",
        ylim=(-0.2, 4.0))
