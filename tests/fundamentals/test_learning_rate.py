"""The learning rate of gradient descent on a quadratic, from
snippets/fundamentals/learning_rate.py: the bound 2/L on both sides and at equality, the best
constant rate, and the iterates against torch.optim.SGD."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.fundamentals.learning_rate import (
    best_constant_rate,
    contraction,
    make_quadratic,
    run_gd,
)
from tests.helpers import TOLERANCE

SPECTRA = [[1.0, 10.0], [0.5, 2.0, 3.0, 7.0], list(np.geomspace(0.01, 1.0, 10)), [4.0]]


def spectrum_id(lam):
    """A readable test id: the dimension and condition number."""
    return f"d{len(lam)}-kappa{max(lam) / min(lam):.0f}"


@pytest.mark.parametrize("lam", SPECTRA, ids=spectrum_id)
def test_make_quadratic_has_the_requested_eigenvalues(lam):
    """A is symmetric, with exactly the given eigenvalues, and Q's columns are its
    eigenvectors."""
    A, Q = make_quadratic(lam, seed=3)
    np.testing.assert_allclose(A, A.T, atol=1e-14)
    np.testing.assert_allclose(np.linalg.eigvalsh(A), np.sort(lam), rtol=1e-12)
    np.testing.assert_allclose(A @ Q, Q * np.asarray(lam), atol=1e-13)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("lam", SPECTRA, ids=spectrum_id)
@pytest.mark.parametrize("scale", [0.3, 1.0, 1.9])
def test_iterates_and_gradients_match_torch_sgd(lam, scale, dtype):
    """30 steps of run_gd equal torch.optim.SGD on 0.5 x^T A x, and A x equals autograd's
    gradient, at rates from 0.3/L to 1.9/L. Each step multiplies by a matrix of norm < 1, so
    rounding does not grow; 30 steps x the per-dtype tolerance bounds it."""
    A, _ = make_quadratic(lam, seed=1)
    lr = scale / max(lam)
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    x0 = np.random.default_rng(0).normal(size=len(lam)).astype(np_dtype)
    ours = run_gd(A.astype(np_dtype), x0, np_dtype(lr), 30)
    assert ours.dtype == np_dtype
    At = torch.tensor(A, dtype=dtype)
    x = torch.tensor(x0, requires_grad=True)
    opt = torch.optim.SGD([x], lr=lr)
    tol = TOLERANCE[np.dtype(np_dtype)]
    for t in range(30):
        opt.zero_grad()
        (0.5 * x @ At @ x).backward()
        np.testing.assert_allclose(A.astype(np_dtype) @ ours[t], x.grad.numpy(),
                                   rtol=30 * tol["rtol"], atol=30 * tol["atol"])
        opt.step()
        np.testing.assert_allclose(ours[t + 1], x.detach().numpy(), rtol=30 * tol["rtol"],
                                   atol=30 * tol["atol"])


def eigen_start(lam, seed):
    """The matrix, its eigenvectors and a start with a unit component along each."""
    A, Q = make_quadratic(lam, seed=seed)
    return A, Q, Q @ np.ones(len(lam))


@pytest.mark.parametrize("eps", [1e-3, 1e-2, 0.1])
@pytest.mark.parametrize("lam", SPECTRA, ids=spectrum_id)
def test_just_below_the_bound_converges_and_just_above_diverges(lam, eps):
    """At lr = 2/L (1 - eps) the distance after T steps is at most rho^T |x_0| with
    rho = max(|1 - lr mu|, 1 - 2 eps) < 1; at lr = 2/L (1 + eps) the component along the top
    eigenvector is multiplied by -(1 + 2 eps) at every step, so it grows without bound."""
    A, Q, x0 = eigen_start(lam, seed=2)
    mu, L = min(lam), max(lam)
    T = 2000
    below = run_gd(A, x0, 2 / L * (1 - eps), T)
    rho = contraction(2 / L * (1 - eps), mu, L)
    assert rho < 1
    assert np.linalg.norm(below[-1]) <= rho**T * np.linalg.norm(x0) * (1 + 1e-9) + 1e-300
    above = run_gd(A, x0, 2 / L * (1 + eps), 200)
    top = above @ Q[:, -1] if len(lam) > 1 else above[:, 0] * np.sign(Q[0, 0])
    growth = -(1 + 2 * eps)
    np.testing.assert_allclose(top, growth ** np.arange(201), rtol=1e-9)
    assert contraction(2 / L * (1 + eps), mu, L) == pytest.approx(1 + 2 * eps)


@pytest.mark.parametrize("lam", SPECTRA, ids=spectrum_id)
def test_at_exactly_two_over_l_the_top_direction_oscillates_forever(lam):
    """At lr = 2/L the component along the top eigenvector alternates between +1 and -1 (to
    rounding) for 1000 steps: it neither shrinks nor grows; every other component shrinks."""
    A, Q, x0 = eigen_start(lam, seed=4)
    L = max(lam)
    path = run_gd(A, x0, 2 / L, 1000)
    coords = path @ Q  # components along each eigenvector, columns in the order of lam
    top = int(np.argmax(lam))
    np.testing.assert_allclose(coords[:, top], (-1.0) ** np.arange(1001), atol=1e-10)
    others = [i for i in range(len(lam)) if i != top]
    if others:
        assert np.all(np.abs(coords[-1, others]) < np.abs(coords[0, others]))
    assert contraction(2 / L, min(lam), L) == 1


@pytest.mark.parametrize("lam", SPECTRA[:3], ids=spectrum_id)
def test_the_best_constant_rate_attains_kappa_minus_one_over_kappa_plus_one(lam):
    """At 2/(L + mu) the components along the extreme eigenvectors both shrink by exactly
    (kappa - 1)/(kappa + 1) per step (one flipping sign), so a start along those two shrinks
    at exactly that rate."""
    A, Q = make_quadratic(lam, seed=5)
    mu, L = min(lam), max(lam)
    lr, rho = best_constant_rate(mu, L)
    kappa = L / mu
    assert rho == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-14)
    assert contraction(lr, mu, L) == pytest.approx(rho, rel=1e-14)
    x0 = Q[:, int(np.argmin(lam))] + Q[:, int(np.argmax(lam))]
    norms = np.linalg.norm(run_gd(A, x0, lr, 50), axis=1)
    np.testing.assert_allclose(norms, np.sqrt(2) * rho ** np.arange(51), rtol=1e-9)


@settings(max_examples=200, deadline=None)
@given(mu=st.floats(1e-3, 1.0), kappa=st.floats(1.0, 1e4), scale=st.floats(1e-3, 3.0))
def test_no_constant_rate_beats_two_over_l_plus_mu(mu, kappa, scale):
    """For every rate, rho(lr) >= (kappa - 1)/(kappa + 1); rho < 1 exactly when
    0 < lr < 2/L."""
    L = mu * kappa
    best_lr, best_rho = best_constant_rate(mu, L)
    lr = scale * best_lr
    rho = contraction(lr, mu, L)
    assert rho >= best_rho - 1e-12
    assert (rho < 1) == (0 < lr < 2 / L) or abs(lr - 2 / L) < 1e-12 * (2 / L)


def test_zero_and_negative_rates_do_not_converge():
    """lr = 0 leaves x where it is (rho = 1); a negative rate climbs the loss (rho > 1)."""
    A, _, x0 = eigen_start([1.0, 10.0], seed=0)
    np.testing.assert_array_equal(run_gd(A, x0, 0.0, 5)[-1], x0)
    assert contraction(0.0, 1.0, 10.0) == 1
    assert contraction(-0.01, 1.0, 10.0) > 1
    path = run_gd(A, x0, -0.01, 50)
    assert np.linalg.norm(path[-1]) > np.linalg.norm(x0)
