"""Figures for docs/fundamentals/transfer.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, STYLES, figure_html, one_torch_thread, to_svg
from snippets.fundamentals.transfer import few_shot_accuracy, freeze, pretrain

SHOTS = (1, 2, 3, 5, 10, 20)


def shots() -> str:
    with one_torch_thread():  # tiny networks
        return _shots()


def _shots() -> str:
    body = freeze(pretrain(seed=0))  # trained once, reused for every point
    curves = [
        ("pretrained embeddings", body),
        ("raw inputs", lambda x: x),
    ]
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        for i, (label, embed) in enumerate(curves):
            acc = [np.mean([few_shot_accuracy(embed, k, seed) for seed in range(20)])
                   for k in SHOTS]
            ax.plot(SHOTS, acc, marker="o", color=COLORS[i], linestyle=STYLES[i],
                    linewidth=2, label=label)
        ax.axhline(0.2, color=COLORS[2], linestyle=STYLES[3], linewidth=1.5,
                   label="chance (5 classes)")
        ax.set_xscale("log")
        ax.set_xticks(SHOTS, [str(k) for k in SHOTS])
        ax.set_xlabel("shots k (labelled examples per new class)")
        ax.set_ylabel("accuracy")
        ax.set_ylim(0, 1)
        ax.legend(loc="lower right")
        return figure_html(
            to_svg(fig, "fig-transfer-shots"),
            "Nearest-prototype accuracy on 5 new classes against the number of labelled "
            "examples per class, averaged over 20 episodes: prototypes of the pretrained "
            "network's embeddings and prototypes of the raw inputs.",
        )
