"""Leaky ReLU and its derivative match torch.nn.functional.leaky_relu and its autograd gradient."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.activations.leaky_relu import leaky_relu, leaky_relu_grad
from snippets.activations.relu import relu
from tests.helpers import (
    DTYPES,
    HARD_VALUES,
    SHAPES,
    assert_matches,
    dtype_id,
    random_input,
    torch_elementwise,
)

SLOPES = [pytest.param(s, id=f"slope-{s}") for s in (0.0, 0.01, 0.2, 3.0)]


@pytest.mark.parametrize("slope", SLOPES)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_value_and_gradient_match_torch(shape, dtype, slope):
    """Values and d(sum)/dx agree with torch for every shape, precision and slope."""
    x = random_input(shape, dtype)
    y, grad = torch_elementwise(torch.nn.functional.leaky_relu, x, negative_slope=slope)
    assert_matches(leaky_relu(x, slope), y)
    assert_matches(leaky_relu_grad(x, slope), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_default_slope_is_torchs(dtype):
    """Called without a slope, both use 0.01."""
    x = random_input((50,), dtype)
    y, grad = torch_elementwise(torch.nn.functional.leaky_relu, x)
    assert_matches(leaky_relu(x), y, rtol=0, atol=0)
    assert_matches(leaky_relu_grad(x), grad, rtol=0, atol=0)


@pytest.mark.parametrize("slope", SLOPES)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype, slope):
    """Magnitudes up to 1e4 and signed zeros: exact agreement, including slope a at x = 0."""
    x = HARD_VALUES.astype(dtype)
    y, grad = torch_elementwise(torch.nn.functional.leaky_relu, x, negative_slope=slope)
    assert_matches(leaky_relu(x, slope), y, rtol=0, atol=0)
    assert_matches(leaky_relu_grad(x, slope), grad, rtol=0, atol=0)


def test_nan_like_torch():
    """NaN in gives NaN out and the slope as derivative, exactly as torch does."""
    x = np.array([np.nan, -1.0, 1.0])
    y, grad = torch_elementwise(torch.nn.functional.leaky_relu, x)
    assert np.isnan(leaky_relu(x)[0])
    assert torch.isnan(y[0])
    assert_matches(leaky_relu_grad(x), grad, rtol=0, atol=0)


@given(hnp.arrays(np.float64, st.integers(0, 30), elements=st.floats(-1e4, 1e4)))
def test_zero_slope_is_relu(x):
    """With negative_slope = 0, leaky ReLU is ReLU."""
    np.testing.assert_array_equal(leaky_relu(x, 0.0), relu(x))


@given(
    hnp.arrays(np.float64, st.integers(0, 30), elements=st.floats(-1e4, 1e4)),
    st.floats(0.0, 1.0),
)
def test_is_max_of_x_and_slope_times_x(x, slope):
    """For 0 <= a <= 1, leaky ReLU equals max(x, a x)."""
    np.testing.assert_array_equal(leaky_relu(x, slope), np.maximum(x, slope * x))
