"""Figures for docs/regularization/dropout.md, drawn from the snippets' own functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide import plotting
from snippets.regularization.dropout import dropout, keep_mask, softmax


def attention_row_sums() -> str:
    rng = np.random.default_rng(0)
    p = 0.1
    weights = softmax(rng.normal(size=(2000, 16, 16)))  # 32 000 rows of 16 weights
    sums = dropout(weights, keep_mask(weights.shape, p, rng), p).sum(-1).ravel()
    with plt.rc_context(plotting._RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        ax.hist(sums, bins=80, color=plotting.COLORS[1])
        ax.axvline(1.0, color=plotting.COLORS[0], linestyle="--", linewidth=2,
                   label="1: every row, in evaluation")
        ax.axvline(sums.mean(), color=plotting.COLORS[2], linestyle=":", linewidth=2,
                   label=f"mean in training: {sums.mean():.3f}")
        ax.set_xlabel("sum of one row of attention weights after dropout (p = 0.1)")
        ax.set_ylabel("rows")
        ax.legend(loc="upper left")
        svg = plotting.to_svg(fig, "fig-dropout-rows")
    return plotting.figure_html(
        svg, "Row sums of softmax attention weights after dropout with p = 0.1, over 32 000 "
        "rows of 16 keys: spread between well below 1 and 1/(1 − p) ≈ 1.11, averaging 1.")
