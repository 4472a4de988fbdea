"""Figures for docs/attention/scaled-dot-product.md, drawn from the snippet's own functions."""

from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from fieldguide.plotting import _RC, COLORS, figure_html, to_svg
from snippets.attention.scaled_dot_product import (
    attention_weights,
    scaled_dot_product_attention,
)

WORDS = ["the", "cat", "sat", "on", "the", "warm", "mat", "today"]


def causal_heatmap() -> str:
    g = torch.Generator().manual_seed(3)
    T, E = len(WORDS), 16
    x = torch.randn(T, E, generator=g, dtype=torch.float64)
    w_q = torch.randn(E, E, generator=g, dtype=torch.float64) / E**0.5
    w_k = torch.randn(E, E, generator=g, dtype=torch.float64) / E**0.5
    weights = attention_weights(x @ w_q, x @ w_k, is_causal=True).numpy()  # (T, T)
    shown = np.where(np.tril(np.ones((T, T), dtype=bool)), weights, np.nan)  # masked: blank
    with plt.rc_context({**_RC, "axes.grid": False}):
        fig, ax = plt.subplots(figsize=(5.6, 4.6))
        image = ax.imshow(shown, cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(T), WORDS, rotation=45)
        ax.set_yticks(range(T), WORDS)
        ax.set_xlabel("key position j")
        ax.set_ylabel("query position i")
        for i in range(T):
            for j in range(i + 1):
                ax.text(j, i, f"{weights[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if weights[i, j] < 0.6 else "black")
        fig.colorbar(image, ax=ax, label="attention weight")
        return figure_html(
            to_svg(fig, "fig-sdpa-causal"),
            "Causal attention weights of one head on random vectors for eight tokens: row i "
            "spreads weight over keys 0 to i only (the blank upper triangle is masked), and "
            "each row sums to 1.",
        )


def _count(fn) -> int:
    """Multiply-adds of one call, as torch's FlopCounterMode counts them (2 flops each)."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops() // 2


def cost_vs_length() -> str:
    lengths = np.array([128, 256, 512, 1024, 2048])
    E = 64
    counts = {"ours": [], "torch SDPA": []}
    for T in lengths:
        qkv = [torch.zeros(1, T, E) for _ in range(3)]  # counts do not depend on values
        counts["ours"].append(_count(partial(scaled_dot_product_attention, *qkv)))
        counts["torch SDPA"].append(_count(partial(F.scaled_dot_product_attention, *qkv)))
    ours, theirs = (np.array(c, dtype=np.int64) for c in counts.values())
    if not np.array_equal(ours, theirs) or not np.array_equal(ours, 2 * lengths**2 * E):
        raise RuntimeError(f"attention multiply-adds are not 2·L²·E: {ours} vs {theirs}")
    weight_bytes = lengths**2 * 4  # one float32 L×L matrix
    with plt.rc_context(_RC):
        fig, (left, right) = plt.subplots(1, 2, figsize=(7.6, 3.6))
        left.loglog(lengths, ours, marker="o", color=COLORS[0], linewidth=2, label="ours")
        left.loglog(lengths, theirs, marker="x", markersize=9, color=COLORS[1], linestyle="none",
                    label="torch SDPA")
        left.set_ylabel("multiply-adds per call")
        left.legend(loc="upper left")
        right.loglog(lengths, weight_bytes / 2**20, marker="o", color=COLORS[0], linewidth=2)
        right.set_ylabel("one L×L float32 matrix (MiB)")
        for ax in (left, right):
            ax.set_xlabel("sequence length L (= S), E = 64")
            ax.set_xticks(lengths, [str(n) for n in lengths])
            ax.minorticks_off()
        fig.tight_layout()
        return figure_html(
            to_svg(fig, "fig-sdpa-cost"),
            "Left: multiply-adds in the matrix products of one attention call (the softmax's "
            "L² exponentials are not counted), counted by torch's FlopCounterMode while this "
            f"page was built: {ours[0]:,} at L = {lengths[0]} and {ours[-1]:,} at "
            f"L = {lengths[-1]}, 2·L²·E, so each doubling of L multiplies the work by 4. Given "
            "these 3-D inputs on the CPU, torch runs its math implementation, the same two "
            "matrix products as ours. Right: the memory of one L×L float32 weight matrix, "
            "which this page's code stores in full, grows the same way.",
        )
