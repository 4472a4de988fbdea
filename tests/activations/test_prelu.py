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
    pytest.param((), (), id="scalar-0d-weight"),
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
    assert_matches(prelu(x, w), y, rtol=0, atol=0)  # one multiplication: exact
    assert_matches(ours_x, grad_x, rtol=0, atol=0)  # one multiplication: exact
    assert_matches(ours_w, grad_w)  # a sum: the order of additions may differ from torch's


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_default_grad_output_is_gradient_of_sum(dtype):
    """Without grad_output, prelu_grad returns the gradients of prelu(x, w).sum()."""
    x = random_input((6, 2, 3), dtype)
    w = np.array([0.25, -0.1], dtype=dtype)
    _, grad_x, grad_w = torch_prelu(x, w, np.ones_like(x))
    ours_x, ours_w = prelu_grad(x, w)
    assert_matches(ours_x, grad_x)
    assert_matches(ours_w, grad_w)


@pytest.mark.parametrize("slopes", [(0.25, 0.01), (0.0, -0.5)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype, slopes):
    """Magnitudes up to 1e4, signed zeros, +-inf, zero and negative slopes: values (sign of
    zero and 0 * -inf = NaN included) and both gradients agree with torch."""
    x = np.concatenate([HARD_VALUES, [-np.inf, np.inf]]).astype(dtype).reshape(8, 2)  # (N, C)
    w = np.array(slopes, dtype=dtype)
    g = np.ones_like(x)
    y, grad_x, grad_w = torch_prelu(x, w, g)
    with np.errstate(invalid="ignore"):  # 0 * -inf = NaN for slope 0, as in torch
        ours = prelu(x, w)
    ours_x, ours_w = prelu_grad(x, w, g)
    assert_matches(ours, y, rtol=0, atol=0)
    numbers = ~np.isnan(ours)  # the sign of a NaN is not specified
    ref = y.detach().numpy()
    np.testing.assert_array_equal(np.signbit(ours[numbers]), np.signbit(ref[numbers]))
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


def test_module_default_is_one_shared_slope():
    """nn.PReLU() holds one slope, 0.25, used for every channel: it equals prelu with shape (1,)."""
    module = torch.nn.PReLU()
    assert tuple(module.weight.shape) == (1,)
    assert module.weight.item() == 0.25
    x = random_input((2, 3, 4), np.float32)
    with torch.no_grad():
        expected = module(tensor(x))
    assert_matches(prelu(x, module.weight.detach().numpy()), expected, rtol=0, atol=0)


def test_module_per_channel_needs_num_parameters_on_dim_1():
    """nn.PReLU(num_parameters=C) has C slopes, applied along dim 1; a wrong dim 1 is refused."""
    module = torch.nn.PReLU(num_parameters=3)
    assert tuple(module.weight.shape) == (3,)
    with torch.no_grad():
        module.weight.copy_(torch.tensor([0.1, -0.2, 0.7]))
        x = random_input((2, 3, 4), np.float32)
        expected = module(tensor(x))
    assert_matches(prelu(x, module.weight.detach().numpy()), expected, rtol=0, atol=0)
    with pytest.raises(RuntimeError, match="channel size"):
        module(torch.zeros(2, 4, 3))  # channels last: dim 1 has 4 entries
    with pytest.raises(ValueError, match="slopes"):
        prelu(np.zeros((2, 4, 3)), np.zeros(3))


def test_float32_stays_float32_with_float64_slopes():
    """float64 slopes are cast to the input's float32, as torch requires matching dtypes."""
    x = random_input((4, 3), np.float32)
    w = np.array([0.25, 0.5, -0.1])  # float64
    assert prelu(x, w).dtype == np.float32
    grad_x, grad_w = prelu_grad(x, w)
    assert grad_x.dtype == np.float32
    assert grad_w.dtype == np.float32
