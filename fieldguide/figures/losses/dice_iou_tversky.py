"""Figures for docs/losses/dice-iou-tversky.md, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.dice_iou_tversky import dice_loss, iou_loss, tversky_loss


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
