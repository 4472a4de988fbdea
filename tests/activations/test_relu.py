"""ReLU and its derivative match torch.relu and its autograd gradient."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.activations.relu import relu, relu_grad
from tests.helpers import (
    DTYPES,
    HARD_VALUES,
    SHAPES,
    assert_matches,
    dtype_id,
    random_input,
    torch_elementwise,
)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_value_and_gradient_match_torch(shape, dtype):
    """Values and d(sum)/dx agree with torch for every shape and both precisions."""
    x = random_input(shape, dtype)
    y, grad = torch_elementwise(torch.relu, x)
    assert_matches(relu(x), y)
    assert_matches(relu_grad(x), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype):
    """Huge magnitudes and signed zeros: exact agreement, including the derivative 0 at x = 0."""
    x = np.concatenate([HARD_VALUES, [-np.inf, np.inf]]).astype(dtype)
    y, grad = torch_elementwise(torch.relu, x)
    assert_matches(relu(x), y, rtol=0, atol=0)
    assert_matches(relu_grad(x), grad, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_signed_zero_like_torch(dtype):
    """relu(-0.0) is -0.0 and relu(0.0) is 0.0, bit for bit as torch.relu returns them."""
    x = np.array([-0.0, 0.0], dtype=dtype)
    y, _ = torch_elementwise(torch.relu, x)
    np.testing.assert_array_equal(np.signbit(relu(x)), np.signbit(y.detach().numpy()))
    assert np.signbit(relu(x)[0])  # the case np.maximum(x, 0) gets wrong


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nan_like_torch(dtype):
    """A NaN input gives NaN and the derivative 1, as in torch (zero only where output <= 0)."""
    x = np.array([np.nan, -1.0, 0.0, 1.0], dtype=dtype)
    y, grad = torch_elementwise(torch.relu, x)
    np.testing.assert_array_equal(np.isnan(relu(x)), torch.isnan(y).numpy())
    assert np.isnan(relu(x)[0])
    assert grad[0].item() == 1.0
    assert_matches(relu_grad(x), grad, rtol=0, atol=0)


@given(hnp.arrays(np.float64, st.integers(0, 30), elements=st.floats(-1e4, 1e4)))
def test_positive_minus_negative_part_is_identity(x):
    """Identity: relu(x) - relu(-x) = x, and relu(x) = max(0, x) up to the sign of zero."""
    np.testing.assert_array_equal(relu(x) - relu(-x), x)
    np.testing.assert_array_equal(relu(x), np.maximum(x, 0))
