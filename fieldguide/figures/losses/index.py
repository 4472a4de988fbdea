"""Family-wide figures for docs/losses/index.md, drawn from the snippets' own functions."""

from fieldguide.plotting import RESIDUAL as R
from fieldguide.plotting import ZERO
from fieldguide.plotting import residual_curves as _plot
from snippets.losses.huber import huber_loss
from snippets.losses.log_cosh import log_cosh_loss
from snippets.losses.mae import l1_loss
from snippets.losses.mse import mse_loss


def overview() -> str:
    return _plot("fig-regression-losses", [
        ("MSE: r²", mse_loss(R, ZERO, "none")),
        ("MAE: |r|", l1_loss(R, ZERO, "none")),
        ("Huber, δ = 1", huber_loss(R, ZERO, "none", delta=1.0)),
        ("log-cosh", log_cosh_loss(R, ZERO, "none")),
    ], "The regression losses against the residual: squared error grows fastest, the other "
       "three grow linearly far from 0; Huber and log-cosh are smooth at 0, MAE is not.",
        ylim=(-0.2, 4.0))
