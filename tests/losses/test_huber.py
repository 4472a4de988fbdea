"""Huber and smooth L1 losses and their gradients match torch, and the identities between them."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from snippets.losses.huber import (
    huber_loss,
    huber_loss_grad,
    smooth_l1_loss,
    smooth_l1_loss_grad,
)
from snippets.losses.mae import l1_loss, l1_loss_grad
from snippets.losses.mse import mse_loss
from tests.helpers import DTYPES, SHAPES, assert_matches, tensor
from tests.losses._regression import (
    REDUCTIONS,
    dtype_id,
    floats,
    hard_pair,
    nonfinite_pair,
    pair,
    torch_value_and_grad,
)

huber_torch = torch.nn.functional.huber_loss
smooth_l1_torch = torch.nn.functional.smooth_l1_loss
DELTAS = [pytest.param(d, id=f"delta-{d}") for d in (0.25, 1.0, 3.0, np.inf)]
BETAS = [pytest.param(b, id=f"beta-{b}") for b in (0.0, 0.25, 1.0, 3.0, np.inf)]


@pytest.mark.parametrize("delta", DELTAS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_huber_matches_torch(shape, dtype, reduction, delta):
    """Huber values and gradients agree with torch for every shape, precision, reduction, delta."""
    x, y = pair(shape, dtype)
    value, grad = torch_value_and_grad(huber_torch, x, y, reduction, delta=delta)
    assert_matches(huber_loss(x, y, reduction, delta), value)
    assert_matches(huber_loss_grad(x, y, reduction, delta), grad)


@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_smooth_l1_matches_torch(shape, dtype, reduction, beta):
    """Smooth L1 values and gradients agree with torch, beta = 0 (plain L1) included."""
    x, y = pair(shape, dtype)
    value, grad = torch_value_and_grad(smooth_l1_torch, x, y, reduction, beta=beta)
    assert_matches(smooth_l1_loss(x, y, reduction, beta), value)
    assert_matches(smooth_l1_loss_grad(x, y, reduction, beta), grad)


@pytest.mark.parametrize("delta", DELTAS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype, reduction, delta):
    """Residuals from 0 to 2e4 and signed zeros agree with torch, for both losses."""
    x, y = hard_pair(dtype)
    value, grad = torch_value_and_grad(huber_torch, x, y, reduction, delta=delta)
    assert_matches(huber_loss(x, y, reduction, delta), value)
    assert_matches(huber_loss_grad(x, y, reduction, delta), grad)
    value, grad = torch_value_and_grad(smooth_l1_torch, x, y, reduction, beta=delta)
    assert_matches(smooth_l1_loss(x, y, reduction, delta), value)
    assert_matches(smooth_l1_loss_grad(x, y, reduction, delta), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_residual_exactly_at_the_threshold(dtype):
    """At |r| = delta (the joint) value and gradient agree with torch exactly: the pieces meet."""
    x = np.array([-2.0, -0.5, 0.5, 2.0], dtype=dtype)
    y = np.zeros_like(x)
    for delta in (0.5, 2.0):
        value, grad = torch_value_and_grad(huber_torch, x, y, "none", delta=delta)
        assert_matches(huber_loss(x, y, "none", delta), value, rtol=0, atol=0)
        assert_matches(huber_loss_grad(x, y, "none", delta), grad, rtol=0, atol=0)
        value, grad = torch_value_and_grad(smooth_l1_torch, x, y, "none", beta=delta)
        assert_matches(smooth_l1_loss(x, y, "none", delta), value, rtol=0, atol=0)
        assert_matches(smooth_l1_loss_grad(x, y, "none", delta), grad, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_mean_of_empty_batch_is_nan_like_torch(dtype):
    """An empty batch: mean is NaN, sum is 0, the gradient is empty, as in torch."""
    x = np.zeros(0, dtype=dtype)
    assert np.isnan(huber_loss(x, x))
    assert torch.isnan(huber_torch(tensor(x), tensor(x)))
    assert np.isnan(smooth_l1_loss(x, x))
    assert torch.isnan(smooth_l1_torch(tensor(x), tensor(x)))
    assert huber_loss(x, x, "sum") == 0
    assert smooth_l1_loss(x, x, "sum") == 0
    assert huber_loss_grad(x, x).shape == smooth_l1_loss_grad(x, x).shape == (0,)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan], ids=["zero", "negative", "nan"])
def test_invalid_delta_raises_like_torch(bad):
    """delta <= 0 and delta = NaN are rejected, as torch rejects them."""
    x = np.zeros(2)
    with pytest.raises(ValueError, match="delta"):
        huber_loss(x, x, delta=bad)
    with pytest.raises(ValueError, match="delta"):
        huber_loss_grad(x, x, delta=bad)
    with pytest.raises(RuntimeError, match="delta"):
        huber_torch(tensor(x), tensor(x), delta=bad)


@pytest.mark.parametrize("bad", [-1.0, np.nan], ids=["negative", "nan"])
def test_invalid_beta_raises_like_torch(bad):
    """beta < 0 and beta = NaN are rejected, as torch rejects them (beta = 0 is allowed)."""
    x = np.zeros(2)
    with pytest.raises(ValueError, match="beta"):
        smooth_l1_loss(x, x, beta=bad)
    with pytest.raises(ValueError, match="beta"):
        smooth_l1_loss_grad(x, x, beta=bad)
    with pytest.raises(RuntimeError, match="beta"):
        smooth_l1_torch(tensor(x), tensor(x), beta=bad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nan_and_inf_match_torch(dtype, reduction):
    """NaN and infinite residuals give torch's values and gradients, for every threshold."""
    # The gradient at a NaN residual is NaN for Huber and for smooth L1 with beta > 0, but 0
    # for beta = 0, where torch computes the L1 gradient (sign(NaN) taken as 0).
    x, y = nonfinite_pair(dtype)
    with np.errstate(invalid="ignore"):  # numpy warns when inf - inf makes a NaN
        for k in (0.5, 1.0, np.inf):
            value, grad = torch_value_and_grad(huber_torch, x, y, reduction, delta=k)
            assert_matches(huber_loss(x, y, reduction, k), value)
            assert_matches(huber_loss_grad(x, y, reduction, k), grad)
        for k in (0.0, 0.5, 1.0, np.inf):
            value, grad = torch_value_and_grad(smooth_l1_torch, x, y, reduction, beta=k)
            assert_matches(smooth_l1_loss(x, y, reduction, k), value)
            assert_matches(smooth_l1_loss_grad(x, y, reduction, k), grad)
            assert (grad.numpy()[0] == 0) == (k == 0)  # the NaN residual


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_float32_residuals_beyond_1e19_match_torch_without_warnings(reduction):
    """Residuals up to 1e38 in float32: torch's values and gradients, and no overflow warning
    from the unused quadratic branch (warnings are errors in the tests)."""
    x = np.array([1e20, -1e30, 1e38, 0.5, 0.0], dtype=np.float32)  # delta * |r| < 3.4e38
    y = np.zeros_like(x)
    for k in (0.5, 2.0):
        value, grad = torch_value_and_grad(huber_torch, x, y, reduction, delta=k)
        assert_matches(huber_loss(x, y, reduction, k), value)
        assert_matches(huber_loss_grad(x, y, reduction, k), grad)
        value, grad = torch_value_and_grad(smooth_l1_torch, x, y, reduction, beta=k)
        assert_matches(smooth_l1_loss(x, y, reduction, k), value)
        assert_matches(smooth_l1_loss_grad(x, y, reduction, k), grad)


def test_integer_inputs_are_refused_like_torch():
    """Integer arrays raise (cast to an int, delta = 0.5 would be 0); torch refuses them too."""
    x, y = np.array([3, 0]), np.array([0, 0])
    for fn in (huber_loss, huber_loss_grad, smooth_l1_loss, smooth_l1_loss_grad):
        with pytest.raises(TypeError, match="float"):
            fn(x, y, "none", 0.5)
    for fn in (huber_torch, smooth_l1_torch):
        with pytest.raises(RuntimeError, match="Long"):
            fn(torch.tensor(x), torch.tensor(y))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_zero_d_inputs_and_float64_thresholds_keep_the_dtype(dtype):
    """0-d inputs work, and a NumPy float64 threshold does not promote float32 results."""
    x, y = np.array(5.0, dtype=dtype), np.array(2.0, dtype=dtype)
    k = np.float64(1.5)
    for reduction in ("mean", "sum", "none"):
        value, grad = torch_value_and_grad(huber_torch, x, y, reduction, delta=float(k))
        assert_matches(huber_loss(x, y, reduction, k), value)
        assert_matches(huber_loss_grad(x, y, reduction, k), grad)
        value, grad = torch_value_and_grad(smooth_l1_torch, x, y, reduction, beta=float(k))
        assert_matches(smooth_l1_loss(x, y, reduction, k), value)
        assert_matches(smooth_l1_loss_grad(x, y, reduction, k), grad)


def test_minimax_threshold_shrinks_with_contamination():
    """Huber's 2φ(k)/k - 2Φ(-k) = ε/(1-ε): k ≈ 1.40 at ε = 5 %, 1.14 at 10 %, less for larger ε."""
    def threshold(eps):
        def excess(k):  # decreasing in k; its root is the minimax threshold
            phi = math.exp(-k * k / 2) / math.sqrt(2 * math.pi)
            return 2 * phi / k - math.erfc(k / math.sqrt(2)) - eps / (1 - eps)  # 2Φ(-k)

        lo, hi = 0.01, 10.0
        for _ in range(80):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if excess(mid) > 0 else (lo, mid)
        return lo

    assert round(threshold(0.05), 2) == 1.40  # 1.3984
    assert round(threshold(0.10), 2) == 1.14  # 1.1402
    ks = [threshold(eps) for eps in (0.01, 0.05, 0.1, 0.2)]
    assert ks == sorted(ks, reverse=True)


# Property tests. Residuals come from y = 0, so x is the residual.
finite = floats(1e3)
thresholds = st.floats(1e-3, 1e2, allow_nan=False)
unit = floats(1)
reductions = st.sampled_from(["mean", "sum", "none"])


@settings(deadline=None, max_examples=80)
@given(arrays(np.float64, st.integers(1, 20), elements=finite), thresholds, reductions)
def test_huber_over_delta_is_smooth_l1(r, delta, reduction):
    """huber(delta) / delta == smooth_l1(beta=delta), values and gradients, in ours and torch."""
    y = np.zeros_like(r)
    np.testing.assert_allclose(huber_loss(r, y, reduction, delta) / delta,
                               smooth_l1_loss(r, y, reduction, delta), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(huber_loss_grad(r, y, reduction, delta) / delta,
                               smooth_l1_loss_grad(r, y, reduction, delta), rtol=1e-12, atol=1e-12)
    lhs = huber_torch(tensor(r), tensor(y), reduction=reduction, delta=delta) / delta
    rhs = smooth_l1_torch(tensor(r), tensor(y), reduction=reduction, beta=delta)
    np.testing.assert_allclose(lhs.numpy(), rhs.numpy(), rtol=1e-12, atol=1e-12)


@settings(deadline=None, max_examples=80)
@given(arrays(np.float64, st.integers(1, 20), elements=unit), thresholds, reductions)
def test_huber_is_half_mse_for_small_residuals(u, delta, reduction):
    """Every |r| < delta: Huber equals MSE / 2 (same reduction), and the gradient is r itself."""
    r = u * delta * 0.999  # strictly inside the quadratic zone
    y = np.zeros_like(r)
    np.testing.assert_allclose(huber_loss(r, y, reduction, delta),
                               mse_loss(r, y, reduction) / 2, rtol=1e-12, atol=0)
    np.testing.assert_allclose(huber_loss_grad(r, y, "none", delta), r, rtol=0, atol=0)


@settings(deadline=None, max_examples=80)
@given(arrays(np.float64, st.integers(1, 20), elements=finite), thresholds)
def test_huber_is_shifted_scaled_l1_for_large_residuals(r, delta):
    """Every |r| >= delta: Huber equals delta * (|r| - delta / 2), gradient delta * sign(r)."""
    r = np.where(np.abs(r) < delta, np.copysign(delta, r) + r, r)  # push r out of [-d, d]
    y = np.zeros_like(r)
    np.testing.assert_allclose(huber_loss(r, y, "none", delta),
                               delta * (np.abs(r) - delta / 2), rtol=1e-12, atol=0)
    np.testing.assert_allclose(huber_loss_grad(r, y, "sum", delta),
                               delta * l1_loss_grad(r, y, "sum"), rtol=0, atol=0)


@settings(deadline=None, max_examples=60)
@given(arrays(np.float64, st.integers(1, 20), elements=finite), reductions)
def test_smooth_l1_tends_to_l1_as_beta_shrinks(r, reduction):
    """smooth_l1(beta) is within beta / 2 of L1 per element, and beta = 0 is L1 exactly."""
    y = np.zeros_like(r)
    np.testing.assert_array_equal(smooth_l1_loss(r, y, reduction, 0.0), l1_loss(r, y, reduction))
    np.testing.assert_array_equal(smooth_l1_loss_grad(r, y, reduction, 0.0),
                                  l1_loss_grad(r, y, reduction))
    for beta in (1e-1, 1e-3):
        gap = np.abs(smooth_l1_loss(r, y, "none", beta) - l1_loss(r, y, "none"))
        # |r| - beta / 2 is rounded once: allow one spacing of |r| on top of beta / 2
        assert np.all(gap <= beta / 2 + np.spacing(np.abs(r)))
