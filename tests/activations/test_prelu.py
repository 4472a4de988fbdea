"""PReLU and its input and slope gradients match torch.nn.functional.prelu and autograd."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.activations.leaky_relu import leaky_relu, leaky_relu_grad
from snippets.activations.prelu import prelu, prelu_grad
from tests.helpers import DTYPES, HARD_VALUES, assert_matches, dtype_id, random_input, tensor

# (input shape, weight shape): one shared slope, or one slope per channel (dim 1).
CASES = [
    pytest.param((), (1,), id="scalar-shared"),
    pytest.param((7,), (1,), id="vector-shared"),
    pytest.param((7,), (), id="vector-0d-weight"),
    pytest.param((0, 3), (3,), id="empty-batch-per-channel"),
    pytest.param((0,), (1,), id="empty-shared"),
    pytest.param((4, 5), (1,), id="matrix-shared"),
    pytest.param((4, 5), (5,), id="matrix-per-channel"),
    pytest.param((2, 3, 4), (3,), id="sequence-per-channel"),
    pytest.param((2, 3, 4, 5), (3,), id="image-per-channel"),
    pytest.param((2, 3, 4, 5), (), id="image-0d-weight"),
]


def torch_prelu(x, w, g):
    """torch's value and gradients w.r.t. input and weight, for upstream gradient `g`."""
    xt, wt = tensor(x, grad=True), tensor(w, grad=True)
    y = torch.nn.functional.prelu(xt, wt)
    y.backward(tensor(g))
    return y, xt.grad, wt.grad


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("shape", "weight_shape"), CASES)
def test_value_and_gradients_match_torch(shape, weight_shape, dtype):
    """Value, d/dinput and d/dweight agree with torch for every layout and both precisions."""
    x = random_input(shape, dtype)
    w = np.random.default_rng(1).uniform(-0.5, 0.5, size=weight_shape).astype(dtype)
    g = random_input(shape, dtype, seed=2, scale=1.0)
    y, grad_x, grad_w = torch_prelu(x, w, g)
    ours_x, ours_w = prelu_grad(x, w, g)
    assert_matches(prelu(x, w), y)
    assert_matches(ours_x, grad_x)
    assert_matches(ours_w, grad_w)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_default_grad_output_is_gradient_of_sum(dtype):
    """Without grad_output, prelu_grad returns the gradients of prelu(x, w).sum()."""
    x = random_input((6, 2, 3), dtype)
    w = np.array([0.25, -0.1], dtype=dtype)
    _, grad_x, grad_w = torch_prelu(x, w, np.ones_like(x))
    ours_x, ours_w = prelu_grad(x, w)
    assert_matches(ours_x, grad_x)
    assert_matches(ours_w, grad_w)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype):
    """Magnitudes up to 1e4 and signed zeros, two channels: values, both gradients agree."""
    x = HARD_VALUES.astype(dtype).reshape(7, 2)  # (N, C)
    w = np.array([0.25, 0.01], dtype=dtype)
    g = np.ones_like(x)
    y, grad_x, grad_w = torch_prelu(x, w, g)
    ours_x, ours_w = prelu_grad(x, w, g)
    assert_matches(prelu(x, w), y, rtol=0, atol=0)
    assert_matches(ours_x, grad_x, rtol=0, atol=0)
    assert_matches(ours_w, grad_w)  # a sum: the order of additions may differ from torch's


def test_nan_like_torch():
    """A NaN input gives NaN where torch does: in the value and in the slope's gradient."""
    x = np.array([[np.nan, -1.0], [2.0, -3.0]])
    w = np.array([0.25, 0.5])
    y, grad_x, grad_w = torch_prelu(x, w, np.ones_like(x))
    ours_x, ours_w = prelu_grad(x, w)
    np.testing.assert_array_equal(np.isnan(prelu(x, w)), torch.isnan(y).numpy())
    np.testing.assert_array_equal(np.isnan(ours_w), torch.isnan(grad_w).numpy())
    assert_matches(ours_x, grad_x, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("shape", "weight_shape"),
    [
        pytest.param((4, 5), (3,), id="wrong-channel-count"),
        pytest.param((7,), (7,), id="vector-has-one-channel"),
        pytest.param((4, 5), (5, 1), id="2d-weight"),
    ],
)
def test_bad_weight_shape_is_refused_like_torch(shape, weight_shape):
    """Slope counts that torch rejects raise here too, instead of broadcasting silently."""
    x, w = np.ones(shape), np.full(weight_shape, 0.25)
    with pytest.raises(RuntimeError):
        torch.nn.functional.prelu(tensor(x), tensor(w))
    with pytest.raises(ValueError, match="weight"):
        prelu(x, w)


@given(
    hnp.arrays(np.float64, st.integers(0, 30), elements=st.floats(-1e4, 1e4)),
    st.floats(-1.0, 1.0),
)
def test_one_slope_is_leaky_relu(x, slope):
    """PReLU with one shared slope a is leaky ReLU with negative_slope = a (value and d/dx)."""
    w = np.array([slope])
    np.testing.assert_array_equal(prelu(x, w), leaky_relu(x, slope))
    np.testing.assert_array_equal(prelu_grad(x, w)[0], leaky_relu_grad(x, slope))


@given(hnp.arrays(np.float64, st.integers(0, 30), elements=st.floats(-1e4, 1e4)))
def test_slope_gradient_is_sum_of_negative_part(x):
    """With one slope, d(sum)/da is the sum of the non-positive inputs."""
    _, grad_w = prelu_grad(x, np.array([0.25]))
    np.testing.assert_allclose(grad_w, [np.minimum(x, 0).sum()], rtol=1e-12, atol=1e-12)
