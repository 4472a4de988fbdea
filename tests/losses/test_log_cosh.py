"""Log-cosh loss against the direct float64 formula log(cosh(r)) in torch, and its two limits.

PyTorch has no log-cosh loss. The reference is torch.log(torch.cosh(r)) evaluated in float64 on
residuals with |r| <= 20 (where it does not overflow and its absolute error is float64 rounding;
its relative error grows for tiny |r|, so small residuals are checked against 50-digit
arithmetic), with its autograd gradient; beyond that range the limits r^2 / 2 and |r| - log 2
are the reference.
"""

from decimal import Decimal, localcontext

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.losses.log_cosh import log_cosh, log_cosh_loss, log_cosh_loss_grad
from tests.helpers import DTYPES, SHAPES, assert_matches
from tests.losses._regression import REDUCTIONS, dtype_id, nonfinite_pair, reduce_torch_style

LOG2 = np.log(2.0)


def reference(x: np.ndarray, y: np.ndarray, reduction: str):
    """log(cosh(x - y)) reduced like torch, in float64, and d(sum)/dx by autograd."""
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    out = reduce_torch_style(torch.log(torch.cosh(xt - torch.tensor(y.astype(np.float64)))),
                             reduction)
    out.sum().backward()
    return out.detach().numpy(), xt.grad.numpy()


def moderate_pair(shape, dtype, seed=0):
    """Predictions and targets in [-10, 10]: residuals with |r| <= 20."""
    rng = np.random.default_rng(seed)
    return (rng.uniform(-10, 10, size=shape).astype(dtype),
            rng.uniform(-10, 10, size=shape).astype(dtype))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matches_direct_float64_formula(shape, dtype, reduction):
    """Values and gradients agree with float64 log(cosh(r)) and its autograd, every reduction."""
    x, y = moderate_pair(shape, dtype)
    value, grad = reference(x, y, reduction)
    # float32: ours is compared with the float64 reference rounded to float32
    assert_matches(log_cosh_loss(x, y, reduction), value.astype(dtype))
    assert_matches(log_cosh_loss_grad(x, y, reduction), grad.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_small_residuals_keep_full_relative_precision(dtype):
    """For |r| in [1e-6, 1): relative error stays at the dtype's tolerance (no cancellation)."""
    r = np.geomspace(1e-6, 0.999, 200)
    r = np.concatenate([-r, r]).astype(dtype)
    # reference in 50-digit decimal arithmetic: log((e^r + e^-r) / 2), then rounded
    with localcontext() as ctx:
        ctx.prec = 50
        exact = [((Decimal(float(v)).exp() + (-Decimal(float(v))).exp()) / 2).ln()
                 for v in r]
    expected = np.array([float(v) for v in exact]).astype(dtype)
    assert_matches(log_cosh(r), expected, atol=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs_do_not_overflow(dtype):
    """Residuals of +-1e4 (and 711, 90, where cosh overflows) give |r| - log 2 and slope +-1."""
    r = np.array([-1e4, -711.0, -90.0, 90.0, 711.0, 1e4], dtype=dtype)
    zeros = np.zeros_like(r)
    expected = (np.abs(r.astype(np.float64)) - LOG2).astype(dtype)
    assert_matches(log_cosh_loss(r, zeros, "none"), expected)
    assert_matches(log_cosh_loss_grad(r, zeros, "none"), np.sign(r), rtol=0, atol=0)


@pytest.mark.parametrize(("dtype", "big"), [
    pytest.param(np.float64, 1.7e308, id="float64-1.7e308"),
    pytest.param(np.float32, 3e38, id="float32-3e38"),
])
def test_largest_floats_raise_no_overflow(dtype, big):
    """Near the largest float the loss is |r| - log 2 with no overflow warning (warnings are
    errors in the tests): -2|r| would overflow, so e^(-2|r|) is formed as (e^(-|r|))^2."""
    r = np.array([-big, big], dtype=dtype)
    expected = (np.abs(r.astype(np.float64)) - LOG2).astype(dtype)
    assert_matches(log_cosh_loss(r, np.zeros_like(r), "none"), expected)


def test_integer_residuals_are_refused():
    """An integer array raises: in an integer dtype log 2 would round to 0 (3 gave 3.0025)."""
    with pytest.raises(TypeError, match="float"):
        log_cosh(np.array([3, 0]))
    with pytest.raises(TypeError, match="float"):
        log_cosh_loss(np.array([3, 0]), np.array([0, 0]))


@pytest.mark.parametrize(("dtype", "big"), [
    pytest.param(np.float64, 711.0, id="float64-711"),
    pytest.param(np.float32, 90.0, id="float32-90"),
])
def test_naive_formula_overflows_where_ours_does_not(dtype, big):
    """The pitfall is real: log(cosh(r)) is inf (and its autograd NaN) where ours is finite."""
    r = np.array([big], dtype=dtype)
    with np.errstate(over="ignore"):
        assert np.isinf(np.log(np.cosh(r)))[0]
    rt = torch.tensor(r, requires_grad=True)
    torch.log(torch.cosh(rt)).sum().backward()
    assert torch.isnan(rt.grad)[0]
    assert np.isfinite(log_cosh(r))[0]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nan_and_inf_residuals(dtype, reduction):
    """NaN residuals give NaN loss and gradient (as the torch formula does); ±inf gives inf, ±1."""
    x, y = nonfinite_pair(dtype)  # residuals: NaN, NaN, inf, -inf, 0, NaN (inf - inf), 3
    with np.errstate(invalid="ignore"):  # numpy warns when inf - inf makes a NaN
        loss = log_cosh_loss(x, y, "none")
        grad = log_cosh_loss_grad(x, y, "none")
        reduced = log_cosh_loss(x, y, reduction)
        nan = np.isnan(x - y)
    assert np.array_equal(np.isnan(loss), nan)
    assert np.array_equal(np.isnan(grad), nan)
    assert loss[2] == loss[3] == np.inf
    assert list(grad[2:5]) == [1, -1, 0]
    assert loss[4] == 0
    assert loss.dtype == grad.dtype == dtype
    assert np.isnan(reduced).any()
    # torch's direct formula agrees where it is defined: NaN in, NaN out
    rt = torch.tensor(np.array([np.nan], dtype=dtype), requires_grad=True)
    torch.log(torch.cosh(rt)).sum().backward()
    assert torch.isnan(rt.grad)[0]


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_zero_d_inputs(dtype):
    """0-d arrays (np.array(5.)) give 0-d results of the input dtype, equal to the reference."""
    x, y = np.array(5.0, dtype=dtype), np.array(2.0, dtype=dtype)
    for reduction in ("mean", "sum", "none"):
        value, grad = reference(x, y, reduction)
        assert_matches(log_cosh_loss(x, y, reduction), value.astype(dtype))
        assert_matches(log_cosh_loss_grad(x, y, reduction), grad.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_mean_of_empty_batch_is_nan_like_torch(dtype):
    """An empty batch: mean is NaN (torch's mean of an empty tensor), sum 0, empty gradient."""
    x = np.zeros(0, dtype=dtype)
    assert np.isnan(log_cosh_loss(x, x))
    assert torch.isnan(torch.log(torch.cosh(torch.tensor(x))).mean())
    assert log_cosh_loss(x, x, "sum") == 0
    assert log_cosh_loss_grad(x, x).shape == (0,)


def test_shape_mismatch_and_unknown_reduction_raise():
    """Different shapes and an unknown reduction are errors."""
    with pytest.raises(ValueError, match="shape"):
        log_cosh_loss(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="reduction"):
        log_cosh_loss_grad(np.zeros(2), np.zeros(2), "avg")


def test_the_two_forms_meet_at_the_switch():
    """Around |r| = 1, where the code changes formula, the loss is continuous to rounding."""
    r = np.array([np.nextafter(1.0, 0.0), 1.0, np.nextafter(1.0, 2.0)])
    expected = np.log(np.cosh(r))  # accurate here: cosh(1) = 1.54 is far from 1
    np.testing.assert_allclose(log_cosh(r), expected, rtol=1e-15, atol=0)


@settings(deadline=None, max_examples=100)
@given(st.floats(-1e-2, 1e-2, allow_nan=False))
def test_quadratic_limit_for_small_residuals(r):
    """log cosh r = r^2/2 - r^4/12 + ...: ours is within r^4/12 (+ rounding) of r^2/2."""
    ours = log_cosh(np.array(r))
    # series remainder r^4 / 12 plus a few ulps of r^2 / 2 for rounding
    assert abs(ours - r * r / 2) <= r**4 / 12 + 4 * np.spacing(r * r / 2)


@settings(deadline=None, max_examples=100)
@given(st.floats(20, 1e300, allow_nan=False), st.sampled_from([-1.0, 1.0]))
def test_linear_limit_for_large_residuals(a, sign):
    """log cosh r = |r| - log 2 + log1p(exp(-2|r|)): for |r| >= 20 exactly |r| - log 2 in float64.

    The last term is below 5e-18, under half an ulp of |r| >= 20, so the rounded result is
    bit-for-bit the rounded |r| - log 2."""
    r = sign * a
    assert log_cosh(np.array(r)) == a - LOG2
    assert log_cosh_loss_grad(np.array(r), np.array(0.0), "none") == sign
