"""Family-wide figure for docs/normalization/index.md: which values share statistics, found by
perturbing one input value and watching the snippet's own methods."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from fieldguide.plotting import _RC, COLORS, INK, figure_html, to_svg
from snippets.normalization.index import METHODS, shared_statistics

N, C, EXAMPLE, CHANNEL = 4, 6, 1, 2


def shared_axes() -> str:
    x = np.random.default_rng(0).normal(size=(N, C, 3, 3))
    cmap = ListedColormap(["none", COLORS[1]])
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(1, len(METHODS), figsize=(9.0, 3.0), sharey=True)
        for ax, (name, method) in zip(axes, METHODS.items(), strict=True):
            mask = shared_statistics(method, x, EXAMPLE, CHANNEL).T  # (C, N): channels down
            ax.imshow(mask, cmap=cmap, vmin=0, vmax=1, aspect="equal")
            ax.plot(EXAMPLE, CHANNEL, "o", color=COLORS[0], markersize=7)  # the changed value
            ax.set_xticks(range(N))
            ax.set_yticks(range(C))
            ax.set_xticks(np.arange(-0.5, N), minor=True)
            ax.set_yticks(np.arange(-0.5, C), minor=True)
            ax.grid(False)
            ax.grid(which="minor", color=INK, linewidth=0.5)
            ax.tick_params(which="minor", length=0)
            ax.set_title(name, fontsize=10)
            ax.set_xlabel("example n")
        axes[0].set_ylabel("channel c")
        return figure_html(
            to_svg(fig, "fig-normalization-shared-axes"),
            "Which (example, channel) pairs share statistics with one input value (the dot, "
            "example 1, channel 2) of a 4 × 6 × 3 × 3 batch; each square stands for the 3 × 3 "
            "positions of one channel of one example, all of which share them too. Found by "
            "changing that value and marking every output that moves. Batch norm pools one "
            "channel across the batch; layer norm and RMSNorm one example across its channels; "
            "instance norm one channel of one example; group norm one group of channels of "
            "one example.")
