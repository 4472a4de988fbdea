"""GELU, exact and tanh-approximated, matches torch.nn.functional.gelu and a 50-digit reference."""

import math

import mpmath  # installed with torch (torch requires sympy, which requires mpmath)
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from snippets.activations.gelu import (
    gelu,
    gelu_grad,
    gelu_tanh,
    gelu_tanh_grad,
    normal_cdf,
    quick_gelu,
)
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
# (our value, our derivative) for each value of torch's `approximate`
OURS = {"none": (gelu, gelu_grad), "tanh": (gelu_tanh, gelu_tanh_grad)}
APPROXIMATE = pytest.mark.parametrize("approximate", sorted(OURS))
mpmath.mp.dps = 50


def _reference(v):
    """Exact GELU and its derivative at 50 digits, rounded to float64."""
    v = mpmath.mpf(float(v))
    return float(v * mpmath.ncdf(v)), float(mpmath.ncdf(v) + v * mpmath.npdf(v))


def _reference_tanh(v):
    """Tanh-approximated GELU and its derivative at 50 digits, rounded to float64."""
    v = mpmath.mpf(float(v))
    c = mpmath.sqrt(2 / mpmath.pi)
    u = c * (v + mpmath.mpf("0.044715") * v**3)
    s = 1 / (1 + mpmath.exp(-2 * u))
    du = c * (1 + 3 * mpmath.mpf("0.044715") * v**2)
    return float(v * s), float(s + 2 * v * s * (1 - s) * du)


@APPROXIMATE
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_value_and_gradient_match_torch(shape, dtype, approximate):
    """Values and d(sum)/dx agree with torch for every shape, both precisions, both forms."""
    f, f_grad = OURS[approximate]
    x = random_input(shape, dtype)
    y, grad = torch_elementwise(F.gelu, x, approximate=approximate)
    assert_matches(f(x), y)
    assert_matches(f_grad(x), grad)


@APPROXIMATE
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype, approximate):
    """+-1e4, -40, signed zeros, tiny values and NaN: no warning, equal to torch, zeros' signs
    included."""
    f, f_grad = OURS[approximate]
    x = np.concatenate([HARD_VALUES, [-40.0, -10.0, np.nan]]).astype(dtype)
    y, grad = torch_elementwise(F.gelu, x, approximate=approximate)
    ours, ours_grad = f(x), f_grad(x)
    assert_matches(ours, y)
    assert_matches(ours_grad, grad)
    finite = ~np.isnan(x)
    assert np.isfinite(ours[finite]).all()
    assert np.isfinite(ours_grad[finite]).all()
    assert np.isnan(ours[~finite]).all()
    assert np.isnan(ours_grad[~finite]).all()
    # zeros carry the sign of x, as in torch (except the case test_float32_signed_zeros covers)
    zeros = ours == 0
    np.testing.assert_array_equal(np.signbit(ours[zeros]), np.signbit(x[zeros]))
    if not (dtype == np.float32 and approximate == "none"):
        theirs = y.detach().numpy()
        np.testing.assert_array_equal(np.signbit(ours[finite]), np.signbit(theirs[finite]))


def test_float32_signed_zeros():
    """The page's stated difference: on a float32 tensor of two or more elements, torch's exact
    gelu returns +0.0 for -0.0 and for every x below about -5.5; ours returns -0.0 where GELU
    underflows float32 and the tiny negative value above that, as torch does in float64. A
    one-element float32 tensor takes torch's scalar path and keeps the sign."""
    x = np.array([-0.0, -40.0, -1e4])
    for dtype, torch_sign in [(np.float32, False), (np.float64, True)]:
        theirs = F.gelu(torch.tensor(x.astype(dtype))).numpy()
        ours = gelu(x.astype(dtype))
        assert (theirs == 0).all()
        assert (ours == 0).all()
        assert np.signbit(ours).all()
        assert (np.signbit(theirs) == torch_sign).all()
    # one element at a time: -0.0 in torch too
    for v in x.astype(np.float32):
        alone = F.gelu(torch.tensor([v])).numpy()
        assert alone[0] == 0
        assert np.signbit(alone[0])
    # float32 tail: torch's 1 + erf is +0 below about -5.5, ours is negative down to -14.3
    tail = np.linspace(-14.3, -5.6, 88).astype(np.float32)
    theirs = F.gelu(torch.tensor(tail)).numpy()
    assert (theirs == 0).all()
    assert not np.signbit(theirs).any()
    assert (gelu(tail) < 0).all()
    assert F.gelu(torch.tensor([-5.4, -5.4])).numpy()[0] < 0


@APPROXIMATE
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_upstream_gradient(dtype, approximate):
    """With a random upstream gradient g, g * GELU'(x) is torch's vector-Jacobian product."""
    _, f_grad = OURS[approximate]
    x = random_input((4, 5), dtype, seed=1)
    g = random_input((4, 5), dtype, seed=2)
    xt = torch.tensor(x, requires_grad=True)
    F.gelu(xt, approximate=approximate).backward(torch.tensor(g))
    assert_matches(g * f_grad(x), xt.grad)


def test_far_left_tail_against_torch():
    """Down to x = -40 in float64, ours and torch agree within the absolute tolerance (torch's
    1 + erf form rounds the tail to zero, an absolute error below 1e-14)."""
    x = np.linspace(-40, 0, 4001)
    y, grad = torch_elementwise(F.gelu, x)
    assert_matches(gelu(x), y)
    assert_matches(gelu_grad(x), grad)


def test_torch_tail_is_the_one_plus_erf_form():
    """The page's claim: at the tail points it shows, torch's float64 gelu returns exactly
    x (1 + erf(x / sqrt 2)) / 2, the form that cancels, while ours does not cancel."""
    x = np.array([-5.0, -8.0, -10.0, -20.0, -37.0])
    erf = np.vectorize(math.erf, otypes=[np.float64])
    one_plus_erf = x * 0.5 * (1 + erf(x / math.sqrt(2)))
    np.testing.assert_array_equal(F.gelu(torch.tensor(x)).numpy(), one_plus_erf)
    assert (one_plus_erf[2:] == 0).all()
    assert (gelu(x) != 0).all()


def test_far_left_tail_against_50_digit_reference():
    """Relative error down to x = -37 stays within a few roundings of the argument, magnified by
    Phi's conditioning x^2 there; at x = -40 the true value underflows to -0.0, as ours does."""
    x = np.arange(-37.0, 10.0, 0.125)
    x = x[x != 0]  # GELU(0) = 0: no relative error there
    ref = np.array([_reference(v) for v in x])
    # rounding x / sqrt(2) perturbs erfc's argument by eps; erfc magnifies a relative change of
    # its argument z by 2 z^2 = x^2, so the bound grows with x^2
    bound = 4 * EPS * (1 + x * x)
    value_err = np.abs(gelu(x) - ref[:, 0]) / np.abs(ref[:, 0])
    assert (value_err <= bound).all(), value_err.max()
    # the derivative Phi(x) + x phi(x) is a sum: bound its error by the size of its terms
    terms = normal_cdf(x) + np.abs(x) * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    assert (np.abs(gelu_grad(x) - ref[:, 1]) <= bound * terms).all()
    assert gelu(-40.0) == 0
    assert np.signbit(gelu(-40.0))
    assert _reference(-40.0)[0] == 0


def test_tanh_form_against_50_digit_reference():
    """Written as x sigma(2u), the tanh form keeps its relative accuracy for negative x, where
    0.5 x (1 + tanh u) would cancel."""
    x = np.arange(-20.0, 20.0, 0.125)
    x = x[x != 0]
    ref = np.array([_reference_tanh(v) for v in x])
    # u ~ 0.036 x^3 is rounded once or twice, and sigma(2u) magnifies a relative change of u by
    # about 2|u| for negative u, so the bound grows with |x|^3
    bound = 8 * EPS * (1 + np.abs(x) ** 3)
    value_err = np.abs(gelu_tanh(x) - ref[:, 0]) / np.abs(ref[:, 0])
    assert (value_err <= bound).all(), value_err.max()
    s = 1 / (1 + np.exp(-2 * math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    du = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
    terms = s + np.abs(2 * x * s * (1 - s) * du)
    assert (np.abs(gelu_tanh_grad(x) - ref[:, 1]) <= bound * terms).all()


def test_float32_tanh_derivative_is_more_accurate_than_torch():
    """The page's stated difference: torch's float32 backward of the tanh form forms 1 - tanh^2
    and loses up to 1e-6 of the excess over 1 (errors above 2 ulps for x of about 3.4 to 5.5);
    ours keeps it."""
    x = np.arange(3.0, 9.0, 1e-3).astype(np.float32)
    truth = gelu_tanh_grad(x.astype(np.float64))
    _, theirs = torch_elementwise(F.gelu, x, approximate="tanh")
    ours_err = np.abs(gelu_tanh_grad(x) - truth).max()
    errors = np.abs(theirs.numpy() - truth)
    theirs_err = errors.max()
    assert ours_err <= 2 * np.finfo(np.float32).eps  # within 2 float32 ulps of 1
    assert theirs_err >= 4 * ours_err
    assert 8e-7 <= theirs_err <= 1.1e-6
    beyond = x[errors > 2 * np.finfo(np.float32).eps]  # where torch is off by over 2 ulps
    assert 3.3 <= beyond.min() <= 3.5
    assert 5.2 <= beyond.max() <= 5.6
    # somewhere torch returns exactly 1 although the derivative rounds to above 1 in float32
    assert ((theirs.numpy() == 1) & (truth.astype(np.float32) > 1)).any()


@given(st.floats(-30, 30, allow_nan=False))
def test_odd_part_is_half_identity(v):
    """Identity: GELU(x) - GELU(-x) = x, since Phi(x) + Phi(-x) = 1; the same for the tanh
    form, since sigma(2u) + sigma(-2u) = 1."""
    x = np.array([v, -v])
    for f in (gelu, gelu_tanh):
        y = f(x)
        # plus one subnormal step: x / 2 rounds when x is the smallest subnormal
        assert abs((y[0] - y[1]) - v) <= 4 * EPS * abs(v) + np.finfo(float).smallest_subnormal


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_quick_gelu_is_x_sigmoid_1702x(dtype):
    """quick_gelu(x) = x * sigmoid(1.702 x), as torch computes it."""
    x = random_input((50,), dtype)
    xt = torch.tensor(x)
    assert_matches(quick_gelu(x), xt * torch.sigmoid(1.702 * xt))


def test_approximation_errors_match_torch():
    """The largest |tanh form - exact| we measure equals torch's own, and the error is even in x,
    so it peaks at the same |x| on both sides."""
    x = np.linspace(-10, 10, 20_001)
    ours = np.abs(gelu_tanh(x) - gelu(x))
    xt = torch.tensor(x)
    theirs = (F.gelu(xt, approximate="tanh") - F.gelu(xt)).abs().numpy()
    np.testing.assert_allclose(ours.max(), theirs.max(), rtol=1e-9)
    # even up to the rounding of values as large as |x| <= 10
    np.testing.assert_allclose(ours, ours[::-1], rtol=0, atol=4 * EPS * 10)
    # the sigmoid form is coarser than the tanh form everywhere it matters
    assert np.abs(quick_gelu(x) - gelu(x)).max() > 10 * ours.max()


@pytest.mark.parametrize("f", [gelu, gelu_grad, gelu_tanh, gelu_tanh_grad, quick_gelu])
def test_integer_input_is_computed_in_float64(f):
    """Integers are promoted to float64, as NumPy's own functions do: gelu(3) is 2.996, not the
    integer 2 that a cast back to the input's dtype would give."""
    x = np.array([-3, -1, 0, 1, 3])
    ours = f(x)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours, f(x.astype(np.float64)), rtol=1e-15, atol=0)
