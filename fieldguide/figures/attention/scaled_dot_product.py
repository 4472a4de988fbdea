"""Figures for docs/attention/scaled-dot-product.md, drawn from the snippet's own functions."""

import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from fieldguide.plotting import _RC, COLORS, INK, STYLES, figure_html, to_svg
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


def _best_time(fn, repeats=5):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def cost_vs_length() -> str:
    lengths = np.array([128, 256, 512, 1024])
    E = 64
    times = {"ours (materialises the L×L weights)": [], "torch SDPA": []}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one core: less noise from whatever else the machine runs
    try:
        with torch.no_grad():
            for T in lengths:
                q, k, v = (torch.randn(1, T, E) for _ in range(3))
                times["ours (materialises the L×L weights)"].append(
                    _best_time(lambda q=q, k=k, v=v: scaled_dot_product_attention(q, k, v)))
                times["torch SDPA"].append(
                    _best_time(lambda q=q, k=k, v=v: F.scaled_dot_product_attention(q, k, v)))
    finally:
        torch.set_num_threads(threads)
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        slopes = []
        for i, (label, t) in enumerate(times.items()):
            slope = np.polyfit(np.log(lengths), np.log(t), 1)[0]
            slopes.append(slope)
            ax.loglog(lengths, np.array(t) * 1e3, marker="o", color=COLORS[i],
                      linestyle=STYLES[i], linewidth=2, label=f"{label}: slope {slope:.1f}")
        reference = np.array(times["torch SDPA"])[-1] * 1e3 * (lengths / lengths[-1]) ** 2
        ax.loglog(lengths, reference, color=INK, linewidth=0.8, linestyle=":", label="slope 2")
        ax.set_xlabel("sequence length L (= S), E = 64, float32")
        ax.set_xticks(lengths, [str(n) for n in lengths])
        ax.minorticks_off()
        ax.set_ylabel("time per call (ms)")
        ax.legend(loc="upper left")
        return figure_html(
            to_svg(fig, "fig-sdpa-cost"),
            "Time of one attention call against the sequence length, measured while this page "
            "was built (best of 5, one CPU thread). The slopes of straight lines fitted to the "
            f"logarithms came out at {slopes[0]:.1f} for ours and {slopes[1]:.1f} for torch's "
            "in this build; they change from build to build with the machine's load and memory "
            "effects. A slope of 2 means the cost grows with L².",
        )
