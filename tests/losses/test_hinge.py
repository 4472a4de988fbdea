"""Hinge losses: multi_margin_loss matches torch; the binary hinge matches its direct formula."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional

from snippets.losses.hinge import (
    hinge_loss,
    hinge_loss_grad,
    multi_margin_loss,
    multi_margin_loss_grad,
)
from tests.helpers import DTYPES, HARD_VALUES, SHAPES, assert_matches, random_input, tensor

REDUCTIONS = [pytest.param(r, id=f"reduction-{r}") for r in ("mean", "sum", "none")]
DTYPE_IDS = {"ids": lambda d: np.dtype(d).name}


def _signs(shape, dtype, seed=1):
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1, 1).astype(dtype)


def _check_multi(x, y, dtype, p, margin, weight, reduction, **tol):
    xt = tensor(x, grad=True)
    wt = None if weight is None else tensor(weight)
    ref = functional.multi_margin_loss(xt, torch.tensor(y), p=p, margin=margin, weight=wt,
                                       reduction=reduction)
    ref.sum().backward()
    assert_matches(multi_margin_loss(x, y, p, margin, weight, reduction), ref, **tol)
    assert_matches(multi_margin_loss_grad(x, y, p, margin, weight, reduction), xt.grad, **tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["no-weight", "weight"])
@pytest.mark.parametrize("p", [1, 2], ids=["p1", "p2"])
@pytest.mark.parametrize("shape", [(1, 3), (7, 4), (32, 10), (5,)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
def test_multi_margin_matches_torch(dtype, shape, p, weighted, reduction):
    """Values and input gradients equal torch's multi_margin_loss, (N, C) and unbatched."""
    x = random_input(shape, dtype, scale=1.0)
    C = shape[-1]
    y = np.random.default_rng(2).integers(0, C, size=shape[:-1])
    w = np.random.default_rng(3).uniform(0.2, 3.0, size=C).astype(dtype) if weighted else None
    _check_multi(x, y, dtype, p, 0.7, w, reduction)


@pytest.mark.parametrize("p", [1, 2], ids=["p1", "p2"])
@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
def test_multi_margin_hard_inputs(dtype, p):
    """Scores of +-1e4 and exact kinks (m - x_y + x_i = 0, gradient 0) agree with torch."""
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [1.0, 0.0, -3.0]], dtype=dtype)
    y = np.array([0, 0, 0])  # row 3 sits exactly on the kink for class 1
    _check_multi(x, y, dtype, p, 1.0, None, "sum")


@pytest.mark.parametrize("reduction", [pytest.param(r, id=f"reduction-{r}")
                                       for r in ("sum", "none")])
def test_multi_margin_empty_batch(reduction):
    """An empty batch gives 0 (sum) or an empty array (none), as torch does."""
    x = np.zeros((0, 3))
    y = np.zeros(0, dtype=np.int64)
    _check_multi(x, y, np.float64, 1, 1.0, None, reduction)


def test_multi_margin_empty_batch_mean_is_nan():
    """Our mean over no samples is NaN (torch 2.13 returns an uninitialised number here)."""
    assert np.isnan(multi_margin_loss(np.zeros((0, 3)), np.zeros(0, dtype=np.int64)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2], ids=["p1", "p2"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
def test_binary_hinge_matches_formula(dtype, shape, p, reduction):
    """Binary hinge max(0, m - y s)^p and its gradient equal autograd of the torch formula."""
    s, y = random_input(shape, dtype, scale=1.0), _signs(shape, dtype)
    st_ = tensor(s, grad=True)
    ref = torch.relu(0.8 - tensor(y) * st_) ** p
    ref = {"mean": torch.mean, "sum": torch.sum, "none": lambda v: v}[reduction](ref)
    ref.sum().backward()
    assert_matches(hinge_loss(s, y, 0.8, p, reduction), ref)
    assert_matches(hinge_loss_grad(s, y, 0.8, p, reduction), st_.grad)


@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
def test_binary_hinge_hard_inputs(dtype):
    """Huge scores, zeros and the kink y s = 1 (gradient 0 there) agree with the formula."""
    s = np.concatenate([HARD_VALUES, [1.0, -1.0]]).astype(dtype)
    y = np.concatenate([_signs(HARD_VALUES.shape, dtype), [1.0, -1.0]]).astype(dtype)
    st_ = tensor(s, grad=True)
    ref = torch.relu(1 - tensor(y) * st_)
    ref.sum().backward()
    assert_matches(hinge_loss(s, y, reduction="none"), ref)
    assert_matches(hinge_loss_grad(s, y, reduction="sum"), st_.grad, rtol=0, atol=0)


@settings(max_examples=60, deadline=None)
@given(s=st.floats(-50, 50), positive=st.booleans(), margin=st.floats(0, 5),
       p=st.sampled_from([1, 2]))
def test_binary_hinge_is_two_class_multi_margin(s, positive, margin, p):
    """hinge(s, y) = 2 * multi_margin_loss([0, s], class of y): the binary case of torch's."""
    y = 1.0 if positive else -1.0
    ref = functional.multi_margin_loss(torch.tensor([[0.0, s]], dtype=torch.float64),
                                       torch.tensor([int(positive)]), p=p, margin=margin)
    np.testing.assert_allclose(hinge_loss(np.array([s]), np.array([y]), margin, p),
                               2 * ref.item(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("p", [0, 1.5, 3], ids=lambda p: f"p{p}")
def test_other_powers_are_refused_like_torch(p):
    """p outside {1, 2} raises ValueError in all four functions; torch refuses it too."""
    x, y = np.zeros((2, 3)), np.array([0, 1])
    for call in (lambda: hinge_loss(x[0], np.ones(3), p=p),
                 lambda: hinge_loss_grad(x[0], np.ones(3), p=p),
                 lambda: multi_margin_loss(x, y, p=p),
                 lambda: multi_margin_loss_grad(x, y, p=p)):
        with pytest.raises(ValueError, match="p must be 1 or 2"):
            call()
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        functional.multi_margin_loss(torch.zeros(2, 3), torch.tensor([0, 1]), p=p)


@pytest.mark.parametrize("p", [1, 2], ids=["p1", "p2"])
@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
def test_zero_labels_give_a_constant(dtype, p):
    """A label 0 instead of -1: the loss is max(0, m)^p whatever the score, gradient 0."""
    s = np.array([-1e4, -2.0, 0.0, 0.3, 2.0, 1e4], dtype=dtype)
    y = np.zeros_like(s)
    for margin in (0.5, 1.0, 2.0):
        loss = hinge_loss(s, y, margin, p, reduction="none")
        assert loss.dtype == dtype
        np.testing.assert_array_equal(loss, np.full_like(s, margin**p))
        np.testing.assert_array_equal(hinge_loss_grad(s, y, margin, p, "sum"), 0)


@pytest.mark.parametrize("p", [1, 2], ids=["p1", "p2"])
def test_binary_nan_gives_nan(p):
    """A NaN score gives a NaN loss and a NaN gradient; the other entries are unaffected."""
    s, y = np.array([np.nan, 0.5, 2.0]), np.array([1.0, 1.0, -1.0])
    loss, grad = hinge_loss(s, y, p=p, reduction="none"), hinge_loss_grad(s, y, p=p)
    assert np.isnan(loss[0])
    assert np.isnan(grad[0])
    assert np.all(np.isfinite(loss[1:]))
    assert np.all(np.isfinite(grad[1:]))


@pytest.mark.parametrize("p", [1, 2], ids=["p1", "p2"])
def test_multi_margin_nan_gives_nan_where_torch_skips_it(p):
    """A NaN score: ours is NaN (value and gradient row); torch silently skips the term."""
    x = np.array([[np.nan, 0.0, 1.0], [0.5, np.nan, 0.0], [0.1, 0.2, 0.3]])
    y = np.array([0, 0, 0])
    xt = tensor(x, grad=True)
    ref = functional.multi_margin_loss(xt, torch.tensor(y), p=p, reduction="none")
    ref.sum().backward()
    assert torch.isfinite(ref).all()
    assert ref[0] == 0
    assert torch.isfinite(xt.grad).all()
    ours = multi_margin_loss(x, y, p=p, reduction="none")
    grad = multi_margin_loss_grad(x, y, p=p, reduction="none")
    assert np.all(np.isnan(ours[:2]))
    assert np.all(np.isnan(grad[0]))
    assert np.isnan(grad[1, 0])
    assert np.isnan(grad[1, 1])
    assert grad[1, 2] == xt.grad[1, 2]
    assert_matches(ours[2], ref[2])
    assert_matches(grad[2], xt.grad[2])


def test_multi_margin_refuses_0d_input():
    """A 0-d score has no class axis: ValueError (torch treats it as one class, loss 0)."""
    with pytest.raises(ValueError, match=r"shape \(C,\) or \(N, C\)"):
        multi_margin_loss(np.array(1.0), np.array(0))
    with pytest.raises(ValueError, match=r"shape \(C,\) or \(N, C\)"):
        multi_margin_loss_grad(np.array(1.0), np.array(0))
    assert functional.multi_margin_loss(torch.tensor(1.0), torch.tensor(0)).item() == 0


@pytest.mark.parametrize("bad", [-1, 3], ids=["minus-one", "C"])
def test_out_of_range_targets_are_refused_like_torch(bad):
    """A class index outside [0, C) raises ValueError, as torch raises; NumPy indexing would
    silently read -1 as the last class."""
    x, y = np.zeros((2, 3)), np.array([0, bad])
    for call in (lambda: multi_margin_loss(x, y), lambda: multi_margin_loss_grad(x, y),
                 lambda: multi_margin_loss(x[0], np.array(bad))):
        with pytest.raises(ValueError, match=r"class indices in \[0, 3\)"):
            call()
    with pytest.raises((RuntimeError, IndexError), match="out of range"):
        functional.multi_margin_loss(torch.zeros(2, 3), torch.tensor([0, bad]))


def test_class_weight_multiplies_the_powered_term():
    """With p = 2 the weight multiplies max(0, z)^2 (torch's docs and code), not z inside."""
    x, y, w = np.array([[0.0, 0.5]]), np.array([0]), np.array([3.0, 1.0])
    z = 1.0 - 0.0 + 0.5  # m - x_y + x_1
    ref = functional.multi_margin_loss(tensor(x), torch.tensor(y), p=2, weight=tensor(w))
    assert ref.item() == pytest.approx(3.0 * z**2 / 2, rel=1e-15)
    assert multi_margin_loss(x, y, p=2, weight=w) == pytest.approx(3.0 * z**2 / 2, rel=1e-15)


def test_unknown_reduction_is_refused():
    """A misspelt reduction raises ValueError in the losses and in their gradients."""
    x, y = np.zeros((2, 3)), np.array([0, 1])
    for call in (lambda: hinge_loss(x[0], np.ones(3), reduction="avg"),
                 lambda: hinge_loss_grad(x[0], np.ones(3), reduction="avg"),
                 lambda: multi_margin_loss(x, y, reduction="avg"),
                 lambda: multi_margin_loss_grad(x, y, reduction="avg")):
        with pytest.raises(ValueError, match="unknown reduction"):
            call()
