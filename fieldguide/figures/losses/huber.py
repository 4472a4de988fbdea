"""Figures for docs/losses/huber.md, drawn from the snippets' own functions."""

from fieldguide.plotting import RESIDUAL as R
from fieldguide.plotting import ZERO
from fieldguide.plotting import residual_curves as _plot
from snippets.losses.huber import huber_loss, huber_loss_grad, smooth_l1_loss


def huber() -> str:
    return _plot("fig-huber", [
        ("Huber, δ = 1", huber_loss(R, ZERO, "none", delta=1.0)),
        ("Huber, δ = 2", huber_loss(R, ZERO, "none", delta=2.0)),
        ("smooth L1, β = 2", smooth_l1_loss(R, ZERO, "none", beta=2.0)),
        ("gradient of Huber, δ = 1", huber_loss_grad(R, ZERO, "none", delta=1.0)),
    ], "Huber is quadratic inside ±δ and linear with slope δ outside; smooth L1 divides it "
       "by δ so the outer slope is 1.", ylim=(-1.5, 4.5))
