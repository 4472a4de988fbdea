"""Figures for docs/regularization/early-stopping.md, drawn from the snippet's own training run."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, INK, STYLES, figure_html, to_svg
from snippets.regularization.early_stopping import EarlyStopping, train

PATIENCE = 10


def validation_curve() -> str:
    train_losses = []
    val, _ = train(train_losses=train_losses)  # all 300 epochs, no stopping
    stopper = EarlyStopping(patience=PATIENCE)
    stopped = len(train(stopper)[0]) - 1
    best = stopper.best_epoch
    epochs = np.arange(len(val))
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        ax.plot(epochs, val, color=COLORS[0], linestyle=STYLES[0], linewidth=2,
                label="validation loss")
        ax.plot(epochs, train_losses, color=COLORS[1], linestyle=STYLES[1], linewidth=2,
                label="training loss")
        ax.axvspan(best, stopped, color=COLORS[2], alpha=0.15, linewidth=0)
        ax.plot([best], [val[best]], "o", color=COLORS[2], markersize=7,
                label=f"best epoch ({best}), weights restored")
        ax.axvline(stopped, color=INK, linewidth=1, linestyle=":",
                   label=f"stop, patience {PATIENCE} (epoch {stopped})")
        ax.set_xscale("symlog", linthresh=10)  # linear up to 10, then logarithmic
        ax.set_xlim(0, len(val) - 1)
        ax.set_ylim(0, 0.5)
        ax.set_xlabel("epoch (one full-batch gradient step)")
        ax.set_ylabel("mean squared error")
        ax.legend(loc="upper right", fontsize=9)
        caption = (
            f"A degree-11 polynomial fitted to 12 noisy points by gradient descent. The "
            f"training loss keeps falling, while the validation loss reaches its minimum "
            f"{val[best]:.3f} at epoch {best} and rises to {val[-1]:.3f} by epoch {len(val) - 1} "
            f"as the fit follows the noise. With patience {PATIENCE} training stops at epoch "
            f"{stopped} (the shaded span holds the epochs without improvement) and the weights "
            f"of epoch {best} are restored. The epoch axis is logarithmic beyond 10.")
        return figure_html(to_svg(fig, "fig-early-stopping-curve"), caption)
