"""Figures for docs/attention/kv-cache.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from fieldguide.plotting import _RC, COLORS, STYLES, figure_html, to_svg
from snippets.attention.kv_cache import CausalSelfAttention, cost_of_token

TOKENS = np.array([1, *range(32, 513, 32)])


def cost() -> str:
    torch.manual_seed(0)
    attn = CausalSelfAttention(64, 4)
    x = torch.randn(1, int(TOKENS[-1]), 64)
    counts = np.array([cost_of_token(attn, x, int(t)) for t in TOKENS])  # (n, 2)
    caption = ("Multiply-adds in the matrix products needed for the output of token t of one "
               "attention layer (width 64, 4 heads), counted by torch: rerunning the layer on "
               "all t tokens grows as t², one step with a KV cache grows as t (log scale).")
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        for i, label in enumerate(["without a cache: rerun on t tokens",
                                   "with a KV cache: one step"]):
            ax.plot(TOKENS, counts[:, i], label=label, color=COLORS[i], linestyle=STYLES[i],
                    linewidth=2)
        ax.set_yscale("log")
        ax.set_xlabel("token t")
        ax.set_ylabel("multiply-adds")
        ax.legend(loc="best")
        return figure_html(to_svg(fig, "fig-kv-cache-cost"), caption)
