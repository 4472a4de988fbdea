"""Mish matches torch.nn.functional.mish and autograd, and a 50-digit reference for any input."""

import mpmath  # installed with torch (torch requires sympy, which requires mpmath)
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from snippets.activations.mish import mish, mish_grad, tanh_softplus
from tests.helpers import (
    DTYPES,
    HARD_VALUES,
    SHAPES,
    assert_matches,
    dtype_id,
    random_input,
    torch_elementwise,
)

F = torch.nn.functional
EPS = np.finfo(np.float64).eps
mpmath.mp.dps = 50


def _reference(v):
    """Mish, its derivative, and the sizes of the derivative's two terms, at 50 digits."""
    v = mpmath.mpf(float(v))
    t = mpmath.tanh(mpmath.log1p(mpmath.exp(v)))
    second = v * (1 / (1 + mpmath.exp(-v))) * (1 - t * t)
    return float(v * t), float(t + second), float(abs(t) + abs(second))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_value_and_gradient_match_torch(shape, dtype):
    """Values and d(sum)/dx agree with torch for every shape and both precisions."""
    x = random_input(shape, dtype)
    y, grad = torch_elementwise(F.mish, x)
    assert_matches(mish(x), y)
    assert_matches(mish_grad(x), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype):
    """+-1e4, +-1e3, signed zeros, tiny values and NaN: no warning, equal to torch, signs of
    zeros included."""
    x = np.concatenate([HARD_VALUES, [-745.0, 710.0, np.nan]]).astype(dtype)
    y, grad = torch_elementwise(F.mish, x)
    ours, ours_grad = mish(x), mish_grad(x)
    assert_matches(ours, y)
    assert_matches(ours_grad, grad)
    finite = ~np.isnan(x)
    assert np.isfinite(ours[finite]).all()
    assert np.isfinite(ours_grad[finite]).all()
    assert np.isnan(ours[~finite]).all()
    assert np.isnan(ours_grad[~finite]).all()
    theirs = y.detach().numpy()
    np.testing.assert_array_equal(np.signbit(ours[finite]), np.signbit(theirs[finite]))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_upstream_gradient(dtype):
    """With a random upstream gradient g, g * Mish'(x) is torch's vector-Jacobian product."""
    x = random_input((4, 5), dtype, seed=1)
    g = random_input((4, 5), dtype, seed=2)
    xt = torch.tensor(x, requires_grad=True)
    F.mish(xt).backward(torch.tensor(g))
    assert_matches(g * mish_grad(x), xt.grad)


def test_against_50_digit_reference():
    """A few ulps of relative error in value and derivative from x = -700 to 40: exp(-|x|) is
    the only transcendental step and nothing cancels."""
    x = np.arange(-700.0, 40.0, 0.25)
    x = x[x != 0]  # Mish(0) = 0: no relative error there
    ref = np.array([_reference(v) for v in x])
    value_err = np.abs(mish(x) - ref[:, 0]) / np.abs(ref[:, 0])
    assert value_err.max() <= 8 * EPS, value_err.max()
    # the derivative is a sum of two terms that cancel near its zero at x = -1.19: bound its
    # error by the size of the terms, not of the sum
    grad_err = np.abs(mish_grad(x) - ref[:, 1]) / ref[:, 2]
    assert grad_err.max() <= 8 * EPS, grad_err.max()


@given(st.floats(-50, 50, allow_nan=False))
def test_gate_and_its_complement(v):
    """Identity: the gate is tanh(softplus(x)) and the complement is 1 minus it, in float64."""
    t, rest = tanh_softplus(np.array([v]))
    expected = np.tanh(np.logaddexp(0.0, v))
    assert abs(t[0] - expected) <= 4 * EPS
    assert abs(t[0] + rest[0] - 1) <= 4 * EPS


@given(st.floats(-700, -40))
def test_left_tail_is_x_exp_x(v):
    """Limit: for x < -40, Mish(x) = x e^x (1 + O(e^x)), so the two agree to the last bit or two."""
    x = np.array([v])
    expected = v * np.exp(v)
    assert abs(mish(x)[0] - expected) <= 4 * EPS * abs(expected)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_right_tail_is_identity(dtype):
    """Limit: from x = 20 on, tanh(softplus(x)) rounds to 1, so Mish(x) is x exactly, in ours
    and in torch, whether or not softplus switches to x at its threshold of 20."""
    x = np.concatenate([np.arange(20.0, 200.0, 0.5), [1e3, 1e4, 1e30]]).astype(dtype)
    xt = torch.tensor(x)
    assert (mish(x) == x).all()
    assert (F.mish(xt).numpy() == x).all()
    with_threshold = xt * torch.tanh(F.softplus(xt))  # softplus returns x above 20
    without = xt * torch.tanh(torch.log1p(torch.exp(xt)))  # exp overflows past 88.7 (float32)
    assert (with_threshold.numpy() == x).all()
    assert (without.numpy() == x).all()


def test_tanh_rounds_to_one_before_the_threshold():
    """The page's claim: torch.tanh(x) is exactly 1 from about 9.01 in float32 and 19.06 in
    float64, both below softplus's default threshold of 20."""
    for dtype, start in [(torch.float32, 9.02), (torch.float64, 19.07)]:
        grid = torch.arange(start, 25.0, 1e-3, dtype=dtype)
        assert (torch.tanh(grid) == 1).all()
        assert torch.tanh(torch.tensor(start - 0.02, dtype=dtype)) < 1


def test_float32_derivative_is_more_accurate_than_torch():
    """The page's stated difference: torch's float32 backward forms 1 - tanh^2(softplus(x)) and
    loses up to 1e-6 of the excess of Mish' over 1 (errors above 2 ulps for x of about 3.8 to
    9.4); ours keeps it."""
    x = np.arange(3.0, 11.0, 1e-3).astype(np.float32)
    truth = mish_grad(x.astype(np.float64))
    _, theirs = torch_elementwise(F.mish, x)
    ours_err = np.abs(mish_grad(x) - truth).max()
    errors = np.abs(theirs.numpy() - truth)
    theirs_err = errors.max()
    assert ours_err <= 2 * np.finfo(np.float32).eps
    assert theirs_err >= 4 * ours_err
    assert 8e-7 <= theirs_err <= 1.1e-6
    beyond = x[errors > 2 * np.finfo(np.float32).eps]  # where torch is off by over 2 ulps
    assert 3.7 <= beyond.min() <= 4.0
    assert 9.2 <= beyond.max() <= 9.6
    assert ((theirs.numpy() == 1) & (truth.astype(np.float32) > 1)).any()


def test_minimum():
    """Mish has one minimum, near x = -1.19, where the derivative changes sign from - to +."""
    x = np.linspace(-3, 0, 30_001)
    i = np.argmin(mish(x))
    assert -1.2 < x[i] < -1.18
    assert mish_grad(x[i] - 1e-3) < 0 < mish_grad(x[i] + 1e-3)
    y, grad = torch_elementwise(F.mish, x[i - 1 : i + 2])
    assert y.detach().numpy()[1] == y.detach().numpy().min()
    assert grad.numpy()[0] < 0 < grad.numpy()[2]
