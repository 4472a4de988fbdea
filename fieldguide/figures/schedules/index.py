"""Family-wide figures for docs/schedules/index.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.schedules import index as demo
from snippets.schedules.exponential_decay import exponential_decay
from snippets.schedules.step_decay import step_decay
from snippets.schedules.warmup_cosine import warmup_cosine
from snippets.schedules.warmup_linear import warmup_linear

STEPS = np.arange(1001)


def all_schedules() -> str:
    return curves(
        "fig-schedules-all", STEPS,
        [("linear warm-up, linear decay", warmup_linear(STEPS, 1.0, 100, 1000)),
         ("linear warm-up, cosine", warmup_cosine(STEPS, 1.0, 100, 1000)),
         ("step decay (S = 300, γ = 0.3)", step_decay(STEPS, 1.0, 300, 0.3)),
         ("exponential decay (γ = 0.997)", exponential_decay(STEPS, 1.0, 0.997))],
        "The four schedules over 1000 steps, as fractions of the peak rate; the two "
        "warm-up schedules climb for 100 steps.",
        xlabel="optimizer step t", ylabel="learning rate / peak",
    )


def warmup_losses() -> str:
    series = []
    for label, warmup in (("no warm-up", 0), ("50-step warm-up", 50)):
        losses, _, _ = demo.train_adam(0, 0.1, warmup)
        series.append((label, np.log10(losses)))
    return curves(
        "fig-schedules-warmup", np.arange(len(series[0][1])), series,
        "Training loss of the same ReLU network under Adam with peak rate 0.1 (log scale). "
        "Without warm-up the loss jumps by more than two orders of magnitude in the first "
        "steps and ends about where it started; with a 50-step warm-up it falls by more "
        "than five orders of magnitude.",
        xlabel="optimizer step", ylabel="log10 loss",
    )


def range_test() -> str:
    X, y = demo.least_squares()
    lrs, losses = demo.lr_range_test(X, y)
    _, smoothed = demo.smoothed_minimum(lrs, losses)
    bound = 2 / demo.smoothness(X)
    return curves(
        "fig-schedules-range-test", np.log10(lrs / bound),
        [("minibatch loss", np.log10(losses)), ("smoothed", np.log10(smoothed))],
        "The range test on the least-squares problem: loss against the learning rate, "
        "which grows by a constant factor every step. The rate is shown relative to the "
        "stability bound 2/L, so the vertical line at 0 marks the bound itself; the loss "
        "bottoms out just before it and explodes after.",
        xlabel="log10 (learning rate / (2/L))", ylabel="log10 loss",
    )
