"""Margin ranking loss and its gradients match torch.nn.functional.margin_ranking_loss."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch.nn import functional

from snippets.losses.margin_ranking import margin_ranking_loss, margin_ranking_loss_grad
from tests.helpers import (
    DTYPES,
    HARD_VALUES,
    SHAPES,
    assert_matches,
    dtype_id,
    random_input,
    tensor,
)

REDUCTIONS = [pytest.param(r, id=f"reduction-{r}") for r in ("mean", "sum", "none")]


def _signs(shape, dtype, seed=1):
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1, 1).astype(dtype)


def _check(x1, x2, y, margin, reduction, **tol):
    t1, t2 = tensor(x1, grad=True), tensor(x2, grad=True)
    ref = functional.margin_ranking_loss(t1, t2, tensor(y), margin=margin, reduction=reduction)
    ref.sum().backward()
    g1, g2 = margin_ranking_loss_grad(x1, x2, y, margin, reduction)
    assert_matches(margin_ranking_loss(x1, x2, y, margin, reduction), ref, **tol)
    assert_matches(g1, t1.grad, **tol)
    assert_matches(g2, t2.grad, **tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.5, 2.0], ids=lambda m: f"margin-{m}")
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_matches_torch(dtype, shape, margin, reduction):
    """Values and both input gradients equal torch's for every shape, margin and reduction."""
    x1, x2 = random_input(shape, dtype, seed=0), random_input(shape, dtype, seed=1)
    _check(x1, x2, _signs(shape, dtype), margin, reduction)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs_and_kink(dtype):
    """Scores of +-1e4, and ties on the kink (counted as active, as torch does), exactly."""
    x1 = np.concatenate([HARD_VALUES, [0.5, 1.0]]).astype(dtype)
    x2 = np.concatenate([HARD_VALUES[::-1], [0.5, 1.0]]).astype(dtype)  # last two: x1 == x2
    y = np.concatenate([_signs(HARD_VALUES.shape, dtype), [1.0, -1.0]]).astype(dtype)
    _check(x1, x2, y, 0.0, "sum", rtol=0, atol=0)


def test_sign_convention():
    """y = 1 means input1 should rank higher: no loss when it does, by more than the margin."""
    assert margin_ranking_loss(np.array([3.0]), np.array([1.0]), np.array([1.0]), 1.0) == 0
    assert margin_ranking_loss(np.array([3.0]), np.array([1.0]), np.array([-1.0]), 1.0) == 3


@settings(max_examples=50, deadline=None)
@given(x=arrays(np.float64, (2, 6), elements=st.floats(-1e3, 1e3)), margin=st.floats(0, 10))
def test_swapping_inputs_and_sign_changes_nothing(x, margin):
    """loss(x1, x2, y) = loss(x2, x1, -y): the loss depends only on the asked-for order."""
    y = np.ones(6)
    a = margin_ranking_loss(x[0], x[1], y, margin, "none")
    b = margin_ranking_loss(x[1], x[0], -y, margin, "none")
    np.testing.assert_array_equal(a, b)
