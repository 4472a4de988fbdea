"""Figures for docs/losses/gan.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.gan import (
    hinge_discriminator_loss,
    lsgan_discriminator_loss,
    minimax_discriminator_loss,
    non_saturating_generator_loss,
    non_saturating_generator_loss_grad,
    saturating_generator_loss,
    saturating_generator_loss_grad,
    wasserstein_critic_loss,
)


def gan_generator() -> str:
    """Saturating vs non-saturating generator loss and their gradients against D(G(z))."""
    p = np.linspace(0.002, 0.998, 499)  # D(G(z)), the discriminator's belief that a fake is real
    d = np.log(p) - np.log1p(-p)  # the logit with σ(d) = p
    return curves(
        "fig-gan-generator", p,
        [("saturating: log(1 − D)", saturating_generator_loss(d, "none")),
         ("non-saturating: −log D", non_saturating_generator_loss(d, "none")),
         ("saturating, gradient in the logit", saturating_generator_loss_grad(d, "none")),
         ("non-saturating, gradient in the logit",
          non_saturating_generator_loss_grad(d, "none"))],
        "Generator losses against D(G(z)). Early in training the discriminator rejects fakes "
        "(D near 0): there the saturating loss is flat and its gradient vanishes, while the "
        "non-saturating loss is steep and its gradient stays near −1.",
        xlabel="D(G(z))", ylim=(-3, 3),
    )


def gan_discriminator() -> str:
    """The per-sample loss each discriminator pays on a real sample, against its raw score."""
    s = np.linspace(-3, 3, 601)  # the discriminator's raw output (logit or score)
    fake = np.full_like(s, -1e4)  # pair each real score with a fake it gets entirely right
    return curves(
        "fig-gan-discriminator", s,
        [("minimax: softplus(−s)", minimax_discriminator_loss(s, fake, "none")),
         ("Wasserstein: −s", wasserstein_critic_loss(s, np.zeros_like(s), "none")),
         ("least squares: ½(s − 1)²",  # paired with a fake scored 0: its term is 0
          lsgan_discriminator_loss(s, np.zeros_like(s), reduction="none")),
         ("hinge: max(0, 1 − s)", hinge_discriminator_loss(s, fake, "none"))],
        "Loss on one real sample against the discriminator's raw score s. The minimax and "
        "hinge losses stop pushing once s is large; least squares pulls s back to 1 from "
        "either side; the Wasserstein critic always pushes, so it needs a Lipschitz limit.",
        xlabel="score s on a real sample", ylim=(-3, 5),
    )
