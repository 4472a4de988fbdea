"""Softmax and log-softmax (values and vector-Jacobian products) match torch along every dim."""

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
    for shape in [(7,), (4, 5), (2, 3, 4), (0,), (3, 0), (0, 4)]
    for dim in range(-len(shape), len(shape))
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
