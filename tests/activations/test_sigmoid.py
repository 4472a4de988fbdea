"""The sigmoid and its derivative match torch.sigmoid and its autograd gradient."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.activations.sigmoid import sigmoid, sigmoid_grad
from tests.helpers import (
    DTYPES,
    HARD_VALUES,
    SHAPES,
    assert_matches,
    dtype_id,
    random_input,
    torch_elementwise,
)

SCALES = [pytest.param(s, id=f"scale-{s:g}") for s in (3.0, 30.0)]
FLOATS = st.floats(-1e4, 1e4)
ARRAYS = hnp.arrays(np.float64, st.integers(0, 30), elements=FLOATS)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_value_and_gradient_match_torch(shape, dtype, scale):
    """Values and d(sum)/dx agree with torch for every shape, both precisions, two spreads."""
    x = random_input(shape, dtype, scale=scale)
    y, grad = torch_elementwise(torch.sigmoid, x)
    assert_matches(sigmoid(x), y)
    assert_matches(sigmoid_grad(x), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs_without_overflow(dtype):
    """Inputs of +-1e4 and +-inf: no overflow warning (warnings are errors), torch's values."""
    x = np.concatenate([HARD_VALUES, [-np.inf, np.inf]]).astype(dtype)
    y, grad = torch_elementwise(torch.sigmoid, x)
    assert_matches(sigmoid(x), y)
    assert_matches(sigmoid_grad(x), grad)
    assert sigmoid(x)[0] == 0
    assert sigmoid(x)[-1] == 1


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nan_exactly_where_torch_has_nan(dtype):
    """NaN in gives NaN out, in value and derivative, and nowhere else."""
    x = np.array([np.nan, -1e4, 0.0, 1e4], dtype=dtype)
    y, grad = torch_elementwise(torch.sigmoid, x)
    np.testing.assert_array_equal(np.isnan(sigmoid(x)), torch.isnan(y).numpy())
    np.testing.assert_array_equal(np.isnan(sigmoid_grad(x)), torch.isnan(grad).numpy())


@given(ARRAYS)
def test_symmetry(x):
    """sigmoid(-x) = 1 - sigmoid(x)."""
    np.testing.assert_allclose(sigmoid(-x), 1 - sigmoid(x), rtol=0, atol=1e-15)


@given(ARRAYS)
def test_derivative_is_product_and_at_most_a_quarter(x):
    """sigmoid'(x) = sigmoid(x) sigmoid(-x), and it never exceeds its value 1/4 at 0."""
    np.testing.assert_allclose(sigmoid_grad(x), sigmoid(x) * sigmoid(-x), rtol=1e-12)
    # near 0, z / (1 + z)^2 can round one ULP above 1/4 (e.g. at x = 1e-9): allow two ULPs
    assert np.all(sigmoid_grad(x) <= 0.25 + 2 * np.spacing(0.25))
    assert sigmoid_grad(np.float64(0.0)) == 0.25


@given(FLOATS)
def test_values_stay_in_unit_interval_and_increase(x):
    """0 <= sigmoid(x) <= 1, and a larger input never gives a smaller output."""
    pair = sigmoid(np.array([x, x + 1.0]))
    assert 0 <= pair[0] <= pair[1] <= 1
