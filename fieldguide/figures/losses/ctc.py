"""Figures for docs/losses/ctc.md, drawn from the snippets' own functions."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap, to_rgb

from fieldguide.plotting import _RC, COLORS, figure_html, to_svg
from snippets.losses.ctc import ctc_alpha, ctc_beta, ctc_loss, extend_with_blanks

SYMBOLS = "-ab"  # index 0 is the blank, drawn as "-"

def _toy_log_probs(T=12, seed=3):
    """Frame-wise log-probabilities that drift from 'a' to 'b', with blanks in between."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, T)[:, None]
    logits = np.hstack([1.5 + 0 * t, 3 * (1 - t) - 0.5, 3 * t - 0.5])  # (T, 3)
    logits = logits + rng.normal(scale=0.8, size=logits.shape)
    return logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)


def ctc_lattice() -> str:
    """Posterior occupancy exp(alpha + beta - log p) of each (frame, state) for target 'aab'."""
    lp = _toy_log_probs()
    target = np.array([1, 1, 2])
    ext, _ = extend_with_blanks(target)
    alpha, beta = ctc_alpha(lp, target), ctc_beta(lp, target)
    log_p = -ctc_loss(lp[:, None], [target], [len(lp)], [len(target)], reduction="sum")
    occupancy = np.exp(alpha + beta - log_p)  # (T, 2S+1); each row sums to 1
    blue = to_rgb(COLORS[1])  # transparent to opaque: reads on light and dark pages
    cmap = LinearSegmentedColormap.from_list("fg-occupancy", [(*blue, 0.0), (*blue, 1.0)])
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.4))
        image = ax.imshow(occupancy.T, aspect="auto", cmap=cmap, vmin=0, vmax=1,
                          origin="upper", interpolation="nearest")
        ax.set_yticks(range(len(ext)), [SYMBOLS[k] for k in ext])
        ax.set_xticks(range(len(lp)))
        ax.set_xlabel("frame t")
        ax.set_ylabel("state of l' (\"-\" = blank)")
        ax.grid(False)
        fig.colorbar(image, ax=ax, label="posterior γ_t(s)")
        caption = ("CTC posteriors for the target 'aab' over 12 frames: each column is where "
                   "the alignments sit at that frame (it sums to 1). The blank between the two "
                   "a's cannot be skipped; the one between 'a' and 'b' can.")
        return figure_html(to_svg(fig, "fig-ctc-lattice"), caption)
