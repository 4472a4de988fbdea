"""Figures for docs/normalization/batch-norm.md, drawn from the snippet's own layer function."""

import numpy as np

from fieldguide.plotting import curves
from snippets.normalization.batch_norm import batch_norm_layer, init_buffers

STEPS, SHIFT = 300, 150  # the activations' true mean moves from 3 to 1 at step SHIFT


def running_means(momentum, seed=0):
    """The running mean of one channel after each of STEPS training batches of 16 values."""
    rng = np.random.default_rng(seed)
    buffers, path = init_buffers(1), []
    for step in range(STEPS):
        true_mean = 3.0 if step < SHIFT else 1.0
        x = rng.normal(true_mean, 2.0, size=(16, 1))
        _, buffers, _ = batch_norm_layer(x, None, None, buffers, training=True,
                                         momentum=momentum)
        path.append(buffers["running_mean"][0])
    return np.array(path)


def running_mean() -> str:
    steps = np.arange(1, STEPS + 1)
    truth = np.where(steps <= SHIFT, 3.0, 1.0)
    return curves(
        "fig-batch-norm-running-mean", steps,
        [("momentum = 0.1", running_means(0.1)), ("momentum = 0.01", running_means(0.01)),
         ("momentum = None", running_means(None)), ("true mean", truth)],
        "The running mean of one channel over 300 training steps, batches of 16 values with "
        "standard deviation 2 whose mean moves from 3 to 1 at step 150. momentum = 0.1 "
        "follows quickly but stays noisy; 0.01 is smooth but slow to leave its start at 0; "
        "None (the average of every batch so far) is close from the first batch and the "
        "least noisy while nothing changes, then stays far from the new mean.",
        xlabel="training step", ylabel="running mean", ylim=(-0.2, 3.8),
    )
