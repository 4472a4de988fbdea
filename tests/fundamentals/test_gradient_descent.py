"""Gradient descent, SGD and mini-batch gradient variance from
snippets/fundamentals/gradient_descent.py, against numpy.linalg.lstsq, torch's mse_loss and
the exact variance of a random batch's mean."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.fundamentals.gradient_descent import (
    batch_gradient_spread,
    gradient,
    gradient_descent,
    loss,
    make_problem,
    predicted_variance,
    sgd,
)
from tests.helpers import DTYPES, TOLERANCE, dtype_id

SEEDS = range(8)


def curvature(X, y):
    """The smallest and largest eigenvalues (mu, L) of the Hessian 2 X^T X / N."""
    eig = np.linalg.eigvalsh(2 * X.T @ X / len(y))
    return eig[0], eig[-1]


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("n", "d", "scale"), [(1, 1, 1.0), (7, 3, 1.0), (200, 5, 1.0),
                                               (50, 4, 1e4), (50, 4, 1e-4)])
def test_loss_and_gradient_match_torch(n, d, scale, dtype):
    """The loss equals F.mse_loss and the gradient equals its autograd gradient, for several
    shapes and for inputs of size 1e4 and 1e-4 (relative to the values' own size)."""
    rng = np.random.default_rng(n + d)
    X = (rng.normal(size=(n, d)) * scale).astype(dtype)
    y = (rng.normal(size=n) * scale).astype(dtype)
    w = rng.normal(size=d).astype(dtype)
    wt = torch.tensor(w, requires_grad=True)
    ref = F.mse_loss(torch.tensor(X) @ wt, torch.tensor(y))
    ref.backward()
    tol = TOLERANCE[np.dtype(dtype)]
    ours = loss(w, X, y)
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours, ref.item(), rtol=10 * tol["rtol"], atol=0)
    g = gradient(w, X, y)
    assert g.dtype == dtype
    assert g.shape == (d,)
    # The gradient is a sum of n products: rounding grows with n and with cancellation
    # between them, so the scale is the sum of the absolute terms.
    size = 2 * np.abs(X).T @ np.abs(X @ w - y) / n
    np.testing.assert_array_less(np.abs(g - wt.grad.numpy()), 10 * tol["rtol"] * size + 1e-300)


@pytest.mark.parametrize("seed", SEEDS)
def test_gradient_descent_reaches_lstsq_within_the_derived_number_of_steps(seed):
    """With lr = 1/L every component of the gradient shrinks by at least 1 - mu/L per step, so
    the stopping rule |g| <= tol |g_0| is met within ceil(log tol / log(1 - mu/L)) steps, and
    then |w - w*| <= |g| / mu."""
    X, y = make_problem(seed=seed)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    mu, L = curvature(X, y)
    tol = 1e-10
    w, steps = gradient_descent(X, y, lr=1 / L, tol=tol)
    assert 0 < steps <= np.ceil(np.log(tol) / np.log(1 - mu / L))
    g0 = np.linalg.norm(gradient(np.zeros_like(w), X, y))
    assert np.linalg.norm(w - w_star) <= tol * g0 / mu * (1 + 1e-6)


def test_gradient_descent_in_float32_reaches_the_float64_optimum():
    """In float32 the iterates settle within rounding of the optimum: the forward error of
    least squares is about kappa * eps * |w*| (kappa ~ 14, eps 1.2e-7, so 2e-6 |w*|); the
    bound allows 50 times that."""
    X, y = make_problem()
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    L = curvature(X, y)[1]
    w, _ = gradient_descent(X.astype(np.float32), y.astype(np.float32),
                            lr=np.float32(1 / L), tol=0, max_steps=1000)
    assert w.dtype == np.float32
    assert np.linalg.norm(w - w_star) < 1e-4 * np.linalg.norm(w_star)


def test_gradient_descent_stops_at_once_at_the_optimum_and_respects_max_steps():
    """Started at a zero gradient it takes no step; with tol = 0 it takes exactly max_steps."""
    X = np.eye(3)
    w, steps = gradient_descent(X, np.zeros(3), lr=0.5)
    assert steps == 0
    assert np.all(w == 0)
    X, y = make_problem()
    assert gradient_descent(X, y, lr=0.1, tol=0, max_steps=7)[1] == 7


@pytest.mark.parametrize("seed", [0, 3])
def test_full_batch_sgd_is_gradient_descent(seed):
    """With B = N and a constant rate, each epoch is one full-batch step (up to the order of
    the sum)."""
    X, y = make_problem(seed=seed)
    L = curvature(X, y)[1]
    path = sgd(X, y, 1 / L, batch_size=len(y), epochs=20, seed=seed)
    w, _ = gradient_descent(X, y, 1 / L, tol=0, max_steps=20)
    np.testing.assert_allclose(path[-1], w, rtol=1e-12, atol=1e-14)
    assert path.shape == (21, X.shape[1])
    assert np.all(path[0] == 0)


def sgd_distances(seed):
    """Distance to the optimum after each epoch for the four runs shown on the page."""
    X, y = make_problem(seed=seed)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    L = curvature(X, y)[1]

    def dist(path):
        return np.linalg.norm(path - w_star, axis=1)

    return (dist(sgd(X, y, 0.1 / L, 1, 50, seed=seed + 100)),
            dist(sgd(X, y, 0.1 / L, 1, 50, decay=400, seed=seed + 100)),
            dist(sgd(X, y, 0.5 / L, 16, 50, decay=100, seed=seed + 100)),
            dist(sgd(X, y, 0.025 / L, 1, 50, seed=seed + 100)))


@pytest.mark.parametrize("seed", SEEDS)
def test_decaying_sgd_reaches_the_optimum_and_constant_sgd_stalls(seed):
    """Over 12 data/shuffle seeds the decaying runs ended within 0.011 (B = 1) and 0.036
    (B = 16) of the optimum, and the constant run 13 to 86 times further than B = 1
    decaying; the bounds leave a margin of 3 or more. A constant rate 4 times smaller has a
    lower floor (mean squared distance over epochs 20-50; 9 to 13 times lower, bound 2)."""
    constant, decaying, batch16, small = sgd_distances(seed)
    mu, L = curvature(*make_problem(seed=seed))
    # The page's condition for the 1/t rate, eta * tau * mu > 1, holds for both decaying runs.
    assert min(0.1 / L * 400 * mu, 0.5 / L * 100 * mu) > 1
    assert decaying[50] < 0.04
    assert batch16[50] < 0.12
    assert constant[50] > 3 * decaying[50]
    assert decaying[50] < decaying[20] < decaying[1]
    assert np.mean(constant[20:] ** 2) > 2 * np.mean(small[20:] ** 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_constant_rate_converges_when_every_example_is_fitted_exactly(seed):
    """Without noise every per-example gradient vanishes at the optimum, so constant-rate SGD
    converges to it (to rounding) instead of stalling at a floor."""
    X, y = make_problem(noise=0.0, seed=seed)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    L = curvature(X, y)[1]
    path = sgd(X, y, 0.1 / L, 1, 50, seed=seed)
    assert np.linalg.norm(path[-1] - w_star) < 1e-10


def test_per_example_gradients_at_the_optimum_average_to_zero_but_are_not_zero():
    """At w* the full gradient is 0 (to rounding) while single examples' gradients are of
    order 1: the reason a constant-rate SGD step keeps moving."""
    X, y = make_problem()
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    per_example = 2 * X * (X @ w_star - y)[:, None]
    assert np.linalg.norm(per_example.mean(axis=0)) < 1e-13
    assert np.median(np.linalg.norm(per_example, axis=1)) > 0.1


@pytest.mark.parametrize("replace", [True, False], ids=["with", "without"])
@pytest.mark.parametrize("B", [1, 4, 16, 64])
def test_measured_variance_follows_the_exact_formula(B, replace):
    """The mean over 4000 batches of |g_B - g|^2 is within 5 of its own standard errors of
    tr(Sigma)/B (times (N - B)/(N - 1) without replacement): a 5-sigma bound on an average of
    4000 independent draws, derived from the draws themselves, not from one run."""
    X, y = make_problem()
    for w in (np.zeros(X.shape[1]), np.linalg.lstsq(X, y, rcond=None)[0]):
        draws = batch_gradient_spread(X, y, w, B, replace=replace, seed=B)
        se = draws.std(ddof=1) / np.sqrt(len(draws))
        assert abs(draws.mean() - predicted_variance(X, y, w, B, replace)) < 5 * se


def test_variance_times_batch_size_is_constant_with_replacement():
    """The 1/B law: B times the measured variance agrees across B = 1..128 within 5 standard
    errors of each estimate (independent estimates, so their standard errors add in
    quadrature)."""
    X, y = make_problem()
    w = np.zeros(X.shape[1])
    scaled = []
    for B in (1, 2, 8, 32, 128):
        draws = batch_gradient_spread(X, y, w, B, seed=B) * B
        scaled.append((draws.mean(), draws.std(ddof=1) / np.sqrt(len(draws))))
    for (m1, s1), (m2, s2) in itertools.combinations(scaled, 2):
        assert abs(m1 - m2) < 5 * np.hypot(s1, s2)


@pytest.mark.parametrize("B", [1, 2, 3])
def test_with_replacement_formula_is_exact_over_every_ordered_batch(B):
    """Averaging |g_B - g|^2 over all N^B equally likely ordered batches gives exactly
    tr(Sigma)/B."""
    X, y = make_problem(n=5, d=3)
    w = np.ones(3)
    per_example = 2 * X * (X @ w - y)[:, None]
    full = per_example.mean(axis=0)
    values = [np.sum((per_example[list(b)].mean(axis=0) - full) ** 2)
              for b in itertools.product(range(5), repeat=B)]
    assert np.mean(values) == pytest.approx(predicted_variance(X, y, w, B), rel=1e-12)


@pytest.mark.parametrize("B", [1, 2, 3, 5, 6])
def test_finite_population_correction_is_exact_over_every_subset(B):
    """Averaging over all C(N, B) subsets gives exactly tr(Sigma)/B * (N - B)/(N - 1); at
    B = N it is 0."""
    X, y = make_problem(n=6, d=3)
    w = np.ones(3)
    per_example = 2 * X * (X @ w - y)[:, None]
    full = per_example.mean(axis=0)
    values = [np.sum((per_example[list(b)].mean(axis=0) - full) ** 2)
              for b in itertools.combinations(range(6), B)]
    expected = predicted_variance(X, y, w, B, replace=False)
    assert np.mean(values) == pytest.approx(expected, rel=1e-12, abs=1e-25)
    if B == 6:
        assert expected == 0


def test_full_batch_without_replacement_has_no_noise():
    """A batch of all N distinct examples is the full data: its gradient is exact."""
    X, y = make_problem()
    assert batch_gradient_spread(X, y, np.zeros(5), 200, replace=False).max() < 1e-25


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 20), d=st.integers(1, 4), seed=st.integers(0, 1000))
def test_gradient_is_the_mean_of_per_example_gradients(n, d, seed):
    """The batch gradient is the average of the examples' gradients (what makes a random
    batch's gradient unbiased), and the without-replacement variance never exceeds the
    with-replacement one."""
    rng = np.random.default_rng(seed)
    X, y, w = rng.normal(size=(n, d)), rng.normal(size=n), rng.normal(size=d)
    per_example = np.array([gradient(w, X[i : i + 1], y[i : i + 1]) for i in range(n)])
    np.testing.assert_allclose(gradient(w, X, y), per_example.mean(axis=0), rtol=1e-10,
                               atol=1e-12)
    for B in range(1, n + 1):
        assert predicted_variance(X, y, w, B, False) <= predicted_variance(X, y, w, B) + 1e-15


def test_batch_larger_than_the_data_without_replacement_is_refused():
    """Without replacement a batch cannot hold more than N distinct examples."""
    X, y = make_problem(n=10)
    with pytest.raises(ValueError, match="at most N = 10"):
        batch_gradient_spread(X, y, np.zeros(5), 11, replace=False)
    with pytest.raises(ValueError, match="at most N = 10"):
        predicted_variance(X, y, np.zeros(5), 11, replace=False)


@pytest.mark.parametrize("bad", [{"batch_size": 0}, {"batch_size": -1}, {"decay": 0},
                                 {"decay": -5}])
def test_sgd_refuses_empty_batches_and_non_positive_decay(bad):
    """batch_size < 1 (which would take no step at all) and tau <= 0 (a division by zero or
    a negative rate) raise a ValueError."""
    X, y = make_problem(n=10)
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        sgd(X, y, 0.1, epochs=1, **{"batch_size": 1, **bad})


@pytest.mark.parametrize("B", [0, -2])
def test_variance_functions_refuse_empty_batches(B):
    """A batch of B < 1 examples has no mean gradient: both functions raise a ValueError."""
    X, y = make_problem(n=10)
    for replace in (True, False):
        with pytest.raises(ValueError, match="at least 1"):
            batch_gradient_spread(X, y, np.zeros(5), B, replace=replace)
        with pytest.raises(ValueError, match="at least 1"):
            predicted_variance(X, y, np.zeros(5), B, replace=replace)


@pytest.mark.parametrize("seed", SEEDS)
def test_one_epoch_of_single_example_sgd_beats_one_full_batch_step(seed):
    """After one pass over the data (200 single-example steps against one full-batch step at
    lr = 1/L), both single-example runs are closer to the optimum than gradient descent."""
    X, y = make_problem(seed=seed)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    L = curvature(X, y)[1]
    gd_after_one = np.linalg.norm(gradient_descent(X, y, 1 / L, 0, 1)[0] - w_star)
    constant, decaying, _, _ = sgd_distances(seed)
    assert constant[1] < gd_after_one
    assert decaying[1] < gd_after_one
