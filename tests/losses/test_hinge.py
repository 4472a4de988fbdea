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
