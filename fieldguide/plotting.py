"""Build-time figures: matplotlib drawn to inline SVG that reads well in light and dark mode.

The SVG is inlined in the page, so text and axes use `currentColor` and follow the theme; the
curves use two mid-tone colours that keep their contrast on both backgrounds. Output is
deterministic (fixed hash salt, no date, ids prefixed per figure), so two builds of the same
commit give identical pages.
"""

from __future__ import annotations

import contextlib
import html
import io
import re

import matplotlib
import numpy as np

matplotlib.use("svg")
import matplotlib.pyplot as plt

INK = "#010203"  # placeholder colour, replaced by currentColor in the SVG
COLORS = ("#e8590c", "#1c7ed6", "#2f9e44", "#ae3ec9")
STYLES = ("-", "--", "-.", ":")

_RC = {
    "svg.hashsalt": "fieldguide",
    "svg.fonttype": "none",  # text stays text: smaller, selectable, uses the page's font
    "font.family": "sans-serif",
    "font.size": 11,
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.edgecolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.facecolor": "none",
    "figure.facecolor": "none",
    "savefig.facecolor": "none",
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#8888884d",
}


@contextlib.contextmanager
def one_torch_thread():
    """Run the enclosed torch work on one thread, then restore the thread count.

    Figures that train tiny networks are several times faster on one thread than with threads
    fighting over a shared machine's cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def to_svg(fig, name: str) -> str:
    """Serialise `fig` to an inline <svg> element whose ids are unique to `name`."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML prolog and doctype: it is inlined in HTML
    svg = svg.replace(INK, "currentColor")
    prefix = re.sub(r"\W", "-", name)
    svg = re.sub(r'id="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    return re.sub(r'\s(width|height)="[\d.]+pt"', "", svg, count=2)  # let CSS size it


def figure_html(svg: str, caption: str) -> str:
    """Wrap an inline SVG as an accessible <figure> with a caption."""
    svg = svg.replace("<svg", f'<svg role="img" aria-label="{html.escape(caption)}"', 1)
    caption_html = f"<figcaption>{html.escape(caption)}</figcaption>"
    return f'<figure class="fg-figure">{svg}{caption_html}</figure>'


def curves(name: str, x, series: list[tuple[str, object]], caption: str, *, xlabel: str = "x",
           ylabel: str = "", ylim: tuple[float, float] | None = None) -> str:
    """A line plot of several labelled curves over the same `x`, as figure HTML."""
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        for i, (label, y) in enumerate(series):
            ax.plot(x, y, label=label, color=COLORS[i % 4], linestyle=STYLES[i % 4], linewidth=2)
        ax.set_xlabel(xlabel)
        if ylabel:
            ax.set_ylabel(ylabel)
        if ylim:
            ax.set_ylim(*ylim)
        ax.axhline(0, color=INK, linewidth=0.6)
        ax.axvline(0, color=INK, linewidth=0.6)
        ax.legend(loc="best")
        return figure_html(to_svg(fig, name), caption)


RESIDUAL = np.linspace(-3, 3, 601)  # the x axis of the regression-loss figures
ZERO = np.zeros_like(RESIDUAL)  # their target: the residual is the prediction


def residual_curves(name: str, series: list[tuple[str, object]], caption: str, *,
                    ylim: tuple[float, float] | None = None) -> str:
    """Regression losses (or gradients) against the residual r = prediction - target."""
    return curves(name, RESIDUAL, series, caption, xlabel="residual r = prediction − target",
                  ylim=ylim)
