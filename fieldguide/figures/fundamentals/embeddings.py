"""Figures for docs/fundamentals/embeddings.md, drawn from the snippet's own functions."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide.plotting import _RC, figure_html, to_svg
from snippets.fundamentals.embeddings import corpus_pairs, learn_embeddings


def similarity() -> str:
    words, _, pairs = corpus_pairs()
    W = learn_embeddings(pairs, len(words))
    U = W / np.linalg.norm(W, axis=1, keepdims=True)
    one_hot_cos = np.eye(len(words))  # distinct one-hot vectors are orthogonal
    with plt.rc_context({**_RC, "axes.grid": False}):
        fig, axes = plt.subplots(1, 3, figsize=(10.4, 4.6),
                                 gridspec_kw={"width_ratios": [1, 1, 0.05]})
        for ax, m, title in ((axes[0], one_hot_cos, "one-hot"),
                             (axes[1], U @ U.T, "learned (D = 4)")):
            image = ax.imshow(m, cmap="RdBu_r", vmin=-1, vmax=1)
            ax.set_xticks(range(len(words)), words, rotation=90, fontsize=8)
            ax.set_yticks(range(len(words)), words, fontsize=8)
            ax.set_title(f"cosine similarity, {title}")
        fig.colorbar(image, cax=axes[2], label="cosine")
        caption = ("Cosine similarity between every pair of words of the toy corpus. Left: "
                   "one-hot vectors, where every word is orthogonal to every other. Right: the "
                   "embeddings learned by predicting the next word, where words followed by the "
                   "same words (cat and dog; car and bus) point in similar directions.")
        return figure_html(to_svg(fig, "fig-embeddings-similarity"), caption)
