"""tanh and its derivative match torch.tanh and its autograd gradient."""

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.activations.sigmoid import sigmoid, sigmoid_grad
from snippets.activations.tanh import tanh, tanh_grad
from tests.helpers import (
    DTYPES,
    HARD_VALUES,
    SHAPES,
    assert_matches,
    dtype_id,
    random_input,
    tensor,
    torch_elementwise,
)

SCALES = [pytest.param(s, id=f"scale-{s:g}") for s in (3.0, 30.0)]
ARRAYS = hnp.arrays(np.float64, st.integers(0, 30), elements=st.floats(-1e4, 1e4))


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_value_and_gradient_match_torch(shape, dtype, scale):
    """Values and d(sum)/dx agree with torch for every shape, both precisions, two spreads."""
    x = random_input(shape, dtype, scale=scale)
    y, grad = torch_elementwise(torch.tanh, x)
    assert_matches(tanh(x), y)
    assert_matches(tanh_grad(x), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype):
    """+-1e4, +-inf, signed zeros and 1e-8: torch's values, no overflow, relative accuracy."""
    x = np.concatenate([HARD_VALUES, [-np.inf, np.inf]]).astype(dtype)
    y, grad = torch_elementwise(torch.tanh, x)
    assert_matches(tanh(x), y)
    assert_matches(tanh_grad(x), grad)
    tiny = np.array([1e-8, -1e-30], dtype=dtype)  # tanh(x) = x to machine precision
    assert_matches(tanh(tiny), torch.tanh(tensor(tiny)), atol=0)


def test_signed_zero_is_kept():
    """tanh(-0.0) is -0.0, as in torch (the function is odd)."""
    assert np.signbit(tanh(np.array(-0.0)))
    assert torch.signbit(torch.tanh(torch.tensor(-0.0, dtype=torch.float64)))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nan_exactly_where_torch_has_nan(dtype):
    """NaN in gives NaN out, in value and derivative, and nowhere else."""
    x = np.array([np.nan, -1e4, 0.0, 1e4], dtype=dtype)
    y, grad = torch_elementwise(torch.tanh, x)
    np.testing.assert_array_equal(np.isnan(tanh(x)), torch.isnan(y).numpy())
    np.testing.assert_array_equal(np.isnan(tanh_grad(x)), torch.isnan(grad).numpy())


@given(ARRAYS)
def test_odd(x):
    """tanh(-x) = -tanh(x), exactly."""
    np.testing.assert_array_equal(tanh(-x), -tanh(x))


@given(ARRAYS)
def test_rescaled_sigmoid(x):
    """tanh(x) = 2 sigmoid(2x) - 1, and tanh'(x) = 4 sigmoid'(2x)."""
    # 2 sigmoid(2x) - 1 cancels near x = 0, so only an absolute bound (a few ULPs of 1) holds
    np.testing.assert_allclose(tanh(x), 2 * sigmoid(2 * x) - 1, rtol=0, atol=1e-15)
    np.testing.assert_allclose(tanh_grad(x), 4 * sigmoid_grad(2 * x), rtol=1e-14, atol=0)


@given(ARRAYS)
def test_derivative_is_one_minus_square(x):
    """tanh'(x) = 1 - tanh(x)^2, at most 1."""
    np.testing.assert_allclose(tanh_grad(x), 1 - tanh(x) ** 2, rtol=0, atol=1e-15)
    # near 0, 4e / (1 + e)^2 can round one ULP above 1 (e.g. at x = 1e-9): allow two ULPs
    assert np.all(tanh_grad(x) <= 1 + 2 * np.spacing(1.0))
    assert tanh_grad(np.float64(0.0)) == 1


def test_derivative_keeps_relative_accuracy_in_the_tails():
    """tanh'(x) = 4u / (1 + u)^2 is within 4 ULPs of a 50-digit reference out to |x| = 300."""
    mpmath.mp.dps = 50
    x = np.array([-300.0, -30.0, -10.0, -1.0, 1e-9, 0.5, 5.0, 19.5, 30.0, 300.0])
    exact = np.array([float(1 / mpmath.cosh(v) ** 2) for v in x])
    np.testing.assert_allclose(tanh_grad(x), exact, rtol=4 * np.finfo(np.float64).eps, atol=0)


@pytest.mark.parametrize(("dtype", "x"), [
    pytest.param(np.float32, 9.5, id="float32-9.5"),
    pytest.param(np.float64, 19.5, id="float64-19.5"),
])
def test_torch_rounds_to_one_and_its_derivative_to_zero(dtype, x):
    """The pitfall: beyond |x| ~ 9 (float32) or 19 (float64) torch's tanh is exactly 1 and
    its 1 - y^2 exactly 0; ours stays positive."""
    y, grad = torch_elementwise(torch.tanh, np.array([x], dtype=dtype))
    assert y.item() == 1.0
    assert grad.item() == 0.0
    assert tanh(np.array([x], dtype=dtype))[0] == 1.0
    assert tanh_grad(np.array([x], dtype=dtype))[0] > 0
