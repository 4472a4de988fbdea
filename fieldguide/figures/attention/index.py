"""Family-wide figures for docs/attention/index.md, drawn from the snippets' own functions."""

import numpy as np
import torch

from fieldguide.plotting import curves
from snippets.attention.index import memory, soft_lookup

LOG_BETA = np.linspace(-1, 2, 301)  # sharpness from 0.1 to 100


def weights_vs_sharpness() -> str:
    keys, values = memory()
    query = torch.tensor([0.1, 0.9, 0.2], dtype=torch.float64)
    sims = (keys @ query).numpy()
    weights = np.stack([soft_lookup(query, keys, values, 10.0**b)[1].numpy() for b in LOG_BETA])
    return curves(
        "fig-attention-sharpness", LOG_BETA,
        [(f"key {j} (q·k = {sims[j]:.2f})", weights[:, j]) for j in range(4)],
        "Weights of the four keys of the demo for one query as the sharpness β grows. At "
        "β = 0.1 they are nearly equal (an average of all values); by β = 100 the key most "
        "similar to the query has all the weight (a lookup of one value).",
        xlabel="log10 of the sharpness β", ylabel="weight", ylim=(-0.02, 1.02),
    )
