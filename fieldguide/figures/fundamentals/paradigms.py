"""Figures for docs/fundamentals/paradigms.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, STYLES, figure_html, to_svg
from snippets.fundamentals.paradigms import learning_curve

SEEDS = range(5)  # the seeds of the page's table


def active() -> str:
    labels = np.arange(2, 101)  # learning_curve()[m - 2] is the accuracy with m labels
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        for i, strategy in enumerate(("uncertainty", "random")):
            curve = np.mean([learning_curve(strategy, seed) for seed in SEEDS], axis=0)
            ax.plot(labels, curve, color=COLORS[i], linestyle=STYLES[i], linewidth=2,
                    label=f"{strategy} sampling")
        ax.axvline(10, color=COLORS[2], linestyle=STYLES[3], linewidth=1.2,
                   label="budget of 10 labels")
        ax.set_xscale("log")
        ax.set_xticks([2, 5, 10, 20, 50, 100], ["2", "5", "10", "20", "50", "100"])
        ax.set_xlabel("number of labelled points")
        ax.set_ylabel("test accuracy")
        ax.set_ylim(0.7, 1.0)
        ax.legend(loc="lower right")
        return figure_html(
            to_svg(fig, "fig-paradigms-active"),
            "Test accuracy of a logistic regression against the number of labels, mean of "
            "5 seeds: labelling the pool point nearest the current boundary (uncertainty "
            "sampling) against labelling random pool points. Both start from one random "
            "labelled point of each class.",
        )
