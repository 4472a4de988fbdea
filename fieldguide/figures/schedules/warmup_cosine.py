"""Figures for docs/schedules/warmup-cosine.md, drawn from the snippet's own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.schedules.warmup_cosine import torch_lrs, torch_warmup_cosine
from snippets.schedules.warmup_cosine import warmup_cosine as schedule

STEPS = np.arange(2001)


def warmup_cosine() -> str:
    ref = torch_lrs(lambda o: torch_warmup_cosine(o, 100, 1000, 0.05, 0.01), len(STEPS), 1.0)
    return curves(
        "fig-warmup-cosine", STEPS,
        [("this site: holds the floor after T", schedule(STEPS, 1.0, 100, 1000, 0.05)),
         ("PyTorch SequentialLR + CosineAnnealingLR", ref)],
        "Warm-up for W = 100 steps, then cosine annealing to 0.05 of the peak at T = 1000. "
        "The two agree up to T; after it PyTorch's cosine carries on and climbs back to "
        "the peak at step 1900.",
        xlabel="optimizer step t", ylabel="learning rate / peak",
    )
