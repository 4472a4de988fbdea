"""Figures for docs/fundamentals/distillation.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, INK, STYLES, figure_html, to_svg
from snippets.fundamentals.distillation import (
    high_temperature_limit,
    log_softmax,
    soft_kl_grad,
)


def temperature() -> str:
    teacher = np.array([9.0, 4.0, 1.0, -2.0])
    classes = ["cat", "dog", "car", "tree"]
    rng = np.random.default_rng(0)
    s, t = rng.normal(size=(8, 10)), 3 * rng.normal(size=(8, 10))
    s, t = s - s.mean(1, keepdims=True), t - t.mean(1, keepdims=True)
    temps = np.geomspace(0.5, 100, 60)
    plain = np.array([np.linalg.norm(soft_kl_grad(s, t, T)) for T in temps])
    limit = np.linalg.norm(high_temperature_limit(s, t))
    with plt.rc_context(_RC):
        fig, (left, right) = plt.subplots(1, 2, figsize=(8.8, 3.8))
        width = 0.26
        for i, T in enumerate((1, 4, 16)):
            p = np.exp(log_softmax(teacher / T))
            left.bar(np.arange(4) + (i - 1) * width, p, width, color=COLORS[i],
                     label=f"T = {T}", hatch=("", "//", "..")[i], edgecolor=INK,
                     linewidth=0.5)
        left.set_xticks(np.arange(4), classes)
        left.set_ylabel("teacher probability")
        left.set_title("softmax(t / T) for one image")
        left.legend()
        right.loglog(temps, plain, color=COLORS[0], linestyle=STYLES[0], linewidth=2,
                     label="|∂L_soft/∂s|")
        right.loglog(temps, temps**2 * plain, color=COLORS[1], linestyle=STYLES[1],
                     linewidth=2, label="T² |∂L_soft/∂s|")
        right.axhline(limit, color=INK, linestyle=":", linewidth=1.2,
                      label="limit |s − t| / (BN)")
        right.set_xlabel("temperature T")
        right.set_title("gradient of the soft loss")
        right.legend(fontsize=9)
        return figure_html(
            to_svg(fig, "fig-distillation-temperature"),
            "Left: a teacher's probabilities for the logits (9, 4, 1, −2) at three "
            "temperatures; raising T lifts the wrong classes so their ranking becomes "
            "visible. Right: the norm of the soft loss's gradient with respect to the "
            "student logits (8 examples, 10 classes, zero-mean logits) falls like 1/T²; "
            "multiplied by T² it levels off at its high-temperature limit.",
        )
