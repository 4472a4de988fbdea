"""Family-wide figures for docs/fundamentals/index.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, INK, figure_html, to_svg
from snippets.fundamentals.index import fit, kinks, net

X = np.linspace(-np.pi, np.pi, 801)


def sin_fit() -> str:
    (w, b, v, c), losses = fit(np.sin, hidden=16)
    ks = kinks(w, b)
    f = net(X, w, b, v, c)[0]
    with plt.rc_context(_RC):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 5.2), sharex=True,
                                          gridspec_kw={"height_ratios": [3, 2]})
        top.plot(X, np.sin(X), color=COLORS[1], linestyle="--", linewidth=2, label="sin x")
        top.plot(X, f, color=COLORS[0], linewidth=1.5, label="network, 16 ReLU units")
        top.plot(ks, net(ks, w, b, v, c)[0], "o", color=INK, markersize=4,
                 label=f"kinks −bᵢ/wᵢ ({len(ks)} inside)")
        top.axhline(0, color=INK, linewidth=0.6)
        top.legend(loc="upper left", fontsize=9)
        bottom.plot(X, f - np.sin(X), color=COLORS[0], linewidth=1.5)
        for k in ks:
            bottom.axvline(k, color=INK, linewidth=0.6, linestyle=":")
        bottom.axhline(0, color=INK, linewidth=0.6)
        bottom.set_ylabel("network − sin")
        bottom.set_xlabel("x")
        return figure_html(
            to_svg(fig, "fig-fundamentals-sin-fit"),
            "Top: a network with one hidden layer of 16 ReLU units after 2000 Adam steps on "
            f"sin x (final mean squared error {losses[-1]:.1e}); each dot is where one hidden "
            "unit switches on or off. Bottom: its error. Between two kinks (dotted lines) the "
            "network is a straight line, so the error there is a line minus sin x, with a "
            "corner at each kink.",
        )
