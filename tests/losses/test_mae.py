"""MAE (L1 loss) and its gradient match torch.nn.functional.l1_loss and its autograd gradient."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from snippets.losses.mae import l1_loss, l1_loss_grad
from snippets.losses.mse import mse_loss
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

l1_torch = torch.nn.functional.l1_loss


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_value_and_gradient_match_torch(shape, dtype, reduction):
    """Values and gradients agree with torch for every shape, precision and reduction."""
    x, y = pair(shape, dtype)
    value, grad = torch_value_and_grad(l1_torch, x, y, reduction)
    assert_matches(l1_loss(x, y, reduction), value)
    assert_matches(l1_loss_grad(x, y, reduction), grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype, reduction):
    """Residuals from 0 to 2e4 and signed zeros agree with torch."""
    x, y = hard_pair(dtype)
    value, grad = torch_value_and_grad(l1_torch, x, y, reduction)
    assert_matches(l1_loss(x, y, reduction), value)
    assert_matches(l1_loss_grad(x, y, reduction), grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_gradient_at_zero_residual_is_zero_like_torch(dtype, reduction):
    """Where prediction equals target, torch's gradient is sign(0) = 0 (for +0 and -0); ours too."""
    x = np.array([0.0, -0.0, 2.5, -1.0, 1.0], dtype=dtype)
    y = np.array([0.0, 0.0, 2.5, 0.0, 0.0], dtype=dtype)
    _, grad = torch_value_and_grad(l1_torch, x, y, reduction)
    ours = l1_loss_grad(x, y, reduction)
    assert_matches(ours, grad, rtol=0, atol=0)
    assert np.all(ours[:3] == 0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nan_residual_has_gradient_zero_like_torch(dtype, reduction):
    """A NaN residual: NaN loss, but gradient 0 there (torch's backward); infinities give ±1."""
    x, y = nonfinite_pair(dtype)
    value, grad = torch_value_and_grad(l1_torch, x, y, reduction)
    assert grad.numpy()[0] == grad.numpy()[1] == 0  # torch: 0 at NaN, not NaN
    with np.errstate(invalid="ignore"):  # numpy warns when inf - inf makes a NaN
        ours = l1_loss_grad(x, y, reduction)
        assert_matches(l1_loss(x, y, reduction), value)
    assert_matches(ours, grad, rtol=0, atol=0)
    assert not np.isnan(ours).any()


def test_nan_target_leaves_the_weights_finite_in_torch():
    """The pitfall: a NaN target makes l1_loss NaN but the weight gradient finite (MSE: NaN)."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1).double()
    x = torch.randn(4, 3, dtype=torch.float64)
    y = torch.tensor([[1.0], [np.nan], [0.0], [2.0]], dtype=torch.float64)
    loss = l1_torch(model(x), y)
    loss.backward()
    assert torch.isnan(loss)
    assert torch.isfinite(model.weight.grad).all()
    model.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()
    assert torch.isnan(model.weight.grad).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_zero_d_inputs(dtype):
    """0-d arrays (np.array(5.)) give 0-d results of the input dtype, equal to torch's."""
    x, y = np.array(5.0, dtype=dtype), np.array(2.0, dtype=dtype)
    for reduction in ("mean", "sum", "none"):
        value, grad = torch_value_and_grad(l1_torch, x, y, reduction)
        assert_matches(l1_loss(x, y, reduction), value, rtol=0, atol=0)
        assert_matches(l1_loss_grad(x, y, reduction), grad, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_mean_of_empty_batch_is_nan_like_torch(dtype):
    """An empty batch: mean is NaN, sum is 0, the gradient is empty, as in torch."""
    x = np.zeros(0, dtype=dtype)
    assert np.isnan(l1_loss(x, x))
    assert torch.isnan(l1_torch(tensor(x), tensor(x)))
    assert l1_loss(x, x, "sum") == 0
    assert l1_loss_grad(x, x).shape == (0,)


def test_shape_mismatch_and_unknown_reduction_raise():
    """Different shapes and an unknown reduction are errors."""
    with pytest.raises(ValueError, match="shape"):
        l1_loss(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="reduction"):
        l1_loss_grad(np.zeros(2), np.zeros(2), "avg")


finite = floats(1e3)


@settings(deadline=None, max_examples=60)
@given(arrays(np.float64, st.integers(1, 30), elements=finite), st.data())
def test_mae_is_at_most_root_mse(x, data):
    """MAE <= sqrt(MSE) (Jensen / Cauchy-Schwarz): one outlier moves MSE more than MAE."""
    y = data.draw(arrays(np.float64, x.shape, elements=finite))
    assert l1_loss(x, y) <= np.sqrt(mse_loss(x, y)) * (1 + 1e-12)


@settings(deadline=None, max_examples=60)
@given(arrays(np.float64, st.integers(1, 31), elements=finite))
def test_the_median_minimises_the_mae(y):
    """A constant prediction minimises the MAE at the median of the targets."""
    m = np.full_like(y, np.median(y))
    best = l1_loss(m, y)
    for shift in (-1e-3, 1e-3, -1.0, 1.0):
        assert best <= l1_loss(m + shift, y) * (1 + 1e-12)
