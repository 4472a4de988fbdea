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

# every documented range: 0 (ReLU), small, the GAN value, 1 (identity), above 1, negative
SLOPES = [pytest.param(s, id=f"slope-{s}") for s in (0.0, 0.01, 0.2, 1.0, 3.0, -0.5, -1.0)]
ARRAYS = hnp.arrays(np.float64, st.integers(0, 30), elements=st.floats(-1e4, 1e4))
F = torch.nn.functional


@pytest.mark.parametrize("slope", SLOPES)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_value_and_gradient_match_torch(shape, dtype, slope):
    """Values and d(sum)/dx agree with torch for every shape, precision and slope."""
    x = random_input(shape, dtype)
    y, grad = torch_elementwise(F.leaky_relu, x, negative_slope=slope)
    assert_matches(leaky_relu(x, slope), y)
    assert_matches(leaky_relu_grad(x, slope), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_default_slope_is_torchs(dtype):
    """Called without a slope, both use 0.01."""
    x = random_input((50,), dtype)
    y, grad = torch_elementwise(F.leaky_relu, x)
    assert_matches(leaky_relu(x), y, rtol=0, atol=0)
    assert_matches(leaky_relu_grad(x), grad, rtol=0, atol=0)


@pytest.mark.parametrize("slope", SLOPES)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype, slope):
    """Magnitudes up to 1e4, +-inf and signed zeros: exact agreement, slope a at x = 0."""
    x = np.concatenate([HARD_VALUES, [-np.inf, np.inf]]).astype(dtype)
    y, grad = torch_elementwise(F.leaky_relu, x, negative_slope=slope)
    with np.errstate(invalid="ignore"):  # 0 * -inf = NaN for slope 0, as in torch
        ours = leaky_relu(x, slope)
    assert_matches(ours, y, rtol=0, atol=0, equal_nan=True)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(y.detach().numpy()))
    assert_matches(leaky_relu_grad(x, slope), grad, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nan_like_torch(dtype):
    """NaN in gives NaN out and the slope as derivative, exactly as torch does."""
    x = np.array([np.nan, -1.0, 1.0], dtype=dtype)
    y, grad = torch_elementwise(F.leaky_relu, x, negative_slope=0.2)
    assert np.isnan(leaky_relu(x, 0.2)[0])
    assert torch.isnan(y[0])
    assert_matches(leaky_relu_grad(x, 0.2), grad, rtol=0, atol=0)


def test_float32_stays_float32_whatever_the_slope_type():
    """A float64 NumPy slope does not promote a float32 input (torch keeps float32 too)."""
    x = random_input((5,), np.float32)
    y, grad = torch_elementwise(F.leaky_relu, x, negative_slope=0.2)
    assert_matches(leaky_relu(x, np.float64(0.2)), y)
    assert_matches(leaky_relu_grad(x, np.float64(0.2)), grad)


def test_in_place_with_negative_slope_cannot_be_differentiated_in_torch():
    """The pitfall on the page: torch refuses the backward of an in-place negative slope."""
    x = torch.tensor([-2.0, 0.0, 2.0], requires_grad=True)
    y = F.leaky_relu(x.clone(), -0.5, inplace=True)
    with pytest.raises(RuntimeError, match="negative slope"):
        y.sum().backward()


@given(ARRAYS)
def test_zero_slope_is_relu(x):
    """With negative_slope = 0, leaky ReLU is ReLU on finite inputs."""
    np.testing.assert_array_equal(leaky_relu(x, 0.0), relu(x))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_zero_slope_at_minus_infinity_is_nan_like_torch(dtype):
    """The page's exception: with a = 0, -inf gives 0 * -inf = NaN (torch too), not ReLU's 0."""
    x = np.array([-np.inf], dtype=dtype)
    y, _ = torch_elementwise(F.leaky_relu, x, negative_slope=0.0)
    assert torch.isnan(y).all()
    with np.errstate(invalid="ignore"):  # 0 * -inf
        assert np.isnan(leaky_relu(x, 0.0)).all()
    assert relu(x)[0] == 0


@given(ARRAYS)
def test_slope_one_is_identity_and_minus_one_is_abs(x):
    """With a = 1 leaky ReLU is the identity; with a = -1 it is the absolute value."""
    np.testing.assert_array_equal(leaky_relu(x, 1.0), x)
    np.testing.assert_array_equal(leaky_relu(x, -1.0), np.abs(x))


@given(ARRAYS, st.floats(0.0, 1.0))
def test_is_max_of_x_and_slope_times_x(x, slope):
    """For 0 <= a <= 1, leaky ReLU equals max(x, a x)."""
    np.testing.assert_array_equal(leaky_relu(x, slope), np.maximum(x, slope * x))
