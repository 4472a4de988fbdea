"""Figures for docs/losses/kl-div.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
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
