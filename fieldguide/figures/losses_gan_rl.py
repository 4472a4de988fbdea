"""Figures for the GAN and reinforcement-learning loss pages, drawn from the snippets."""

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
from snippets.losses.rl import msbe_loss_grad, ppo_clip_loss, td_loss_grad


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


def ppo_clip() -> str:
    """PPO's clipped objective L = -loss against the ratio, for A > 0 and A < 0."""
    ratio = np.linspace(0.01, 2.0, 400)
    log_prob, old = np.log(ratio), np.zeros_like(ratio)
    return curves(
        "fig-ppo-clip", ratio,
        [("objective, A = +1", -ppo_clip_loss(log_prob, old, np.ones_like(ratio), 0.2, "none")),
         ("objective, A = −1", -ppo_clip_loss(log_prob, old, -np.ones_like(ratio), 0.2, "none")),
         ("unclipped ρA, A = +1", ratio),
         ("unclipped ρA, A = −1", -ratio)],
        "PPO's clipped objective min(ρA, clip(ρ, 0.8, 1.2)A) against the probability ratio ρ "
        "(ε = 0.2). With A > 0 it stops rewarding ρ above 1.2; with A < 0 it stops rewarding "
        "ρ below 0.8. On the flat parts the gradient is zero.",
        xlabel="ratio ρ = π(a|s) / π_old(a|s)", ylim=(-2.1, 2.1),
    )


def td_vs_msbe() -> str:
    """Error to the closed-form value of semi-gradient TD and of full-gradient MSBE descent."""
    P = np.array([[0.5, 0.5, 0.0], [0.1, 0.6, 0.3], [0.2, 0.0, 0.8]])
    r = np.array([1.0, 0.0, -2.0])
    gamma = 0.9
    v_true = np.linalg.solve(np.eye(3) - gamma * P, r)
    steps = np.arange(301)
    v_td, v_be, err_td, err_be = np.zeros(3), np.zeros(3), [], []
    for _ in steps:
        err_td.append(np.abs(v_td - v_true).max())
        err_be.append(np.abs(v_be - v_true).max())
        v_td = v_td - 0.5 * td_loss_grad(v_td, r, P @ v_td, gamma, reduction="sum")
        g_value, g_next = msbe_loss_grad(v_be, r, P @ v_be, gamma, reduction="sum")
        v_be = v_be - 0.2 * (g_value + P.T @ g_next)
    return curves(
        "fig-td-vs-msbe", steps,
        [("semi-gradient TD (step 0.5)", np.log10(err_td)),
         ("full-gradient MSBE (step 0.2)", np.log10(err_be))],
        "log10 of the largest error to the closed-form value (I − γP)⁻¹r of a three-state "
        "Markov reward process (γ = 0.9), per step of expected updates. Both reach the same "
        "values; the semi-gradient TD steps get there much faster.",
        xlabel="step", ylabel="log10 max |V − v|",
    )
