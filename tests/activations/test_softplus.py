"""Softplus (beta, threshold) and its derivative match torch.nn.functional.softplus."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.activations.relu import relu
from snippets.activations.sigmoid import sigmoid
from snippets.activations.softplus import softplus, softplus_grad
from tests.helpers import (
    DTYPES,
    HARD_VALUES,
    SHAPES,
    assert_matches,
    dtype_id,
    random_input,
    torch_elementwise,
)

# every documented range: beta positive (small and large) or negative; threshold any real
GRID = [
    pytest.param(beta, threshold, id=f"beta-{beta:g}-threshold-{threshold:g}")
    for beta in (0.01, 0.5, 1.0, 2.0, 10.0, 100.0, -1.0, -3.0)
    for threshold in (-1.0, 0.0, 1.0, 20.0)
]
ARRAYS = hnp.arrays(np.float64, st.integers(0, 30), elements=st.floats(-1e4, 1e4))
EPS = np.finfo(np.float64).eps


@pytest.mark.parametrize(("beta", "threshold"), GRID)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_value_and_gradient_match_torch(shape, dtype, beta, threshold):
    """Values and d(sum)/dx agree with torch over shapes, precisions and the beta/threshold grid."""
    x = random_input(shape, dtype, scale=10.0)
    y, grad = torch_elementwise(torch.nn.functional.softplus, x, beta=beta, threshold=threshold)
    assert_matches(softplus(x, beta, threshold), y)
    assert_matches(softplus_grad(x, beta, threshold), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_defaults_are_torchs(dtype):
    """Called without beta and threshold, both use beta = 1 and threshold = 20."""
    x = np.linspace(-30, 30, 241).astype(dtype)  # crosses the threshold at x = 20
    y, grad = torch_elementwise(torch.nn.functional.softplus, x)
    assert_matches(softplus(x), y)
    assert_matches(softplus_grad(x), grad)


@pytest.mark.parametrize(("beta", "threshold"), GRID)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype, beta, threshold):
    """Inputs of +-1e4, +-inf and signed zeros: torch's values and derivatives, no overflow."""
    x = np.concatenate([HARD_VALUES, [-np.inf, np.inf]]).astype(dtype)
    y, grad = torch_elementwise(torch.nn.functional.softplus, x, beta=beta, threshold=threshold)
    assert_matches(softplus(x, beta, threshold), y)
    assert_matches(softplus_grad(x, beta, threshold), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_huge_threshold_where_torch_overflows(dtype):
    """With a threshold torch's formula cannot reach, ours stays finite: x and derivative 1.

    torch evaluates log1p(exp(beta x)), which is inf (and its derivative NaN) once exp
    overflows; where torch is finite the two agree.
    """
    x = HARD_VALUES.astype(dtype)
    y, grad = torch_elementwise(torch.nn.functional.softplus, x, threshold=1e6)
    ours, ours_grad = softplus(x, threshold=1e6), softplus_grad(x, threshold=1e6)
    finite = torch.isfinite(y).numpy() & torch.isfinite(grad).numpy()
    assert not finite.all(), "the test needs inputs where torch overflows"
    assert torch.isnan(grad[~torch.isfinite(y)]).all()  # the page: inf value, NaN derivative
    assert_matches(ours[finite], y[finite])
    assert_matches(ours_grad[finite], grad[finite])
    assert_matches(ours[~finite], x[~finite])
    assert_matches(ours_grad[~finite], np.ones_like(x[~finite]))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nan_exactly_where_torch_has_nan(dtype):
    """NaN in gives NaN out, in value and derivative, and nowhere else."""
    x = np.array([np.nan, -1e4, 0.0, 1e4], dtype=dtype)
    y, grad = torch_elementwise(torch.nn.functional.softplus, x)
    np.testing.assert_array_equal(np.isnan(softplus(x)), torch.isnan(y).numpy())
    np.testing.assert_array_equal(np.isnan(softplus_grad(x)), torch.isnan(grad).numpy())


@given(ARRAYS, st.floats(1e-2, 1e4))
def test_tends_to_relu_as_beta_grows(x, beta):
    """0 <= softplus(x; beta) - ReLU(x) <= log(2) / beta, so softplus -> ReLU as beta grows."""
    gap = softplus(x, beta) - relu(x)
    # x * beta / beta is x only up to two roundings, so allow a few ULPs of |x| either side
    slack = 4 * EPS * np.abs(x)
    assert np.all(gap >= -slack)
    assert np.all(gap <= np.log(2) / beta * (1 + 4 * EPS) + slack)


@given(st.floats(1e-2, 1e4))
def test_largest_gap_is_at_zero(beta):
    """The bound log(2) / beta is reached at x = 0: softplus(0; beta) = log(2) / beta."""
    np.testing.assert_allclose(softplus(np.float64(0.0), beta), np.log(2) / beta, rtol=1e-15)


@given(ARRAYS, st.floats(1e-2, 1e2))
def test_derivative_is_sigmoid_of_beta_x(x, beta):
    """Below the threshold, softplus'(x) = sigmoid(beta x); above it, 1."""
    z = x * beta
    expected = np.where(z > 20, 1.0, sigmoid(z))
    np.testing.assert_array_equal(softplus_grad(x, beta), expected)


@pytest.mark.parametrize("threshold", [0.0, 20.0, -1.0], ids=lambda t: f"threshold-{t:g}")
def test_beta_zero_is_refused_where_torch_returns_infinity_or_x(threshold):
    """beta = 0 raises a ValueError; torch returns +inf with derivative 1/2 at finite inputs
    when threshold >= 0 (beta x = 0 never exceeds it), and x with derivative 1 when < 0."""
    x = np.array([-1e4, -1.0, -0.0, 0.0, 1.0, 1e4])
    y, grad = torch_elementwise(torch.nn.functional.softplus, x, beta=0.0, threshold=threshold)
    if threshold >= 0:
        assert (y == np.inf).all()
        assert (grad == 0.5).all()
    else:
        assert_matches(x, y)  # torch returns the input itself
        assert (grad == 1.0).all()
    with pytest.raises(ValueError, match="beta"):
        softplus(x, beta=0.0, threshold=threshold)
    with pytest.raises(ValueError, match="beta"):
        softplus_grad(x, beta=0.0, threshold=threshold)


@given(ARRAYS, st.floats(1e-2, 1e2))
def test_negative_beta_is_a_smooth_min(x, beta):
    """Identity: softplus(x; -beta) = -softplus(-x; beta) (no threshold), a smooth min(0, x)."""
    big = np.inf  # no linear part on either side
    np.testing.assert_allclose(softplus(x, -beta, big), -softplus(-x, beta, big),
                               rtol=4 * EPS, atol=0)
    assert np.all(softplus(x, -beta, big) <= np.minimum(x, 0) * (1 - 4 * EPS))


@pytest.mark.parametrize("beta", [np.float64(2.0), np.float32(2.0), 2])
def test_float32_stays_float32_whatever_the_beta_type(beta):
    """A float64 (or int) beta does not promote a float32 input; torch keeps float32 too."""
    x = random_input((7,), np.float32, scale=10.0)
    y, grad = torch_elementwise(torch.nn.functional.softplus, x, beta=float(beta))
    assert_matches(softplus(x, beta), y)
    assert_matches(softplus_grad(x, beta), grad)


@pytest.mark.parametrize(("dtype", "last_positive", "first_zero"), [
    pytest.param(np.float32, -103.0, -105.0, id="float32"),
    pytest.param(np.float64, -744.0, -746.0, id="float64"),
])
def test_underflows_to_exactly_zero_far_out(dtype, last_positive, first_zero):
    """The pitfall: beta x below about -104 (float32) or -745 (float64) gives exactly 0."""
    x = np.array([last_positive, first_zero], dtype=dtype)
    y, _ = torch_elementwise(torch.nn.functional.softplus, x)
    assert softplus(x)[0] > 0
    assert softplus(x)[1] == 0
    assert_matches(softplus(x), y)
