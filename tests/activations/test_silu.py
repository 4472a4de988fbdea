"""SiLU and swish match torch.nn.functional.silu and autograd; swish's limits in beta hold."""

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from snippets.activations.silu import silu, silu_grad, swish, swish_grad
from tests.helpers import (
    DTYPES,
    HARD_VALUES,
    SHAPES,
    assert_matches,
    dtype_id,
    random_input,
    tensor,
)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_value_and_gradient_match_torch(shape, dtype):
    """Values and d(sum)/dx agree with torch for every shape and both precisions."""
    x = random_input(shape, dtype)
    xt = tensor(x, grad=True)
    y = torch.nn.functional.silu(xt)
    y.sum().backward()
    assert_matches(silu(x), y)
    assert_matches(silu_grad(x), xt.grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype):
    """Logits of +-1e4, signed zeros and tiny values: finite, no warning, equal to torch."""
    x = HARD_VALUES.astype(dtype)
    xt = tensor(x, grad=True)
    y = torch.nn.functional.silu(xt)
    y.sum().backward()
    ours, grad = silu(x), silu_grad(x)
    assert np.isfinite(ours).all()
    assert np.isfinite(grad).all()
    assert_matches(ours, y)
    assert_matches(grad, xt.grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_upstream_gradient(dtype):
    """With a random upstream gradient g, g * silu'(x) is torch's vector-Jacobian product."""
    x = random_input((4, 5), dtype, seed=1)
    g = random_input((4, 5), dtype, seed=2)
    xt = tensor(x, grad=True)
    torch.nn.functional.silu(xt).backward(tensor(g))
    assert_matches(g * silu_grad(x), xt.grad)


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 2.0, 10.0, -1.0, -2.5], ids=lambda b: f"beta-{b}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_swish_matches_autograd_of_direct_formula(beta, dtype):
    """swish_beta and its derivative equal x * sigmoid(beta x) and its autograd gradient."""
    x = random_input((3, 7), dtype)
    xt = tensor(x, grad=True)
    y = xt * torch.sigmoid(beta * xt)
    y.sum().backward()
    assert_matches(swish(x, beta), y)
    assert_matches(swish_grad(x, beta), xt.grad)


@given(st.floats(-50, 50, allow_nan=False))
def test_swish_beta_one_is_silu(v):
    """Identity: swish with beta = 1 is SiLU, value and derivative, bit for bit."""
    x = np.array([v])
    assert swish(x, 1.0)[0] == silu(x)[0]
    assert swish_grad(x, 1.0)[0] == silu_grad(x)[0]


@given(st.floats(-50, 50, allow_nan=False))
def test_swish_beta_zero_is_half_identity(v):
    """Limit: swish with beta = 0 is x / 2, with derivative 1/2."""
    x = np.array([v])
    assert swish(x, 0.0)[0] == v / 2
    assert swish_grad(x, 0.0)[0] == 0.5


@given(st.floats(-50, 50, allow_nan=False).filter(lambda v: abs(v) > 1e-3))
def test_swish_tends_to_relu_as_beta_grows(v):
    """Limit: as beta grows swish tends to max(0, x); at beta = 1e5 it is there already."""
    # for |x| > 1e-3 the gate sigma(beta x) is within exp(-100) of 0 or 1
    x = np.array([v])
    assert abs(swish(x, 1e5)[0] - max(v, 0.0)) <= abs(v) * np.exp(-100)


@given(st.floats(-30, 30, allow_nan=False))
def test_silu_is_x_times_sigmoid(v):
    """Identity: SiLU(x) = x * sigmoid(x), in float64 against torch.sigmoid."""
    x = np.array([v])
    expected = v * torch.sigmoid(torch.tensor(v, dtype=torch.float64)).item()
    np.testing.assert_allclose(silu(x)[0], expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nan_exactly_where_torch_has_nan(dtype):
    """NaN in gives NaN out, in value and derivative, and nowhere else."""
    x = np.array([np.nan, -1e4, 0.0, 1e4], dtype=dtype)
    xt = tensor(x, grad=True)
    y = torch.nn.functional.silu(xt)
    y.sum().backward()
    np.testing.assert_array_equal(np.isnan(silu(x)), torch.isnan(y).numpy())
    np.testing.assert_array_equal(np.isnan(silu_grad(x)), torch.isnan(xt.grad).numpy())


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_infinite_inputs_like_torch(dtype):
    """SiLU(+inf) = +inf; SiLU(-inf) and both derivatives at +-inf are NaN (inf * 0), as in
    torch."""
    x = np.array([-np.inf, np.inf], dtype=dtype)
    xt = tensor(x, grad=True)
    y = torch.nn.functional.silu(xt)
    y.sum().backward()
    with np.errstate(invalid="ignore"):  # inf * 0: the NaN is torch's answer too
        ours, grad = silu(x), silu_grad(x)
    np.testing.assert_array_equal(ours, y.detach().numpy())
    np.testing.assert_array_equal(grad, xt.grad.numpy())
    assert ours[1] == np.inf
    assert np.isnan(ours[0])
    assert np.isnan(grad).all()


def _exact_silu_grad(v):
    """SiLU'(v) to 50 digits: sigma(v) (1 + v sigma(-v))."""
    mpmath.mp.dps = 50
    v = mpmath.mpf(float(v))
    return float(mpmath.mpf(1) / (1 + mpmath.exp(-v)) * (1 + v / (1 + mpmath.exp(v))))


def test_derivative_has_no_cancellation_for_large_inputs():
    """silu_grad is within 2 ULPs of a 50-digit reference for large |x|, where 1 - sigma(x)
    written as a subtraction (torch's form) is off by about a dozen ULPs at x = 30."""
    x = np.array([-40.0, -20.0, -5.0, 2.4, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 80.0])
    exact = np.array([_exact_silu_grad(v) for v in x])
    ulps = np.abs(silu_grad(x) - exact) / np.spacing(np.abs(exact))
    assert ulps.max() <= 2
    xt = tensor(np.array([30.0]), grad=True)
    torch.nn.functional.silu(xt).sum().backward()
    torch_ulps = abs(xt.grad.item() - _exact_silu_grad(30.0)) / np.spacing(1.0)
    assert torch_ulps >= 8


@pytest.mark.parametrize("beta", [np.float64(2.0), 2])
def test_float32_stays_float32_whatever_the_beta_type(beta):
    """A float64 or int beta does not promote a float32 input."""
    x = random_input((6,), np.float32)
    assert swish(x, beta).dtype == np.float32
    assert swish_grad(x, beta).dtype == np.float32
    assert silu(x).dtype == np.float32
    assert silu_grad(x).dtype == np.float32
