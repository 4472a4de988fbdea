"""Figures for docs/losses/rl.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.rl import msbe_loss_grad, ppo_clip_loss, td_loss_grad


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
