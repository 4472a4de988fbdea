"""Figures for docs/normalization/rms-norm.md, drawn from the snippet's own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.normalization.rms_norm import rms_norm

OFFSETS = np.array([-1.0, 0.0, 1.0, 2.0])  # one row, shifted by m


def shift() -> str:
    m = np.linspace(-12, 12, 961)
    rows = m[:, None] + OFFSETS  # (961, 4)
    y = rms_norm(rows, 4)
    return curves(
        "fig-rms-norm-shift", m,
        [(f"entry {x:+.0f} + m", y[:, i]) for i, x in enumerate(OFFSETS)],
        "RMSNorm of the row [−1, 0, 1, 2] + m as the shift m varies. Near m = 0 the four "
        "outputs are spread out; as |m| grows the shared offset dominates the root mean square "
        "and all four tend to the same value, +1 or −1. Layer normalization would give the "
        "same four values, about −1.34, −0.45, 0.45 and 1.34, for every m.",
        xlabel="shift m added to every entry", ylabel="rms_norm output",
    )
