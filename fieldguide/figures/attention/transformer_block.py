"""Figures for docs/attention/transformer-block.md, drawn from the snippet's own functions."""

import numpy as np

from fieldguide.plotting import curves, one_torch_thread
from snippets.attention.transformer_block import last_layer_gradient

DEPTHS = np.array([1, 2, 4, 8, 16, 32])
SEEDS = range(4)


def mean_gradient(norm_first: bool, depth: int) -> float:
    return float(np.mean([last_layer_gradient(norm_first, depth, seed=s)[0] for s in SEEDS]))


def depth() -> str:
    with one_torch_thread():  # tiny matrices
        pre = [mean_gradient(True, int(d)) for d in DEPTHS]
        post = [mean_gradient(False, int(d)) for d in DEPTHS]
    return curves(
        "fig-transformer-depth", DEPTHS,
        [("pre-norm (with a final LayerNorm)", pre), ("post-norm", post)],
        "At initialisation, the gradient norm of the last block's MLP output weight in stacks "
        "of 1 to 32 blocks (width 16, 4 heads, mean of 4 seeds). Pre-norm's shrinks as the "
        "residual stream grows with depth; post-norm's stays about the same.",
        xlabel="number of blocks L", ylabel="gradient norm, last block",
    )
