"""Figures for the ranking, metric-learning and segmentation loss pages, from the snippets."""

import matplotlib.pyplot as plt
import numpy as np

from fieldguide import plotting
from fieldguide.plotting import curves
from snippets.losses.contrastive import contrastive_loss
from snippets.losses.focal import sigmoid_focal_loss
from snippets.losses.hinge import hinge_loss
from snippets.losses.margin_ranking import margin_ranking_loss
from snippets.losses.overlap import dice_loss, iou_loss, tversky_loss
from snippets.losses.triplet import triplet_margin_loss

MARGIN = np.linspace(-2, 3, 501)  # y f(x)
ONES = np.ones_like(MARGIN)


def hinge() -> str:
    logistic = np.logaddexp(0, -MARGIN) / np.log(2)  # log2(1 + e^{-m}): 1 at m = 0
    return curves(
        "fig-hinge", MARGIN,
        [("0-1", (MARGIN <= 0).astype(float)),
         ("hinge", hinge_loss(MARGIN, ONES, reduction="none")),
         ("logistic (base 2)", logistic),
         ("squared hinge", hinge_loss(MARGIN, ONES, p=2, reduction="none"))],
        "Classification losses against the margin y·f(x): the hinge is exactly 0 past 1, "
        "the logistic loss never is.",
        xlabel="margin y·f(x)", ylabel="loss", ylim=(-0.2, 4),
    )


def margin_ranking() -> str:
    diff = np.linspace(-3, 3, 601)  # x1 - x2
    zero, ones = np.zeros_like(diff), np.ones_like(diff)
    return curves(
        "fig-margin-ranking", diff,
        [("y = 1, margin 0", margin_ranking_loss(diff, zero, ones, 0.0, "none")),
         ("y = 1, margin 1", margin_ranking_loss(diff, zero, ones, 1.0, "none")),
         ("y = −1, margin 1", margin_ranking_loss(diff, zero, -ones, 1.0, "none"))],
        "Margin ranking loss against the score difference x1 − x2: y = 1 asks for "
        "x1 ≥ x2 + margin.",
        xlabel="x1 − x2", ylabel="loss", ylim=(-0.2, 4),
    )


def contrastive() -> str:
    D = np.linspace(0, 3, 301)
    a, b = np.zeros((D.size, 1)), D[:, None]  # pairs of 1-D points, D apart
    ones, zeros = np.ones_like(D), np.zeros_like(D)
    return curves(
        "fig-contrastive", D,
        [("similar pair", contrastive_loss(a, b, ones, 1.0, 0.0, "none")),
         ("dissimilar, margin 1", contrastive_loss(a, b, zeros, 1.0, 0.0, "none")),
         ("dissimilar, margin 2", contrastive_loss(a, b, zeros, 2.0, 0.0, "none"))],
        "Contrastive loss against the distance D of a pair: similar pairs are pulled in, "
        "dissimilar ones pushed out to the margin.",
        xlabel="distance D", ylabel="loss", ylim=(-0.1, 2.5),
    )


def triplet() -> str:
    d_an = np.linspace(0, 4, 401)
    anchor = np.zeros((d_an.size, 2))
    positive = np.tile([1.0, 0.0], (d_an.size, 1))  # d(a, p) = 1
    negative = np.stack([np.zeros_like(d_an), d_an], axis=1)  # d(a, n) from 0 to 4
    series = [(f"margin {m:g}", triplet_margin_loss(anchor, positive, negative, m, eps=0.0,
                                                    reduction="none")) for m in (0.5, 1, 2)]
    return curves(
        "fig-triplet", d_an, series,
        "Triplet loss with d(a, p) = 1 as the negative moves away: it is 0 once "
        "d(a, n) ≥ 1 + margin.",
        xlabel="distance anchor–negative d(a, n)", ylabel="loss",
    )


def overlap() -> str:
    n, start, k = 50, 10, 10
    lengths = np.arange(0, 31)  # predicted region: pixels start .. start + L
    targets = np.zeros((lengths.size, n))
    targets[:, start : start + k] = 1  # a 10-pixel object
    preds = (np.arange(n) >= start) & (np.arange(n) < start + lengths[:, None])
    preds = preds.astype(float)  # (L, n): too short misses pixels, too long adds some
    kw = {"smooth": 0.0, "reduction": "none"}
    return curves(
        "fig-overlap", lengths,
        [("Dice", dice_loss(preds, targets, **kw)),
         ("IoU", iou_loss(preds, targets, **kw)),
         ("Tversky α=0.3, β=0.7", tversky_loss(preds, targets, 0.3, 0.7, **kw)),
         ("Tversky α=0.7, β=0.3", tversky_loss(preds, targets, 0.7, 0.3, **kw))],
        f"A {k}-pixel object predicted too short (left) or too long (right): β > α punishes "
        "missed pixels more, α > β extra ones; IoU is harsher than Dice throughout.",
        xlabel="length of the predicted region (pixels)", ylabel="loss",
    )


def focal() -> str:
    p_t = np.linspace(0.01, 0.999, 400)
    logit = np.log(p_t) - np.log1p(-p_t)  # x with sigmoid(x) = p_t, target 1
    ones = np.ones_like(p_t)
    with plt.rc_context(plotting._RC):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        styles = [*plotting.STYLES, (0, (6, 2, 1, 2, 1, 2))]  # a fifth, distinct dash
        for i, gamma in enumerate((0, 0.5, 1, 2, 5)):
            loss = sigmoid_focal_loss(logit, ones, None, gamma, "none")
            label = f"γ = {gamma:g}" + (" (cross-entropy)" if gamma == 0 else "")
            ax.plot(p_t, loss, label=label, color=plotting.COLORS[i % 4],
                    linestyle=styles[i], linewidth=2)
        ax.set_xlabel("probability of the true class p_t")
        ax.set_ylabel("loss")
        ax.set_ylim(-0.1, 4)
        ax.axhline(0, color=plotting.INK, linewidth=0.6)
        ax.legend(loc="best")
        svg = plotting.to_svg(fig, "fig-focal")
    return plotting.figure_html(
        svg, "Focal loss against p_t: larger γ flattens the loss of well-classified "
        "examples (p_t near 1) far more than that of hard ones.")
