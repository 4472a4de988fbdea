"""Figures for docs/sequence/bptt.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, figure_html, to_svg
from snippets.sequence.bptt import gradient_norms

RHOS = (0.9, 1.0, 1.1)


def gradient_through_time() -> str:
    T = np.arange(1, 101)
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
        for i, rho in enumerate(RHOS):
            linear, tanh = gradient_norms(rho)
            ax.plot(T, linear, color=COLORS[i], linestyle="-", linewidth=2,
                    label=f"linear, ρ = {rho}")
            ax.plot(T, tanh, color=COLORS[i], linestyle="--", linewidth=2,
                    label=f"tanh, ρ = {rho}")
        ax.set_yscale("log")
        ax.set_xlabel("steps T")
        ax.set_ylabel(r"$\Vert \partial h_T / \partial h_0 \Vert_2$")
        ax.legend(loc="lower left", ncol=3, fontsize=9)
        caption = (
            "Spectral norm of the Jacobian of the state after T steps with respect to the "
            "initial state, for W_hh = ρQ (Q a random 32 × 32 orthogonal matrix) and random "
            "inputs. Solid: a linear cell, whose Jacobian is the T-th power of W_hh, with "
            "norm exactly ρ^T (a straight line on this log scale: decay, constant, growth). "
            "Dashed: the tanh "
            "cell on the same weights and inputs, whose norm stays below ρ^T because every step "
            "multiplies by tanh′ ≤ 1 and ρ is also the largest singular value of ρQ; here it "
            "vanishes for all three values of ρ.")
        return figure_html(to_svg(fig, "fig-bptt-gradient-through-time"), caption)
