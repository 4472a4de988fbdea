"""The distillation loss of snippets/fundamentals/distillation.py against torch's kl_div and
cross_entropy, and the 1/T^2 scaling of its gradient."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.fundamentals.distillation import (
    distillation_loss,
    high_temperature_limit,
    soft_kl,
    soft_kl_grad,
)
from tests.helpers import DTYPES, assert_matches, dtype_id


def torch_soft_kl(s, t, T):
    """The reference: kl_div of log-softmaxed student and teacher at temperature T."""
    return F.kl_div(F.log_softmax(s / T, dim=1), F.log_softmax(t / T, dim=1),
                    reduction="batchmean", log_target=True)


def reference(s, t, T, y=None, alpha=None):
    """torch's soft loss (or combined loss when y is given) and its gradient in s."""
    st_ = torch.tensor(s, requires_grad=True)
    tt = torch.tensor(t)
    loss = torch_soft_kl(st_, tt, T)
    if y is not None:
        loss = alpha * T**2 * loss + (1 - alpha) * F.cross_entropy(st_, torch.tensor(y))
    loss.backward()
    return loss, st_.grad


def logits(shape, dtype, seed, scale=3.0):
    return (np.random.default_rng(seed).normal(size=shape) * scale).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", [(1, 2), (1, 1), (5, 10), (64, 3)], ids=str)
@pytest.mark.parametrize("T", [0.5, 1.0, 4.0, 20.0])
def test_soft_kl_matches_torch(shape, T, dtype):
    """Value and gradient of the softened KL equal torch's kl_div(batchmean, log_target)."""
    s, t = logits(shape, dtype, 0), logits(shape, dtype, 1)
    ref, grad = reference(s, t, T)
    assert_matches(soft_kl(s, t, T), ref)
    assert_matches(soft_kl_grad(s, t, T), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("T", [0.5, 1.0, 4.0])
def test_huge_logits(T, dtype):
    """Logits of +-1e4 make p and q exactly 0 and 1 in places; values and gradients stay
    finite and equal torch's."""
    s = np.array([[1e4, -1e4, 0.0], [0.0, 1.0, 2.0], [-1e4, 1e4, 1e4]], dtype=dtype)
    t = np.array([[-1e4, 1e4, 0.0], [1e4, 0.0, -1e4], [-1e4, 1e4, 1e4]], dtype=dtype)
    assert (np.exp(t[1] / dtype(T) - t[1].max() / dtype(T)) == 0).any()  # some p = 0
    ref, grad = reference(s, t, T)
    ours = soft_kl(s, t, T)
    assert np.isfinite(ours)
    assert_matches(ours, ref)
    assert_matches(soft_kl_grad(s, t, T), grad)


def test_empty_batch_is_nan_like_torch():
    """An empty batch gives 0/0 = NaN in both."""
    s = np.zeros((0, 4))
    ref, _ = reference(s, s, 2.0)
    assert math.isnan(ref.item())
    assert math.isnan(soft_kl(s, s, 2.0))
    assert soft_kl_grad(s, s, 2.0).shape == (0, 4)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("T", [1.0, 4.0])
def test_combined_loss_matches_torch(alpha, T, dtype):
    """alpha T^2 KL + (1 - alpha) cross-entropy and its gradient equal the torch composite."""
    s, t = logits((16, 7), dtype, 2), logits((16, 7), dtype, 3)
    s[0, 0] = 1e4  # a huge logit in the hard term as well
    y = np.random.default_rng(4).integers(0, 7, size=16)
    ref, grad = reference(s, t, T, y, alpha)
    loss, ours_grad = distillation_loss(s, t, y, T, alpha)
    assert_matches(loss, ref)
    assert_matches(ours_grad, grad)


def test_alpha_endpoints():
    """alpha = 1 is T^2 times the soft KL alone; alpha = 0 is the hard cross-entropy alone."""
    s, t = logits((6, 5), np.float64, 5), logits((6, 5), np.float64, 6)
    y = np.arange(6) % 5
    assert distillation_loss(s, t, y, 3.0, 1.0)[0] == pytest.approx(9 * soft_kl(s, t, 3.0))
    ce = F.cross_entropy(torch.tensor(s), torch.tensor(y)).item()
    assert distillation_loss(s, t, y, 3.0, 0.0)[0] == pytest.approx(ce, rel=1e-13)


@pytest.mark.parametrize("T", [0.0, -1.0, math.inf, math.nan])
def test_bad_temperature_is_refused(T):
    """A temperature that is not positive and finite raises a ValueError."""
    s = np.zeros((2, 3))
    for fn in (soft_kl, soft_kl_grad):
        with pytest.raises(ValueError, match="positive and finite"):
            fn(s, s, T)


@pytest.mark.parametrize("alpha", [-0.1, 1.1])
def test_bad_alpha_is_refused(alpha):
    """A weight outside [0, 1] raises a ValueError."""
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        distillation_loss(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros(2, int), 2.0, alpha)


rows = hnp.arrays(np.float64, (3, 5), elements=st.floats(-50, 50))


@settings(max_examples=50, deadline=None)
@given(rows, rows, st.floats(0.1, 100), st.floats(-100, 100))
def test_kl_is_nonnegative_zero_at_equality_and_shift_invariant(s, t, T, c):
    """KL >= 0; KL(s, s) = 0; adding a constant to a row of logits changes nothing."""
    assert soft_kl(s, t, T) >= -1e-12
    assert soft_kl(s, s, T) == pytest.approx(0, abs=1e-12)
    shifted = s + c * np.arange(3)[:, None]  # a different constant for each example
    assert soft_kl(shifted, t, T) == pytest.approx(soft_kl(s, t, T), rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(soft_kl_grad(shifted, t, T), soft_kl_grad(s, t, T),
                               rtol=1e-9, atol=1e-12)


def test_teacher_log_probabilities_work_as_logits():
    """Softening log-probabilities log P gives the same loss as softening the logits t,
    since log P = t - logsumexp(t) differs from t by a constant per example."""
    s, t = logits((5, 6), np.float64, 7), logits((5, 6), np.float64, 8)
    log_p = F.log_softmax(torch.tensor(t), dim=1).numpy()
    assert soft_kl(s, log_p, 3.0) == pytest.approx(soft_kl(s, t, 3.0), rel=1e-12)


def test_gradient_shrinks_as_one_over_t_squared():
    """T^2 times the gradient tends to (s - t)/(B N) for zero-mean logits, with an error that
    falls as 1/T: expanding softmax(z/T) to second order, T * (error) tends to
    ||(s^2 - t^2) - row mean|| / (2 B N). The next term of the expansion is smaller by a
    factor of order M / T (M = max|logit|, about 8 here), so the test allows a relative
    M / T: 8% at T = 100, 0.08% at T = 1e4 (the deviations seen are about a tenth of that)."""
    rng = np.random.default_rng(0)
    s, t = rng.normal(size=(8, 10)), 3 * rng.normal(size=(8, 10))
    s, t = s - s.mean(1, keepdims=True), t - t.mean(1, keepdims=True)
    B, N = s.shape
    limit = high_temperature_limit(s, t)
    np.testing.assert_allclose(limit, (s - t) / (B * N), rtol=1e-12, atol=1e-15)
    d = s**2 - t**2
    second = np.linalg.norm(d - d.mean(1, keepdims=True)) / (2 * B * N)
    for T in (1e2, 1e3, 1e4):
        err = np.linalg.norm(T**2 * soft_kl_grad(s, t, T) - limit)
        assert err * T == pytest.approx(second, rel=np.abs(np.r_[s, t]).max() / T)
    # without the T^2 factor the gradient itself vanishes like 1/T^2
    g = [np.linalg.norm(soft_kl_grad(s, t, T)) for T in (100.0, 1000.0)]
    assert g[0] / g[1] == pytest.approx(100, rel=0.02)


def test_high_temperature_limit_subtracts_the_means():
    """With logits whose means differ, T^2 grad tends to the centred difference, not to
    (s - t)/(B N) (softmax ignores the means)."""
    rng = np.random.default_rng(1)
    s, t = rng.normal(size=(4, 6)) + 5, rng.normal(size=(4, 6)) - 2
    B, N = s.shape
    scaled = 1e4**2 * soft_kl_grad(s, t, 1e4)
    np.testing.assert_allclose(scaled, high_temperature_limit(s, t), rtol=0, atol=1e-5)
    assert np.abs(scaled - (s - t) / (B * N)).max() > 0.2  # 7 / (B N) = 0.29 off
