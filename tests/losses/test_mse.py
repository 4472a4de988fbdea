"""MSE and its gradient match torch.nn.functional.mse_loss and its autograd gradient."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from snippets.losses.mse import mse_loss, mse_loss_grad
from tests.helpers import DTYPES, SHAPES, assert_matches, tensor
from tests.losses._regression import (
    REDUCTIONS,
    dtype_id,
    floats,
    hard_pair,
    nonfinite_pair,
    pair,
    torch_value_and_grad,
)

mse_torch = torch.nn.functional.mse_loss


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_value_and_gradient_match_torch(shape, dtype, reduction):
    """Values and gradients agree with torch for every shape, precision and reduction."""
    x, y = pair(shape, dtype)
    value, grad = torch_value_and_grad(mse_torch, x, y, reduction)
    assert_matches(mse_loss(x, y, reduction), value)
    assert_matches(mse_loss_grad(x, y, reduction), grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype, reduction):
    """Residuals from 0 to 2e4 (squares up to 4e8) and signed zeros agree with torch."""
    x, y = hard_pair(dtype)
    value, grad = torch_value_and_grad(mse_torch, x, y, reduction)
    assert_matches(mse_loss(x, y, reduction), value)
    assert_matches(mse_loss_grad(x, y, reduction), grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nan_and_inf_propagate_like_torch(dtype, reduction):
    """NaN and infinite residuals give torch's values and gradients (NaN, inf), dtype kept."""
    x, y = nonfinite_pair(dtype)
    value, grad = torch_value_and_grad(mse_torch, x, y, reduction)
    assert np.isnan(grad.numpy()[0])  # the NaN reaches the gradient, in torch and here
    with np.errstate(invalid="ignore"):  # numpy warns when inf - inf makes a NaN
        assert_matches(mse_loss(x, y, reduction), value)
        assert_matches(mse_loss_grad(x, y, reduction), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_zero_d_inputs(dtype):
    """0-d arrays (np.array(5.)) give 0-d results of the input dtype, equal to torch's."""
    x, y = np.array(5.0, dtype=dtype), np.array(2.0, dtype=dtype)
    for reduction in ("mean", "sum", "none"):
        value, grad = torch_value_and_grad(mse_torch, x, y, reduction)
        assert_matches(mse_loss(x, y, reduction), value, rtol=0, atol=0)
        assert_matches(mse_loss_grad(x, y, reduction), grad, rtol=0, atol=0)
    assert mse_loss(x, y) == 9.0


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_mean_of_empty_batch_is_nan_like_torch(dtype):
    """An empty batch: mean is NaN, sum is 0, the gradient is empty, as in torch."""
    x = np.zeros(0, dtype=dtype)
    assert np.isnan(mse_loss(x, x))
    assert torch.isnan(mse_torch(tensor(x), tensor(x)))
    assert mse_loss(x, x, "sum") == 0
    assert mse_loss_grad(x, x).shape == (0,)


def test_empty_batch_nan_is_in_the_value_only():
    """In torch, a NaN mean over an empty batch gives the weights a zero gradient, not NaN."""
    model = torch.nn.Linear(3, 1)
    loss = mse_torch(model(torch.zeros(0, 3)), torch.zeros(0, 1))
    loss.backward()
    assert torch.isnan(loss)
    assert torch.equal(model.weight.grad, torch.zeros(1, 3))
    assert torch.equal(model.bias.grad, torch.zeros(1))


def test_shape_mismatch_raises_where_torch_broadcasts_with_a_warning():
    """(N, 1) against (N,) is an error here; torch warns and broadcasts to (N, N)."""
    x, y = np.zeros((3, 1)), np.zeros(3)
    with pytest.raises(ValueError, match="shape"):
        mse_loss(x, y)
    with pytest.warns(UserWarning, match="different to the input size"):
        out = mse_torch(tensor(x), tensor(y), reduction="none")
    assert out.shape == (3, 3)


def test_unknown_reduction_raises():
    """An unknown reduction is an error, in torch and here."""
    x = np.zeros(2)
    with pytest.raises(ValueError, match="reduction"):
        mse_loss(x, x, "avg")
    with pytest.raises(ValueError, match="reduction"):
        mse_loss_grad(x, x, "avg")


finite = floats(1e3)


@settings(deadline=None, max_examples=60)
@given(arrays(np.float64, st.integers(1, 30), elements=finite), st.data())
def test_sum_is_n_times_mean(x, data):
    """The loss ("sum") is n times the empirical loss ("mean"); so are their gradients."""
    y = data.draw(arrays(np.float64, x.shape, elements=finite))
    n = x.size
    np.testing.assert_allclose(mse_loss(x, y, "sum"), n * mse_loss(x, y), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(mse_loss_grad(x, y, "sum"), n * mse_loss_grad(x, y), rtol=1e-12)


moderate = floats(100)


@settings(deadline=None, max_examples=60)
@given(arrays(np.float64, st.integers(1, 30), elements=moderate), st.data())
def test_gradient_matches_finite_difference(x, data):
    """The hand-written gradient matches a central difference (exact for a quadratic)."""
    y = data.draw(arrays(np.float64, x.shape, elements=moderate))
    i = data.draw(st.integers(0, x.size - 1))
    h = 1e-3
    e = np.zeros_like(x)
    e[i] = h
    numeric = (mse_loss(x + e, y, "sum") - mse_loss(x - e, y, "sum")) / (2 * h)
    # a central difference of a quadratic is exact but for rounding: sums up to 4e4 * 30
    # carry ~1e-9 of rounding; divided by 2h = 2e-3 that is ~5e-7 at worst
    np.testing.assert_allclose(mse_loss_grad(x, y, "sum")[i], numeric, rtol=0, atol=1e-6)
