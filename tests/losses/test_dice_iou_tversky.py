"""Dice, IoU, Tversky and generalised Dice losses match their direct torch formulas, each
other, and the properties the page states."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from snippets.losses.dice_iou_tversky import (
    dice_loss,
    dice_loss_grad,
    generalized_dice_loss,
    generalized_dice_loss_grad,
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


@pytest.mark.parametrize(("loss", "grad", "kw", "ref"), LOSSES)
def test_refuses_0d_input_and_negative_parameters(loss, grad, kw, ref):
    """A 0-d input (no batch axis) and a negative or NaN smoothing raise ValueError."""
    with pytest.raises(ValueError, match="batch axis"):
        loss(np.array(0.5), np.array(1.0), **kw)
    for smooth in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="must be >= 0"):
            loss(np.ones((1, 3)), np.ones((1, 3)), smooth=smooth, **kw)
        with pytest.raises(ValueError, match="must be >= 0"):
            grad(np.ones((1, 3)), np.ones((1, 3)), smooth=smooth, **kw)


def test_tversky_refuses_negative_weights():
    """alpha and beta must be >= 0: a negative weight would reward errors."""
    x = np.ones((1, 3))
    for alpha, beta in ((-0.1, 0.5), (0.5, -0.1), (float("nan"), 0.5)):
        with pytest.raises(ValueError, match="must be >= 0"):
            tversky_loss(x, x, alpha, beta)
        with pytest.raises(ValueError, match="must be >= 0"):
            tversky_loss_grad(x, x, alpha, beta)


@pytest.mark.parametrize(("loss", "grad", "kw", "ref"), LOSSES)
def test_nan_stays_in_its_sample(loss, grad, kw, ref):
    """A NaN probability makes its sample's loss and gradient NaN, and no other's."""
    p, g = _masks((2, 6), np.float64)
    p[0, 2] = np.nan
    out = loss(p, g, reduction="none", **kw)
    assert np.isnan(out[0])
    assert np.isfinite(out[1])
    gr = grad(p, g, reduction="none", **kw)
    assert np.all(np.isnan(gr[0]))
    assert np.all(np.isfinite(gr[1]))
    assert_matches(out, ref(tensor(p), tensor(g), 1.0, None, "none"))


@pytest.mark.parametrize(("loss", "grad", "kw", "ref"), [
    *LOSSES[:2],
    pytest.param(tversky_loss, tversky_loss_grad, {"alpha": 0.999, "beta": 0.001},
                 lambda p, g, smooth, dim, reduction: refs.tversky(p, g, 0.999, 0.001, smooth,
                                                                   dim, reduction),
                 id="tversky-0.999-0.001"),
])
def test_float32_keeps_relative_accuracy_near_a_perfect_prediction(loss, grad, kw, ref):
    """Loss ~1e-4: computed as 1 - (a fraction near 1) float32 would keep only ~3 digits of
    it; the error-count form keeps ~6. The gradient on the target pixels, whose numerator
    B - A (1 - beta) would cancel for small beta, is also relatively accurate. The exact
    values are the float64 torch formula on the same float32 inputs."""
    g = (np.random.default_rng(5).random((2, 1000)) < 0.3).astype(np.float32)
    p = np.where(g == 1, np.float32(1 - 1e-4), np.float32(1e-4))
    pt = tensor(p.astype(np.float64), grad=True)
    exact = ref(pt, tensor(g.astype(np.float64)), 1.0, None, "mean")
    exact.backward()
    assert exact.item() < 1e-3  # the regime where 1 - fraction cancels
    np.testing.assert_allclose(loss(p, g, **kw), exact.item(), rtol=1e-5, atol=0)
    np.testing.assert_allclose(grad(p, g, **kw), pt.grad.numpy(), rtol=1e-5, atol=0)


# The generalised Dice loss of Sudre et al. (2017).

def _onehot(labels, C):
    """(N, *spatial) class indices -> (N, C, *spatial) one-hot."""
    return np.moveaxis(np.eye(C)[labels], -1, 1)


def _segmentation(shape, dtype, seed=0, absent=((0, 1),)):
    """Softmax probabilities and a one-hot target of `shape` (N, C, ...); each (sample, class)
    in `absent` is missing from that sample's target."""
    rng = np.random.default_rng(seed)
    N, C = shape[:2]
    labels = rng.integers(0, C, size=(N, *shape[2:]))
    for n, c in absent:
        if n < N:
            labels[n][labels[n] == c] = (c + 1) % C
    g = _onehot(labels, C)
    logits = rng.normal(size=shape) + 2 * g
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return p.astype(dtype), g.astype(dtype)


GDL_SHAPES = [pytest.param(s, id="x".join(map(str, s)))
              for s in [(2, 3, 8, 8), (1, 4, 10), (3, 2, 4, 4, 4), (0, 3, 5)]]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smooth", [0.0, 1e-5, 1.0], ids=lambda s: f"smooth-{s}")
@pytest.mark.parametrize("shape", GDL_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_generalized_dice_matches_formula(dtype, shape, smooth, reduction):
    """Values and gradients equal autograd of Sudre's formula in torch (weights from the
    target, an absent class weighted like the sample's largest weight, as MONAI does), for
    2-D and 3-D images, with an absent class in sample 0, and an empty batch."""
    p, g = _segmentation(shape, dtype)
    pt = tensor(p, grad=True)
    expected = refs.generalized_dice(pt, tensor(g), smooth, reduction)
    if expected.numel():
        expected.sum().backward()
    assert_matches(generalized_dice_loss(p, g, smooth, reduction), expected)
    grad = pt.grad if pt.grad is not None else torch.zeros_like(pt)
    assert_matches(generalized_dice_loss_grad(p, g, smooth, reduction), grad)


def test_generalized_dice_literal_weights_give_nan():
    """Taken literally, an absent class has weight 1/0 = inf and inf * 0 = NaN: the formula
    fails for that sample; ours gives the finite value of the patched weights."""
    p, g = _segmentation((2, 3, 6, 6), np.float64)  # class 1 absent from sample 0
    pt, gt = tensor(p), tensor(g)
    w = 1 / gt.sum(dim=(2, 3)) ** 2
    assert torch.isinf(w[0, 1])
    num = 2 * (w * (pt * gt).sum(dim=(2, 3))).sum(1)
    literal = 1 - num / (w * (pt.sum(dim=(2, 3)) + gt.sum(dim=(2, 3)))).sum(1)
    assert torch.isnan(literal[0])
    assert torch.isfinite(literal[1])
    ours = generalized_dice_loss(p, g, reduction="none")
    assert np.all(np.isfinite(ours))
    assert ours[1] == pytest.approx(literal[1].item(), rel=1e-12)


def test_generalized_dice_clamped_volume_lets_an_absent_class_dominate():
    """The other common patch, w = 1 / (sum g + eps)^2, gives an absent class a weight of
    1/eps^2: predicting 0.05 there per pixel drives the loss near 1, however good the rest."""
    labels = np.zeros((1, 6, 6), dtype=int)
    labels[0, :3] = 1  # classes 0 and 1 present, class 2 absent
    g = _onehot(labels, 3)
    p = 0.85 * g + 0.05  # 0.9 on the true class, 0.05 on each other one: sums to 1
    sp, sg, tp = p.sum(axis=(2, 3)), g.sum(axis=(2, 3)), (p * g).sum(axis=(2, 3))
    w = 1 / (sg + 1e-5) ** 2
    clamped = 1 - 2 * (w * tp).sum(1) / (w * (sp + sg)).sum(1)
    assert clamped[0] > 0.99
    assert generalized_dice_loss(p, g)[()] < 0.2  # 0.1 with the weights of the page


def test_generalized_dice_refuses_bad_input():
    """Input needs a batch and a class axis; the smoothing must be >= 0."""
    with pytest.raises(ValueError, match=r"shape \(N, C, \.\.\.\)"):
        generalized_dice_loss(np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match=r"shape \(N, C, \.\.\.\)"):
        generalized_dice_loss_grad(np.array(1.0), np.array(1.0))
    with pytest.raises(ValueError, match="must be >= 0"):
        generalized_dice_loss(np.ones((1, 2, 3)), np.ones((1, 2, 3)), smooth=-1.0)


def test_generalized_dice_sample_without_any_class():
    """An all-empty target leaves no weight at all: the loss is 0 with s > 0, and 0/0 = NaN
    with s = 0 (numpy warns)."""
    p, g = np.full((1, 2, 4), 0.5), np.zeros((1, 2, 4))
    assert generalized_dice_loss(p, g, smooth=1e-5) == 0
    with pytest.warns(RuntimeWarning, match="invalid value"):
        assert np.isnan(generalized_dice_loss(p, g))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_generalized_dice_with_one_class_is_dice(seed):
    """With a single class the weight cancels: generalised Dice (s = 0) is the Dice loss."""
    rng = np.random.default_rng(seed)
    p, g = rng.random((3, 1, 5, 5)), (rng.random((3, 1, 5, 5)) < 0.5).astype(float)
    g[:, 0, 0, 0] = 1  # the class is present in every sample
    np.testing.assert_allclose(generalized_dice_loss(p, g, reduction="none"),
                               dice_loss(p[:, 0], g[:, 0], 0.0, reduction="none"),
                               rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_generalized_dice_with_equal_volumes_is_pooled_dice(seed):
    """Classes of equal volume get equal weights, which cancel: the loss is the Dice loss of
    the counts pooled over classes."""
    rng = np.random.default_rng(seed)
    labels = rng.permuted(np.tile(np.arange(3), (2, 8)), axis=1).reshape(2, 4, 6)
    g = _onehot(labels, 3)
    p = rng.dirichlet(np.ones(3), size=(2, 4, 6)).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(generalized_dice_loss(p, g, reduction="none"),
                               dice_loss(p, g, 0.0, reduction="none"), rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), reps=st.integers(2, 4), perm_seed=st.integers(0, 99))
def test_generalized_dice_ignores_image_size_and_class_order(seed, reps, perm_seed):
    """Tiling the image (every count times k, every weight over k^2) and permuting the classes
    leave the loss unchanged (s = 0); it stays within [0, 1]."""
    p, g = _segmentation((2, 4, 5, 5), np.float64, seed=seed, absent=((0, 2), (1, 0)))
    base = generalized_dice_loss(p, g, reduction="none")
    tiled = generalized_dice_loss(np.tile(p, (1, 1, reps, 1)), np.tile(g, (1, 1, reps, 1)),
                                  reduction="none")
    order = np.random.default_rng(perm_seed).permutation(4)
    permuted = generalized_dice_loss(p[:, order], g[:, order], reduction="none")
    np.testing.assert_allclose(tiled, base, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(permuted, base, rtol=1e-12, atol=1e-12)
    assert np.all((base >= 0) & (base <= 1))


@settings(max_examples=60, deadline=None)
@given(p=MASKS, smooth=SMOOTH)
def test_no_overlap_costs_one_minus_smoothing_share(p, smooth):
    """TP = 0 (prediction only where the target is 0, masks not both empty): each loss is
    1 - s / (its denominator), exactly 1 for s = 0."""
    g = np.zeros_like(p)
    g[:, -1] = 1  # target in the last column, prediction elsewhere
    p[:, -1] = 0
    fp = p.sum(axis=1)
    for loss, errors in ((dice_loss, fp + 1), (iou_loss, fp + 1),
                         (lambda *a, **k: tversky_loss(*a, 0.3, 0.7, **k), 0.3 * fp + 0.7)):
        np.testing.assert_allclose(loss(p, g, smooth=smooth, reduction="none"),
                                   1 - smooth / (errors + smooth), rtol=1e-12, atol=1e-12)


def test_unknown_reduction_is_refused():
    """A misspelt reduction raises ValueError in every loss and gradient."""
    x = np.full((1, 2, 3), 0.5)
    for loss in (dice_loss, dice_loss_grad, iou_loss, iou_loss_grad, tversky_loss,
                 tversky_loss_grad, generalized_dice_loss, generalized_dice_loss_grad):
        with pytest.raises(ValueError, match="unknown reduction"):
            loss(x, x, reduction="avg")


def test_generalized_dice_nan_stays_in_its_sample():
    """A NaN probability makes its own sample's loss and gradient NaN, and no other's."""
    p, g = _segmentation((2, 3, 4, 4), np.float64)
    p[1, 0, 2, 2] = np.nan
    loss = generalized_dice_loss(p, g, reduction="none")
    grad = generalized_dice_loss_grad(p, g, reduction="none")
    assert np.isfinite(loss[0])
    assert np.isnan(loss[1])
    assert np.all(np.isfinite(grad[0]))
    assert np.all(np.isnan(grad[1]))
