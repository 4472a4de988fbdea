"""The sigmoid and its derivative match torch.sigmoid and its autograd gradient."""

import mpmath
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


def test_derivative_keeps_relative_accuracy_in_the_tails():
    """sigma'(x) is within 4 ULPs of a 50-digit reference out to |x| = 700 (no 1 - y)."""
    mpmath.mp.dps = 50
    x = np.array([-700.0, -100.0, -30.0, -5.0, 0.5, 5.0, 20.0, 30.0, 37.0, 100.0, 700.0])
    exact = np.array([float(mpmath.exp(v) / (1 + mpmath.exp(v)) ** 2) for v in x])
    np.testing.assert_allclose(sigmoid_grad(x), exact, rtol=4 * np.finfo(np.float64).eps, atol=0)


def test_torch_derivative_loses_relative_but_not_absolute_accuracy():
    """The page's float32 claim: torch's y (1 - y) errs by 6% at x = 16, ours by under 1e-6;
    torch's absolute error stays below 1e-7 over [-30, 30]."""
    x = np.linspace(-30, 30, 60001, dtype=np.float32)
    _, grad = torch_elementwise(torch.sigmoid, x)
    x64 = x.astype(np.float64)
    reference = np.exp(-np.abs(x64)) / (1 + np.exp(-np.abs(x64))) ** 2
    assert np.abs(grad.numpy() - reference).max() < 1e-7
    at16 = np.flatnonzero(x == 16)[0]
    assert abs(grad[at16].item() / reference[at16] - 1) > 1e-2
    assert np.abs(sigmoid_grad(x) / reference - 1).max() < 1e-6


@pytest.mark.parametrize(("dtype", "below", "above"), [(np.float32, 16.6, 16.7),
                                                      (np.float64, 36.7, 36.8)], ids=str)
def test_rounds_to_exactly_one_where_the_page_says(dtype, below, above):
    """The page's thresholds: sigma(x) < 1 at 16.6 (float32) / 36.7 (float64), == 1 just above,
    for ours and torch alike."""
    x = np.array([below, above], dtype=dtype)
    for y in (sigmoid(x), torch.sigmoid(torch.tensor(x)).numpy()):
        assert y[0] < 1
        assert y[1] == 1
