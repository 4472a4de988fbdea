"""Figures for docs/attention/positional-encoding.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from fieldguide.plotting import _RC, curves, figure_html, to_svg
from snippets.attention.positional_encoding import sinusoidal_encoding


def table() -> str:
    T, d = 100, 64
    pe = sinusoidal_encoding(T, d, dtype=torch.float64).numpy()  # (T, d)
    with plt.rc_context({**_RC, "axes.grid": False}):
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        image = ax.imshow(pe, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto",
                          interpolation="nearest")
        ax.set_xlabel("dimension j (even: sine, odd: cosine; frequency falls to the right)")
        ax.set_ylabel("position p")
        fig.colorbar(image, ax=ax, label="PE[p, j]")
        return figure_html(
            to_svg(fig, "fig-pe-table"),
            "The encoding of positions 0 to 99 with d = 64. The first columns change fast "
            "(frequency 1: a full turn every 2π ≈ 6.3 positions); the last ones barely move "
            "over 100 positions, so together the columns give each position its own pattern.",
        )


def similarity() -> str:
    T, d = 513, 64
    pe = sinusoidal_encoding(T, d, dtype=torch.float64)  # (T, d)
    offsets = np.arange(T)
    series = []
    for p in (0, 256):
        dots = (pe[p] @ pe[p:].T).numpy() / (d / 2)  # (T - p,): PE_p . PE_(p+k) / |PE|^2
        series.append((f"from position {p}", np.pad(dots, (0, p), constant_values=np.nan)))
    return curves(
        "fig-pe-similarity", offsets, series,
        "Cosine similarity of the encodings of positions p and p + k (d = 64), for p = 0 and "
        "p = 256. The two curves coincide where both are drawn: the similarity depends on the "
        "offset k only. It is highest for nearby positions and does not fall monotonically.",
        xlabel="offset k", ylabel="cosine similarity", ylim=(-0.2, 1.05),
    )
