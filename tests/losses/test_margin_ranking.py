"""Pairwise ranking losses: the margin form matches torch.nn.functional.margin_ranking_loss,
the logistic form matches -torch.nn.functional.logsigmoid of the margin-shifted difference."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch.nn import functional

from snippets.losses.margin_ranking import (
    logistic_ranking_loss,
    logistic_ranking_loss_grad,
    margin_ranking_loss,
    margin_ranking_loss_grad,
)
from tests.helpers import (
    DTYPES,
    HARD_VALUES,
    SHAPES,
    assert_matches,
    dtype_id,
    random_input,
    tensor,
)
from tests.losses._ranking_refs import reduce

REDUCTIONS = [pytest.param(r, id=f"reduction-{r}") for r in ("mean", "sum", "none")]
MARGINS = [-1.0, 0.0, 0.5, 2.0]


def _signs(shape, dtype, seed=1):
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1, 1).astype(dtype)


def _logistic_ref(t1, t2, t, margin=0.0, reduction="mean"):
    """-log sigmoid(y (x1 - x2) - m), written with torch's stable logsigmoid."""
    return reduce(-functional.logsigmoid(t * (t1 - t2) - margin), reduction)


def _check(loss, grad, ref_fn, x1, x2, y, margin, reduction, **tol):
    t1, t2 = tensor(x1, grad=True), tensor(x2, grad=True)
    ref = ref_fn(t1, t2, tensor(y), margin=margin, reduction=reduction)
    ref.sum().backward()
    g1, g2 = grad(x1, x2, y, margin, reduction)
    assert_matches(loss(x1, x2, y, margin, reduction), ref, **tol)
    assert_matches(g1, t1.grad, **tol)
    assert_matches(g2, t2.grad, **tol)


MARGIN_FORM = (margin_ranking_loss, margin_ranking_loss_grad, functional.margin_ranking_loss)
LOGISTIC_FORM = (logistic_ranking_loss, logistic_ranking_loss_grad, _logistic_ref)
FORMS = [pytest.param(*MARGIN_FORM, id="margin"), pytest.param(*LOGISTIC_FORM, id="logistic")]


@pytest.mark.parametrize(("loss", "grad", "ref_fn"), FORMS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", MARGINS, ids=lambda m: f"margin-{m}")
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_matches_torch(dtype, shape, margin, reduction, loss, grad, ref_fn):
    """Values and both input gradients equal torch's for every shape (0-d and empty included),
    margin (negative ones too, which torch accepts) and reduction."""
    x1, x2 = random_input(shape, dtype, seed=0), random_input(shape, dtype, seed=1)
    _check(loss, grad, ref_fn, x1, x2, _signs(shape, dtype), margin, reduction)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs_and_kink(dtype):
    """Scores of +-1e4, and ties on the kink (counted as active, as torch does), exactly."""
    x1 = np.concatenate([HARD_VALUES, [0.5, 1.0]]).astype(dtype)
    x2 = np.concatenate([HARD_VALUES[::-1], [0.5, 1.0]]).astype(dtype)  # last two: x1 == x2
    y = np.concatenate([_signs(HARD_VALUES.shape, dtype), [1.0, -1.0]]).astype(dtype)
    _check(*MARGIN_FORM, x1, x2, y, 0.0, "sum", rtol=0, atol=0)


def test_sign_convention():
    """y = 1 means input1 should rank higher: no loss when it does, by more than the margin."""
    assert margin_ranking_loss(np.array([3.0]), np.array([1.0]), np.array([1.0]), 1.0) == 0
    assert margin_ranking_loss(np.array([3.0]), np.array([1.0]), np.array([-1.0]), 1.0) == 3
    assert logistic_ranking_loss(np.array([3.0]), np.array([1.0]), np.array([1.0])) == (
        pytest.approx(np.log1p(np.exp(-2.0)), rel=1e-15))


def test_zero_labels_give_the_margin_like_torch():
    """A label 0 instead of -1 makes the loss the constant max(0, m) with zero gradient."""
    x1, x2 = np.array([-3.0, 0.0, 2.0]), np.array([1.0, 0.0, -5.0])
    y = np.zeros(3)
    _check(*MARGIN_FORM, x1, x2, y, 0.5, "none", rtol=0, atol=0)
    np.testing.assert_array_equal(margin_ranking_loss(x1, x2, y, 0.5, "none"), 0.5)


@pytest.mark.parametrize(("loss", "grad", "ref_fn"), FORMS)
def test_nan_scores(loss, grad, ref_fn):
    """A NaN score gives a NaN loss for its pair only. The margin form's gradient is 0 there,
    exactly as torch's clamp_min gives; the logistic form's is NaN, as logsigmoid's is."""
    x1, x2, y = np.array([np.nan, 0.5]), np.array([0.0, 0.0]), np.array([1.0, 1.0])
    _check(loss, grad, ref_fn, x1, x2, y, 0.0, "none", rtol=0, atol=0)
    assert np.isnan(loss(x1, x2, y, reduction="none")[0])


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_logistic_hard_inputs(dtype):
    """Differences of +-2e4 neither overflow nor lose the tiny gradient sigma(-t) for large t
    (relative accuracy: 1 - sigma(t) would cancel to 0; atol 0 would catch it)."""
    x1 = np.concatenate([HARD_VALUES, [20.0, 30.0, 60.0]]).astype(dtype)
    x2 = np.concatenate([HARD_VALUES[::-1], [0.0, 0.0, 0.0]]).astype(dtype)
    y = np.ones_like(x1)
    tol = {"rtol": 1e-12 if dtype == np.float64 else 2e-6, "atol": 0}
    _check(*LOGISTIC_FORM, x1, x2, y, 0.0, "none", **tol)
    assert logistic_ranking_loss_grad(x1, x2, y, reduction="sum")[0][-1] < 0  # not cancelled


@pytest.mark.parametrize(("dtype", "t"), [(np.float64, -1e3), (np.float32, -100.0)],
                         ids=["float64", "float32"])
def test_soft_margin_loss_overflows_where_ours_does_not(dtype, t):
    """torch's soft_margin_loss(x1 - x2, y) is the same loss but overflows to inf for very
    wrong pairs; ours stays finite and equals -logsigmoid."""
    x1, x2, y = np.array([t], dtype=dtype), np.array([0.0], dtype=dtype), np.ones(1, dtype)
    assert torch.isinf(functional.soft_margin_loss(tensor(x1 - x2), tensor(y)))
    _check(*LOGISTIC_FORM, x1, x2, y, 0.0, "sum")
    assert logistic_ranking_loss(x1, x2, y) == pytest.approx(-t, rel=1e-6)


@settings(max_examples=50, deadline=None)
@given(x=arrays(np.float64, (2, 6), elements=st.floats(-30, 30)), margin=st.floats(-3, 3))
def test_logistic_is_soft_margin_loss_of_the_difference(x, margin):
    """logistic(x1, x2, y, m) = soft_margin_loss(x1 - x2 - m y, y) for moderate scores."""
    y = _signs(6, np.float64, seed=3)
    ref = functional.soft_margin_loss(tensor(x[0] - x[1] - margin * y), tensor(y),
                                      reduction="none")
    ours = logistic_ranking_loss(x[0], x[1], y, margin, "none")
    np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(x=arrays(np.float64, (2, 6), elements=st.floats(-1e3, 1e3)), margin=st.floats(0, 10))
def test_swapping_inputs_and_sign_changes_nothing(x, margin):
    """loss(x1, x2, y) = loss(x2, x1, -y) for both forms: only the asked-for order counts."""
    y = np.ones(6)
    for loss in (margin_ranking_loss, logistic_ranking_loss):
        a = loss(x[0], x[1], y, margin, "none")
        b = loss(x[1], x[0], -y, margin, "none")
        np.testing.assert_array_equal(a, b)


@settings(max_examples=50, deadline=None)
@given(x=arrays(np.float64, (2, 6), elements=st.floats(-100, 100)), margin=st.floats(-3, 3))
def test_logistic_is_a_smoothed_hinge(x, margin):
    """With the same margin, 0 <= logistic - hinge <= log 2: softplus(z) - relu(z) lies in
    (0, log 2] (it reaches log 2 at z = 0)."""
    y = _signs(6, np.float64, seed=4)
    gap = (logistic_ranking_loss(x[0], x[1], y, margin, "none")
           - margin_ranking_loss(x[0], x[1], y, margin, "none"))
    assert np.all(gap >= 0)
    assert np.all(gap <= np.log(2) + 1e-15)


@pytest.mark.parametrize(("loss", "grad", "ref_fn"), FORMS)
def test_unknown_reduction_is_refused(loss, grad, ref_fn):
    """A misspelt reduction raises ValueError in the loss and in its gradient."""
    x = np.ones(3)
    with pytest.raises(ValueError, match="unknown reduction"):
        loss(x, x, x, reduction="avg")
    with pytest.raises(ValueError, match="unknown reduction"):
        grad(x, x, x, reduction="avg")
