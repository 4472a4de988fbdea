"""Figures for docs/sequence/lstm-gru.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, COLORS, STYLES, figure_html, to_svg
from snippets.sequence.lstm_gru import gradient_reach

RUNS = {"RNN (tanh)": ("rnn", 0.0), "GRU": ("gru", 0.0), "LSTM": ("lstm", 0.0),
        "LSTM, forget bias +1": ("lstm", 1.0)}


def gradient_reach_plot() -> str:
    m = np.arange(100)
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        for i, (label, (kind, fb)) in enumerate(RUNS.items()):
            r = gradient_reach(kind, forget_bias=fb).numpy()
            ax.plot(m, r, color=COLORS[i], linestyle=STYLES[i], linewidth=2, label=label)
        ax.set_yscale("log")
        ax.set_xlabel("steps back m")
        ax.set_ylabel(r"$\Vert \partial (u^\top h_T) / \partial x_{T-m} \Vert_2$")
        ax.legend(loc="lower left", fontsize=9)
        caption = (
            "How strongly the last output of a one-layer network (64 units, PyTorch's default "
            "initialisation, random inputs of 16 features) depends on the input m steps back, "
            "on a log scale. With PyTorch's initialisation the LSTM's forget gate starts near "
            "1/2 and its sensitivity decays nearly as fast as the plain RNN's; adding 1 to the "
            "forget-gate bias makes it decay far more slowly.")
        return figure_html(to_svg(fig, "fig-lstm-gru-gradient-reach"), caption)
