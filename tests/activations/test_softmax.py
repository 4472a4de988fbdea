"""Softmax and log-softmax (values and vector-Jacobian products) match torch along every dim."""

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from snippets.activations.softmax import log_softmax, log_softmax_grad, softmax, softmax_grad
from tests.helpers import DTYPES, assert_matches, dtype_id, random_input, tensor

FUNCTIONS = [
    pytest.param(softmax, softmax_grad, torch.softmax, id="softmax"),
    pytest.param(log_softmax, log_softmax_grad, torch.log_softmax, id="log_softmax"),
]
# every (shape, dim) pair, negative dims included; empty shapes where torch accepts them
SHAPE_DIMS = [
    pytest.param(shape, dim, id=f"{shape}-dim{dim}")
    for shape in [(), (1,), (7,), (4, 5), (2, 3, 4), (0,), (3, 0), (0, 4)]
    for dim in range(-max(len(shape), 1), max(len(shape), 1))  # a 0-d tensor: dim 0 or -1
]


def torch_value_and_vjp(reference, x, g, dim):
    """torch's value and the gradient of <g, f(x)> with respect to x."""
    xt = tensor(x, grad=True)
    y = reference(xt, dim)
    y.backward(tensor(g))
    return y, xt.grad


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("shape", "dim"), SHAPE_DIMS)
@pytest.mark.parametrize(("ours", "ours_grad", "reference"), FUNCTIONS)
def test_value_and_vjp_match_torch(ours, ours_grad, reference, shape, dim, dtype):
    """Values and the backward pass with a random upstream gradient agree with torch."""
    x = random_input(shape, dtype)
    g = random_input(shape, dtype, seed=1)
    y, grad = torch_value_and_vjp(reference, x, g, dim)
    assert_matches(ours(x, dim), y)
    assert_matches(ours_grad(x, g, dim), grad)


HARD_ROWS = np.array([
    [1e4, -1e4, 0.0, 1.0],
    [-1e4, -1e4, -1e4, -1e4 + 1],
    [1e4, 1e4, 1e4, 1e4],
    [0.0, -np.inf, 1.0, -np.inf],
    [-np.inf, -np.inf, 5.0, -np.inf],
    [-800.0, 0.0, -1e4, 3.0],
])


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("ours", "ours_grad", "reference"), FUNCTIONS)
def test_hard_inputs(ours, ours_grad, reference, dtype):
    """Logits of +-1e4 and -inf entries (rows with a finite entry): no NaN, equal to torch."""
    x = HARD_ROWS.astype(dtype)
    g = random_input(x.shape, dtype, seed=2)
    for dim, xx, gg in [(1, x, g), (0, x.T.copy(), g.T.copy())]:  # rows, then columns
        y, grad = torch_value_and_vjp(reference, xx, gg, dim)
        value = ours(xx, dim)
        assert not np.isnan(value).any()
        assert_matches(value, y)  # -inf positions of log_softmax must match exactly
        assert_matches(ours_grad(xx, gg, dim), grad)


@pytest.mark.parametrize(("ours", "reference"), [
    pytest.param(softmax, torch.softmax, id="softmax"),
    pytest.param(log_softmax, torch.log_softmax, id="log_softmax"),
])
def test_fully_masked_row_is_nan_like_torch(ours, reference):
    """A row of only -inf has no defined softmax: NaN here and in torch, not a silent 0."""
    x = np.array([[-np.inf, -np.inf], [0.0, 1.0]])
    with np.errstate(invalid="ignore"):  # -inf - (-inf): the NaN is the expected answer
        value = ours(x, 1)
    assert np.isnan(value[0]).all()
    assert torch.isnan(reference(tensor(x), 1)[0]).all()
    assert_matches(value[1], reference(tensor(x), 1)[1])


@pytest.mark.parametrize(("dtype", "gap"), [
    pytest.param(np.float64, 800.0, id="float64-gap800"),
    pytest.param(np.float32, 120.0, id="float32-gap120"),
])
def test_log_of_softmax_underflows_where_log_softmax_does_not(dtype, gap):
    """The pitfall: log(softmax) gives -inf once exp underflows; log_softmax stays exact."""
    x = np.array([0.0, -gap], dtype=dtype)
    with np.errstate(divide="ignore"):  # log(0) is the failure being demonstrated
        two_step = np.log(softmax(x, 0))
    assert two_step[1] == -np.inf
    assert_matches(log_softmax(x, 0), torch.log_softmax(tensor(x), 0))
    assert log_softmax(x, 0)[1] == -gap


finite_rows = arrays(np.float64, (3, 5), elements=st.floats(-1e4, 1e4))


@given(finite_rows, st.floats(-1e3, 1e3))
def test_shift_invariance(x, c):
    """Identity: softmax(x + c) = softmax(x) for any constant c added along the dim."""
    np.testing.assert_allclose(softmax(x + c, 1), softmax(x, 1), rtol=0, atol=1e-12)


@given(finite_rows)
def test_probabilities_sum_to_one(x):
    """Identity: each slice of softmax is a probability vector (in [0, 1], sums to 1)."""
    for dim in (0, 1):
        y = softmax(x, dim)
        assert ((y >= 0) & (y <= 1)).all()
        np.testing.assert_allclose(y.sum(axis=dim), 1.0, rtol=0, atol=1e-12)


@given(arrays(np.float64, (3, 5), elements=st.floats(-30, 30)))
def test_log_softmax_is_log_of_softmax(x):
    """Identity: log_softmax = log(softmax) and exp(log_softmax) = softmax, where no underflow."""
    np.testing.assert_allclose(log_softmax(x, 1), np.log(softmax(x, 1)), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.exp(log_softmax(x, 1)), softmax(x, 1), rtol=1e-12, atol=0)


@given(finite_rows, arrays(np.float64, (3, 5), elements=st.floats(-10, 10)))
def test_softmax_vjp_sums_to_zero(x, g):
    """Identity: softmax's outputs always sum to 1, so its input gradient sums to 0 per slice."""
    grad = softmax_grad(x, g, 1)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dim", [1, -2])
def test_zero_d_input_refuses_other_dims_like_torch(dim):
    """A 0-d input accepts only dim 0 and -1; both libraries raise for any other dim."""
    x = np.array(3.0)
    with pytest.raises(IndexError):
        torch.softmax(tensor(x), dim)
    with pytest.raises(np.exceptions.AxisError):
        softmax(x, dim)
    with pytest.raises(np.exceptions.AxisError):
        log_softmax(x, dim)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("ours", "ours_grad", "reference"), FUNCTIONS)
def test_slices_without_a_maximum_are_nan_like_torch(ours, ours_grad, reference, dtype):
    """A slice with NaN, +inf, or only -inf gives NaN everywhere in it (value and gradient),
    exactly where torch does; the other slices are unaffected."""
    x = np.array([[np.nan, 0.0, 1.0], [np.inf, 0.0, 1.0], [np.inf, -np.inf, 0.0],
                  [-np.inf, -np.inf, -np.inf], [0.0, 1.0, 2.0]], dtype=dtype)
    g = random_input(x.shape, dtype, seed=3)
    y, grad = torch_value_and_vjp(reference, x, g, 1)
    with np.errstate(invalid="ignore"):  # inf - inf: the NaN is the expected answer
        value, ours_g = ours(x, 1), ours_grad(x, g, 1)
    np.testing.assert_array_equal(np.isnan(value), torch.isnan(y).numpy())
    np.testing.assert_array_equal(np.isnan(ours_g), torch.isnan(grad).numpy())
    assert np.isnan(value[:4]).all()
    assert_matches(value[4], y[4])
    assert_matches(ours_g[4], grad[4])


def _exact(x, g):
    """log softmax(x), the log-softmax VJP and the softmax VJP with upstream g, with 400
    digits: enough for log(1 + e^-700) to keep its own digits after the 1."""
    mpmath.mp.dps = 400
    x = [mpmath.mpf(float(v)) for v in x]
    g = [mpmath.mpf(float(v)) for v in g]
    lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in x))
    log_y = [v - lse for v in x]
    y = [mpmath.exp(v) for v in log_y]
    total = mpmath.fsum(g)
    dot = mpmath.fsum(a * b for a, b in zip(g, y, strict=True))
    log_vjp = [gk - yk * total for gk, yk in zip(g, y, strict=True)]
    vjp = [yk * (gk - dot) for gk, yk in zip(g, y, strict=True)]
    return [np.array([float(v) for v in seq]) for seq in (log_y, log_vjp, vjp)]


@pytest.mark.parametrize("gap", [5.0, 20.0, 30.0, 700.0])
def test_confident_prediction_keeps_relative_accuracy(gap):
    """With one probability near 1 and a one-hot upstream gradient (a cross-entropy), the
    log-probability and both gradients are within a few ULPs of a high-precision reference,
    also in the entries of size 1 - y that a subtraction from 1 would get wrong."""
    x = np.array([0.0, -gap, -gap - 1.0, -gap - 3.0])
    eps = np.finfo(np.float64).eps
    for target in (0, 2):
        g = -np.eye(4)[target]
        log_y, log_vjp, vjp = _exact(x, g)
        np.testing.assert_allclose(log_softmax(x, 0), log_y, rtol=4 * eps, atol=0)
        # y = e^(log y): the last-place error of log y grows by |log y| through exp
        rtol = 8 * eps * (1 + np.abs(log_y))
        assert np.all(np.abs(log_softmax_grad(x, g, 0) - log_vjp) <= rtol * np.abs(log_vjp))
        assert np.all(np.abs(softmax_grad(x, g, 0) - vjp) <= rtol * np.abs(vjp))


def test_torch_loses_relative_accuracy_where_we_keep_it():
    """The page's float32 example: torch's log y_0 and dL/dx_0 are off by more than 1e-3
    (relative), ours by less than 1e-6, against the same inputs in float64."""
    x = np.array([0.0, -12.0, -14.0], dtype=np.float32)
    g = np.array([-1.0, 0.0, 0.0], dtype=np.float32)
    y, grad = torch_value_and_vjp(torch.log_softmax, x, g, 0)
    log_y, log_vjp, _ = _exact(x, g)
    assert abs(y[0].item() / log_y[0] - 1) > 1e-3
    assert abs(grad[0].item() / log_vjp[0] - 1) > 1e-3
    assert abs(log_softmax(x, 0)[0] / log_y[0] - 1) < 1e-6
    assert abs(log_softmax_grad(x, g, 0)[0] / log_vjp[0] - 1) < 1e-6


@given(arrays(np.float64, (5,), elements=st.floats(-50, 50)),
       arrays(np.float64, (5,), elements=st.floats(-10, 10)))
def test_vjps_accurate_for_any_upstream_gradient(x, g):
    """For any g, both gradients are within rounding of the sum of g of the exact ones."""
    _, log_vjp, vjp = _exact(x, g)
    bound = 16 * np.finfo(np.float64).eps * (np.abs(g).sum() + 1e-300)
    np.testing.assert_allclose(log_softmax_grad(x, g, 0), log_vjp, rtol=0, atol=bound)
    np.testing.assert_allclose(softmax_grad(x, g, 0), vjp, rtol=0, atol=bound)
