"""The family page's demonstrations: ridge regression matches torch's least squares and trades
training error for validation error; batch normalization matches torch's and its noise on one
example shrinks like 1/sqrt(B)."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.polynomial.legendre import legvander

from snippets.regularization.index import (
    batch_normalize,
    bn_noise,
    fit_ridge,
    make_data,
    mse,
)
from tests.helpers import DTYPES, TOLERANCE, assert_matches, dtype_id

X_TRAIN, Y_TRAIN, X_VAL, Y_VAL = make_data()
LAMS = (0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)


def torch_ridge(x, y, lam, dtype, degree=12):
    """Ridge as torch least squares: rows Φ/√n with targets y/√n, and √λ·I with targets 0."""
    n = len(x)
    rows = np.vstack([legvander(x, degree) / np.sqrt(n), np.sqrt(lam) * np.eye(degree + 1)])
    rhs = np.concatenate([y / np.sqrt(n), np.zeros(degree + 1)])
    sol = torch.linalg.lstsq(torch.tensor(rows.astype(dtype)),
                             torch.tensor(rhs.astype(dtype))[:, None]).solution
    return sol[:, 0].numpy()


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("lam", LAMS)
def test_ridge_matches_torch_lstsq(lam, dtype):
    """Our normal-equation solution equals torch's least squares on the extra rows. The normal
    equations square the condition number κ of the rows: the tolerance is 10 κ² times the
    dtype's epsilon, relative to max |w| (κ² ≈ 2e5 at λ = 0, 1e2 at λ = 0.01)."""
    ours = fit_ridge(X_TRAIN.astype(dtype), Y_TRAIN.astype(dtype), lam)
    ref = torch_ridge(X_TRAIN, Y_TRAIN, lam, dtype)
    assert ours.dtype == np.dtype(dtype)
    a = legvander(X_TRAIN, 12).T @ legvander(X_TRAIN, 12) / len(X_TRAIN) + lam * np.eye(13)
    bound = 10 * np.linalg.cond(a) * np.finfo(dtype).eps * np.abs(ref).max()
    np.testing.assert_allclose(ours, ref, rtol=0, atol=bound)


def test_negative_strength_refused():
    """λ < 0 or NaN is not a penalty: fit_ridge raises ValueError."""
    for lam in (-0.1, float("nan")):
        with pytest.raises(ValueError, match=">= 0"):
            fit_ridge(X_TRAIN, Y_TRAIN, lam)


def test_ridge_gradient_is_zero_at_its_solution():
    """torch's autograd gradient of (1/n)‖Φw − y‖² + λ‖w‖² vanishes at our solution."""
    for lam in LAMS[1:]:
        w = torch.tensor(fit_ridge(X_TRAIN, Y_TRAIN, lam), requires_grad=True)
        phi = torch.tensor(legvander(X_TRAIN, 12))
        loss = ((phi @ w - torch.tensor(Y_TRAIN)) ** 2).mean() + lam * (w * w).sum()
        loss.backward()
        assert w.grad.abs().max() < 1e-10


@given(st.floats(0, 10), st.floats(0, 10))
def test_more_penalty_means_higher_training_error_and_smaller_weights(lam1, lam2):
    """Ridge: training error is non-decreasing and ‖w‖ non-increasing in λ (a theorem)."""
    lo, hi = sorted((lam1, lam2))
    w_lo, w_hi = fit_ridge(X_TRAIN, Y_TRAIN, lo), fit_ridge(X_TRAIN, Y_TRAIN, hi)
    slack = 1e-9
    assert mse(w_lo, X_TRAIN, Y_TRAIN) <= mse(w_hi, X_TRAIN, Y_TRAIN) + slack
    assert np.linalg.norm(w_hi) <= np.linalg.norm(w_lo) + slack


def test_demo_gap_and_its_cure():
    """On the page's data: without a penalty the validation error is over 100 times the
    training error; the best λ of the grid is neither 0 nor the largest, and cuts it by over
    100 times."""
    train = [mse(fit_ridge(X_TRAIN, Y_TRAIN, lam), X_TRAIN, Y_TRAIN) for lam in LAMS]
    val = [mse(fit_ridge(X_TRAIN, Y_TRAIN, lam), X_VAL, Y_VAL) for lam in LAMS]
    assert val[0] > 100 * train[0]
    best = int(np.argmin(val))
    assert 0 < best < len(LAMS) - 1
    assert val[best] < val[0] / 100
    assert all(a <= b for a, b in itertools.pairwise(train))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", [(2, 3), (32, 5), (64, 1)], ids=str)
@pytest.mark.parametrize("mean", [0.0, 3.0, 1e4])
def test_batch_normalize_matches_torch(shape, dtype, mean):
    """Batch normalization in training mode agrees with torch.nn.functional.batch_norm, also
    for a large mean. Subtracting a mean of 1e4 from values spread by 2 loses about
    log2(1e4 / 2) bits: the tolerance is the dtype's, times that ratio."""
    x = np.random.default_rng(0).normal(mean, 2.0, size=shape).astype(dtype)
    ref = torch.nn.functional.batch_norm(torch.tensor(x), None, None, training=True, eps=1e-5)
    tol = TOLERANCE[np.dtype(dtype)]
    factor = max(1.0, mean / 2.0)
    assert_matches(batch_normalize(x), ref, rtol=tol["rtol"] * factor,
                   atol=tol["atol"] * factor)


@pytest.mark.parametrize("x0", [0.0, 1.0])
@pytest.mark.parametrize("batch_size", [16, 64, 256])
def test_bn_noise_shrinks_like_one_over_sqrt_b(batch_size, x0):
    """The example's normalized value varies with std ≈ sqrt((1 + x0²/2) / B): its batch mean
    has variance about 1/B and its batch std, for normal data, about 1/(2B). The first-order
    formula (for a typical example, |x0| <= 1, and B >= 16) and 2000 draws (std error 1.6%)
    are allowed 10%."""
    expected = np.sqrt((1 + x0**2 / 2) / batch_size)
    assert abs(bn_noise(batch_size, x0=x0) / expected - 1) < 0.10
