"""Polynomial fits of growing degree from snippets/fundamentals/generalization.py: the fit
against torch.linalg.lstsq, training error non-increasing in the degree, and a U-shaped
validation error, over many seeds."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.polynomial.legendre import legvander

from snippets.fundamentals.generalization import (
    error_curves,
    fit_polynomial,
    make_data,
    predict,
)

DEGREES = range(1, 16)
SEEDS = range(40)
NOISE_VAR = 0.3**2


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("degree", [0, 1, 3, 8, 15])
@pytest.mark.parametrize("seed", [0, 6])
def test_fit_matches_torch_lstsq(seed, degree, dtype):
    """Predictions of our QR least squares equal those of torch.linalg.lstsq in the same
    basis and dtype, within 20 cond(Phi) eps relative to the largest prediction. The
    worst-case bound for the coefficients has a cond^2 term (the residual is not 0), which
    for seed 0 at degree 15 (cond 2400) would allow a relative error of 7 in float32, a test
    that cannot fail; measured over these 20 cases the predictions differ by at most
    5.6 cond eps, so 20 leaves a margin above 3."""
    x, y, xv, _ = (a.astype(dtype) for a in make_data(seed=seed))
    w = fit_polynomial(x, y, degree)
    assert w.dtype == dtype
    assert w.shape == (degree + 1,)
    ours = predict(w, xv)
    Phi = torch.tensor(legvander(x, degree))
    ref_w = torch.linalg.lstsq(Phi, torch.tensor(y)[:, None], driver="gelsd").solution[:, 0]
    ref = (torch.tensor(legvander(xv, degree)) @ ref_w).numpy()
    cond = np.linalg.cond(legvander(x.astype(np.float64), degree))
    eps = np.finfo(dtype).eps
    assert np.abs(ours - ref).max() <= 20 * cond * eps * np.abs(ref).max()


@pytest.mark.parametrize("degree", [12, 20])
def test_more_coefficients_than_points_is_refused(degree):
    """p + 1 > n coefficients cannot be fitted uniquely from n points: a clear ValueError."""
    x, y, _, _ = make_data(n_train=12)
    with pytest.raises(ValueError, match="at most n - 1 = 11"):
        fit_polynomial(x, y, degree)


def test_degree_n_minus_one_interpolates():
    """With as many coefficients as points the polynomial passes through every training
    point: training error 0 to rounding."""
    x, y, _, _ = make_data(n_train=12)
    w = fit_polynomial(x, y, 11)
    np.testing.assert_allclose(predict(w, x), y, atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_training_error_never_rises_with_the_degree(seed):
    """Nested models: every polynomial of degree p is one of degree p + 1, so the best
    training error can only fall (to rounding)."""
    train, _ = error_curves(*make_data(seed=seed), DEGREES)
    assert np.all(np.diff(train) <= 1e-12)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(17, 40), seed=st.integers(0, 10_000), noise=st.floats(0.0, 2.0))
def test_training_error_is_non_increasing_for_any_data(n, seed, noise):
    """The same holds for any sample size, noise level and draw."""
    train, _ = error_curves(*make_data(n_train=n, n_val=10, noise=noise, seed=seed), DEGREES)
    assert np.all(np.diff(train) <= 1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_validation_error_is_u_shaped(seed):
    """Over 40 seeds the lowest validation error was at degree 3 to 8, degree 1 had at least
    1.77 times it and degree 15 at least 5.8 times it. The bounds leave margins: minimum at
    degree 2 to 10, at least 1.3 and 2 times. The minimum cannot beat the noise: its
    expectation is at least sigma^2, and a mean of 500 squared errors has a relative spread of
    about sqrt(2/500) = 6 %, so 0.8 sigma^2 is more than 3 spreads below."""
    _, val = error_curves(*make_data(seed=seed), DEGREES)
    best = int(np.argmin(val)) + 1
    assert 2 <= best <= 10
    assert val[0] > 1.3 * val.min()
    assert val[-1] > 2 * val.min()
    assert val.min() > 0.8 * NOISE_VAR


@pytest.mark.parametrize("seed", SEEDS)
def test_gap_is_small_when_underfitting_and_large_when_overfitting(seed):
    """At degree 1 the training error itself is high (at least 0.086 over 40 seeds, bound
    0.06: the line cannot follow sin(3x)); at degree 15 validation exceeds training by at
    least 0.69 (bound 0.3), against at most 0.24 at degree 1."""
    train, val = error_curves(*make_data(seed=seed), DEGREES)
    assert train[0] > 0.06
    assert val[-1] - train[-1] > 0.3
    assert val[-1] - train[-1] > val[0] - train[0]


def test_more_training_data_shrinks_overfitting():
    """For degree 15, the validation error falls as the training set grows from 20 to 200
    points (median over 10 seeds), towards the noise level."""
    medians = []
    for n in (20, 50, 200):
        vals = [error_curves(*make_data(n_train=n, seed=s), [15])[1][0] for s in range(10)]
        medians.append(np.median(vals))
    assert medians[0] > medians[1] > medians[2]
    assert medians[2] < 1.5 * NOISE_VAR


def test_degree_15_validation_error_spans_many_orders_of_magnitude():
    """The page's description of the 40 draws: degree 15's validation error ranges from below
    1 to above 1e10, and the Legendre basis is far better conditioned than powers of x for
    the page's data (about 95 against about 1e6)."""
    vals = [error_curves(*make_data(seed=s), [15])[1][0] for s in SEEDS]
    assert min(vals) < 1
    assert max(vals) > 1e10
    x = make_data(seed=6)[0]
    assert 50 < np.linalg.cond(legvander(x, 15)) < 200
    assert 3e5 < np.linalg.cond(np.vander(x, 16, increasing=True)) < 3e6
