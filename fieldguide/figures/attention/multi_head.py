"""Figures for docs/attention/multi-head.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from fieldguide.plotting import _RC, figure_html, to_svg
from snippets.attention.multi_head import MultiHeadAttention


def heads() -> str:
    torch.manual_seed(0)
    T, C, H = 8, 32, 4
    mha = MultiHeadAttention(C, H).double()
    x = 2 * torch.randn(1, T, C, dtype=torch.float64)
    causal = torch.ones(T, T, dtype=torch.bool).triu(1)
    with torch.no_grad():
        _, w = mha(x, x, x, attn_mask=causal, average_attn_weights=False)  # (1, H, T, T)
    w = w[0].numpy()
    shown = np.where(causal.numpy(), np.nan, w)  # masked entries left blank
    with plt.rc_context({**_RC, "axes.grid": False}):
        fig, axes = plt.subplots(1, H + 1, figsize=(9.6, 2.6),
                                 gridspec_kw={"width_ratios": [1] * H + [0.08]})
        for h in range(H):
            image = axes[h].imshow(shown[h], cmap="viridis", vmin=0, vmax=1)
            axes[h].set_title(f"head {h + 1}")
            axes[h].set_xticks([0, T - 1], ["1", str(T)])
            axes[h].set_yticks([0, T - 1], ["1", str(T)])
            axes[h].set_xlabel("key")
        axes[0].set_ylabel("query")
        fig.colorbar(image, cax=axes[H], label="weight")
        caption = ("Causal self-attention weights of the four heads of one layer (random "
                   "weights, eight tokens): the same tokens, four different ways of spreading "
                   "each query's weight over the keys before it. Rows sum to 1; the blank "
                   "upper triangles are masked.")
        return figure_html(to_svg(fig, "fig-mha-heads"), caption)
