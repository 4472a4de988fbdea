"""Dice, IoU and Tversky losses match their direct torch formulas and each other."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from snippets.losses.dice_iou_tversky import (
    dice_loss,
    dice_loss_grad,
    iou_loss,
    iou_loss_grad,
    tversky_loss,
    tversky_loss_grad,
)
from tests.helpers import DTYPES, assert_matches, dtype_id, tensor
from tests.losses import _ranking_refs as refs

REDUCTIONS = [pytest.param(r, id=f"reduction-{r}") for r in ("mean", "sum", "none")]
SHAPES = [  # (input shape, dim): per sample, per sample and class, empty batch
    pytest.param((1, 5), None, id="1x5"),
    pytest.param((4, 16, 16), None, id="4x16x16"),
    pytest.param((2, 3, 8, 8), (2, 3), id="2x3x8x8-per-class"),
    pytest.param((0, 5), None, id="empty-batch"),
]
LOSSES = [  # ours, our gradient, our options, the reference with the same options
    pytest.param(dice_loss, dice_loss_grad, {}, refs.dice, id="dice"),
    pytest.param(iou_loss, iou_loss_grad, {}, refs.iou, id="iou"),
    pytest.param(tversky_loss, tversky_loss_grad, {"alpha": 0.3, "beta": 0.7},
                 lambda p, g, smooth, dim, reduction: refs.tversky(p, g, 0.3, 0.7, smooth, dim,
                                                                   reduction), id="tversky"),
]


def _masks(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random(shape).astype(dtype), (rng.random(shape) < 0.3).astype(dtype)


def _check(loss, grad, kw, ref, p, g, smooth, dim, reduction, **tol):
    pt = tensor(p, grad=True)
    expected = ref(pt, tensor(g), smooth, dim, reduction)
    expected.sum().backward()
    assert_matches(loss(p, g, smooth=smooth, dim=dim, reduction=reduction, **kw), expected,
                   **tol)
    assert_matches(grad(p, g, smooth=smooth, dim=dim, reduction=reduction, **kw), pt.grad,
                   **tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smooth", [0.0, 1.0], ids=lambda s: f"smooth-{s}")
@pytest.mark.parametrize(("shape", "dim"), SHAPES)
@pytest.mark.parametrize(("loss", "grad", "kw", "ref"), LOSSES)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_matches_formula(dtype, loss, grad, kw, ref, shape, dim, smooth, reduction):
    """Values and gradients equal autograd of the direct torch formula, in both precisions."""
    p, g = _masks(shape, dtype)
    _check(loss, grad, kw, ref, p, g, smooth, dim, reduction)


@pytest.mark.parametrize(("loss", "grad", "kw", "ref"), LOSSES)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_masks(dtype, loss, grad, kw, ref):
    """Probabilities exactly 0 and 1: a perfect prediction costs exactly 0, as in torch."""
    g = np.array([[0, 1, 1, 0, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1]], dtype=dtype)
    for smooth in (0.0, 1.0):
        _check(loss, grad, kw, ref, g, g, smooth, None, "sum")
        assert np.all(loss(g, g, smooth=smooth, reduction="none", **kw) == 0)
        _check(loss, grad, kw, ref, 1 - g, g, smooth, None, "sum")  # exactly wrong


@pytest.mark.parametrize(("loss", "grad", "kw", "ref"), LOSSES)
def test_empty_masks(loss, grad, kw, ref):
    """Empty target: predicted empty costs 0 when smooth > 0, and any prediction costs 1
    when smooth = 0, where empty-on-empty is 0/0 = NaN (with numpy's warning)."""
    empty, some = np.zeros((1, 6)), np.full((1, 6), 0.2)
    assert loss(empty, empty, smooth=1.0, **kw) == 0
    _check(loss, grad, kw, ref, empty, empty, 1.0, None, "sum")
    assert loss(some, empty, smooth=0.0, **kw) == 1
    _check(loss, grad, kw, ref, some, empty, 0.0, None, "sum")
    with pytest.warns(RuntimeWarning, match="invalid value"):
        assert np.isnan(loss(empty, empty, smooth=0.0, **kw))
    assert torch.isnan(ref(tensor(empty), tensor(empty), 0.0, None, "mean"))


MASKS = arrays(np.float64, (3, 7), elements=st.floats(0, 1))
SMOOTH = st.sampled_from([0.0, 1e-3, 1.0, 10.0])


def _nonempty(p, g):
    p[:, 0] = np.maximum(p[:, 0], 0.5)  # keep sum(p) > 0: smooth = 0 needs no 0/0
    return p, g


@settings(max_examples=80, deadline=None)
@given(p=MASKS, g=MASKS, smooth=SMOOTH)
def test_tversky_half_half_is_dice(p, g, smooth):
    """Tversky(1/2, 1/2) with smoothing s equals Dice with smoothing 2s, gradient included."""
    p, g = _nonempty(p, g)
    tol = {"rtol": 1e-12, "atol": 1e-12}
    np.testing.assert_allclose(tversky_loss(p, g, 0.5, 0.5, smooth, reduction="none"),
                               dice_loss(p, g, 2 * smooth, reduction="none"), **tol)
    np.testing.assert_allclose(tversky_loss_grad(p, g, 0.5, 0.5, smooth),
                               dice_loss_grad(p, g, 2 * smooth), **tol)


@settings(max_examples=80, deadline=None)
@given(p=MASKS, g=MASKS, smooth=SMOOTH)
def test_tversky_one_one_is_iou(p, g, smooth):
    """Tversky(1, 1) equals the IoU loss with the same smoothing, gradient included."""
    p, g = _nonempty(p, g)
    tol = {"rtol": 1e-12, "atol": 1e-12}
    np.testing.assert_allclose(tversky_loss(p, g, 1.0, 1.0, smooth, reduction="none"),
                               iou_loss(p, g, smooth, reduction="none"), **tol)
    np.testing.assert_allclose(tversky_loss_grad(p, g, 1.0, 1.0, smooth),
                               iou_loss_grad(p, g, smooth), **tol)


@settings(max_examples=80, deadline=None)
@given(p=MASKS, g=MASKS)
def test_dice_and_iou_are_related(p, g):
    """With s = 0, the soft Dice score D and IoU score J satisfy D = 2J / (1 + J)."""
    p, g = _nonempty(p, g)
    J = 1 - iou_loss(p, g, 0.0, reduction="none")
    D = 1 - dice_loss(p, g, 0.0, reduction="none")
    np.testing.assert_allclose(D, 2 * J / (1 + J), rtol=1e-12, atol=1e-12)
