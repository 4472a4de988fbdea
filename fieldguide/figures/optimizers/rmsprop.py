"""Figures for docs/optimizers/rmsprop.md, drawn from the snippets' own step functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, INK, STYLES, figure_html, to_svg
from snippets.optimizers import adagrad, rmsprop

LR = 0.01


def _gradients(T=1000, change=500, seed=0):
    """Noisy gradients of scale 1 for `change` steps, then of scale 0.1."""
    scale = np.where(np.arange(T) < change, 1.0, 0.1)
    return (scale * (1 + np.random.default_rng(seed).normal(size=T)))[:, None]  # (T, 1)


def effective_lr() -> str:
    grads = _gradients()
    runs = {
        "Adagrad": (adagrad.adagrad_step, adagrad.init_state, adagrad.effective_lr),
        "RMSprop (α = 0.99)": (rmsprop.rmsprop_step, rmsprop.init_state, rmsprop.effective_lr),
    }
    t = np.arange(1, len(grads) + 1)
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        for i, (label, (step, init, eff)) in enumerate(runs.items()):
            params, state = [np.zeros(1)], init([np.zeros(1)])
            curve = []
            for g in grads:
                params, state = step(params, [g], state, lr=LR)
                curve.append(eff(state[0], lr=LR)[0])
            ax.plot(t, curve, color=COLORS[i], linestyle=STYLES[i], linewidth=2, label=label)
        ax.axvline(500, color=INK, linewidth=0.6, linestyle=":")
        ax.text(515, 0.93, "gradients 10× smaller from here", fontsize=9,
                transform=ax.get_xaxis_transform())  # x in data, y in axes units
        ax.set_yscale("log")
        ax.set_xlabel("step t")
        ax.set_ylabel("effective learning rate")
        ax.legend(loc="lower left")
        caption = (
            "Effective learning rate η / (√(accumulator) + ε), with η = 0.01, for noisy "
            "gradients of size about 1 that shrink tenfold at step 500. Adagrad's sum only "
            "grows, so its step size keeps falling and ignores the change; RMSprop's moving "
            "average forgets the old gradients (their weight falls by a factor e every 100 "
            "steps), and its effective learning rate climbs about eightfold in the 500 steps "
            "after the change, on its way to the tenfold that matches the new scale.")
        return figure_html(to_svg(fig, "fig-rmsprop-effective-lr"), caption)
