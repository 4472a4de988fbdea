"""Figures for docs/normalization/layer-norm.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from fieldguide.plotting import _RC, COLORS, INK, STYLES, figure_html, to_svg
from snippets.normalization.layer_norm import layer_norm, naive_layer_norm, shifted_reference


def large_mean() -> str:
    """Error of the three variance computations against rows of growing mean, spread 1."""
    means = np.logspace(0, 9, 37)
    rng = np.random.default_rng(0)
    errors = {"E[x²] − E[x]² (one pass)": [], "two passes (this page)": [],
              "torch.nn.functional.layer_norm": []}
    for m in means:
        x = m + rng.normal(size=(16, 64))
        exact = shifted_reference(x)
        ys = (naive_layer_norm(x), layer_norm(x, 64),
              F.layer_norm(torch.tensor(x), (64,)).numpy())
        for errs, y in zip(errors.values(), ys, strict=True):
            err = np.abs(y - exact).max()
            errs.append(err if np.isfinite(err) and err < 10 else np.nan)  # NaN/garbage: gap
    eps = np.finfo(np.float64).eps
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        for i, (label, errs) in enumerate(errors.items()):
            ax.plot(means, np.maximum(errs, 1e-17), color=COLORS[i], linestyle=STYLES[i],
                    linewidth=2, label=label)
        ax.plot(means, eps * means, color=INK, linewidth=0.8, linestyle=":")
        ax.plot(means, eps * means**2, color=INK, linewidth=0.8, linestyle=":")
        ax.text(3e5, eps * 3e5 / 8, "ε·m", fontsize=9)
        ax.text(1.5e3, eps * 1.5e3**2 * 4, "ε·m²", fontsize=9)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(1e-17, 10)
        ax.set_xlabel("mean m of each row (spread 1), float64")
        ax.set_ylabel("max |x̂ − exact|")
        ax.legend(loc="upper left")
        caption = ("Error of layer normalization in float64 for rows of 64 numbers with mean m "
                   "and standard deviation 1. The one-pass variance loses about ε·m²: at m = 10⁷ "
                   "its output is off by a few hundredths, and from m ≈ 10⁸ on it is NaN or off "
                   "by more than 10 (no curve). Two passes "
                   "lose only the rounding of the mean, about ε·m, as does PyTorch. "
                   "ε = 2.2·10⁻¹⁶; errors below 10⁻¹⁷ are drawn at 10⁻¹⁷.")
        return figure_html(to_svg(fig, "fig-layer-norm-large-mean"), caption)
