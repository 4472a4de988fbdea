"""Figures for docs/losses/kl-div.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.kl_div import fit_gaussian, log_mixture, log_normal
from snippets.losses.kl_div import kl_div as kl_div_fn


def kl_div() -> str:
    # Bernoulli distributions: p = (0.3, 0.7) fixed, q = (r, 1 - r)
    r = np.linspace(0.005, 0.995, 397)
    q = np.stack([r, 1 - r], axis=1)
    p = np.tile([0.3, 0.7], (r.size, 1))
    forward = kl_div_fn(np.log(q), p, reduction="none").sum(axis=1)
    reverse = kl_div_fn(np.log(p), q, reduction="none").sum(axis=1)
    return curves(
        "fig-kl-div", r,
        [("KL(p ‖ q)", forward), ("KL(q ‖ p)", reverse)],
        "KL divergence between p = (0.3, 0.7) and q = (r, 1 − r): zero only at r = 0.3, "
        "and not symmetric in its two arguments.",
        xlabel="r = q(first outcome)", ylabel="nats", ylim=(0, 2),
    )


def forward_reverse() -> str:
    # the mixture and grid of the page's "fits" block
    grid = np.linspace(-10, 10, 801)
    log_p = log_mixture(grid, (0.4, 0.6), (-2.0, 2.0), (0.6, 0.8))
    series = [("mixture p", np.exp(log_p))]
    for direction, name in (("forward", "KL(p ‖ q)"), ("reverse", "KL(q ‖ p)")):
        mu, sigma, _ = fit_gaussian(log_p, grid, direction)
        label = f"q minimising {name}: μ = {mu:.2f}, σ = {sigma:.2f}"
        series.append((label, np.exp(log_normal(grid, mu, sigma))))
    keep = np.abs(grid) <= 6
    return curves(
        "fig-kl-forward-reverse", grid[keep], [(label, y[keep]) for label, y in series],
        "One Gaussian fitted to a two-component mixture. Minimising the forward KL(p ‖ q) "
        "spreads q over both modes (it matches the mixture's mean and variance); "
        "minimising the reverse KL(q ‖ p) puts q on the heavier mode.",
        xlabel="x", ylabel="density", ylim=(0, 0.7),  # room for the legend above q
    )
