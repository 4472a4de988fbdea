"""Figures for docs/normalization/group-norm.md: which numbers share one mean and variance."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from fieldguide.plotting import _RC, COLORS, INK, figure_html, to_svg

N, C, G = 4, 6, 3  # examples, channels, groups of C/G = 2 channels


def _shared(kind: str) -> np.ndarray:
    """A (N, C) mask of the cells normalized together with cell (n=1, c=2)."""
    n, c = np.indices((N, C))
    if kind == "batch":
        return c == 2
    if kind == "layer":
        return n == 1
    if kind == "instance":
        return (n == 1) & (c == 2)
    return (n == 1) & (c // (C // G) == 2 // (C // G))  # group


def statistics() -> str:
    panels = [("batch", "Batch norm"), ("layer", "Layer norm"),
              ("instance", "Instance norm"), ("group", f"Group norm, G = {G}")]
    with plt.rc_context({**_RC, "axes.grid": False}):
        fig, axes = plt.subplots(1, 4, figsize=(9.6, 2.9))
        for ax, (kind, title) in zip(axes, panels, strict=True):
            mask = _shared(kind)
            for n in range(N):
                for c in range(C):
                    ax.add_patch(Rectangle((c, n), 1, 1, edgecolor=INK, linewidth=0.6,
                                           facecolor=COLORS[0] if mask[n, c] else "none"))
            if kind == "group":
                for edge in range(0, C + 1, C // G):
                    ax.axvline(edge, color=INK, linewidth=1.8)
            ax.set_xlim(0, C)
            ax.set_ylim(N, 0)
            ax.set_aspect("equal")
            ax.set_xticks(np.arange(C) + 0.5, range(C))
            ax.set_yticks(np.arange(N) + 0.5, range(N))
            ax.tick_params(length=0)
            for side in ("left", "bottom"):
                ax.spines[side].set_visible(False)
            ax.set_title(title, fontsize=11)
            ax.set_xlabel("channel c")
        axes[0].set_ylabel("example n")
        fig.tight_layout()
        caption = ("A batch of N = 4 examples with C = 6 channels; each cell stands for all the "
                   "H × W positions of one channel of one example. The filled cells share one "
                   "mean and variance with the cell (n = 1, c = 2); every other set of the same "
                   "shape has its own. Batch norm pools one channel over the batch; layer norm "
                   "one example over all channels; instance norm one channel of one example; "
                   "group norm one example's group of C/G = 2 channels (thick lines).")
        return figure_html(to_svg(fig, "fig-group-norm-statistics"), caption)
