"""Noise injection equals a ridge penalty in expectation; ensemble variance follows
rho s^2 + (1 - rho) s^2 / k; the ambiguity identity; augmentation and nested models."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.regularization.noise_and_ensembles import (
    ambiguity_decomposition,
    augment,
    correlated_errors,
    ensemble_variance,
    expected_noisy_mse,
    expected_noisy_mse_grad,
    gaussian_cubature,
    mse,
    noisy_mse_variance,
)
from tests.helpers import DTYPES, assert_matches, dtype_id

Z = 5.0  # Monte Carlo means are judged at 5 standard errors (normal approximation, M >= 1e4)


def problem(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = rng.normal(size=d)
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)
    return X, y, w, 0.5


def torch_expected_noisy_mse(X, y, w, b, sigma):
    """E over the noise via the cubature points, and its autograd gradient in w and b."""
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    points = torch.tensor(gaussian_cubature(X.shape[1], sigma)).to(Xt.dtype)
    value = torch.stack([((yt - (Xt + e) @ wt - bt) ** 2).mean() for e in points]).mean()
    value.backward()
    return value, wt.grad, bt.grad


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("n", "d"), [(1, 1), (7, 1), (1, 4), (50, 5)])
@pytest.mark.parametrize("sigma", [0.0, 0.3, 2.0])
def test_formula_and_gradient_match_torch_on_the_exact_expectation(n, d, sigma, dtype):
    """MSE + sigma^2 |w|^2 and its gradient equal torch autograd of the exact Gaussian
    expectation of the noisy MSE (cubature), in float64 and float32."""
    X, y, w, b = problem(n, d)
    X, y, w, b = X.astype(dtype), y.astype(dtype), w.astype(dtype), dtype(b)
    value, gw, gb = torch_expected_noisy_mse(X, y, w, b, sigma)
    assert_matches(np.asarray(expected_noisy_mse(X, y, w, b, dtype(sigma))), value)
    ours_w, ours_b = expected_noisy_mse_grad(X, y, w, b, dtype(sigma))
    assert_matches(ours_w, gw)
    assert_matches(np.asarray(ours_b), gb)


@given(hnp.arrays(np.float64, (4, 4), elements=st.floats(-10, 10)),
       hnp.arrays(np.float64, 4, elements=st.floats(-10, 10)),
       st.floats(0.01, 10))
def test_cubature_is_exact_for_quadratics(a, lin, sigma):
    """Averaging q(e) = e'Ae + lin'e over the 2d points gives sigma^2 trace(A) exactly."""
    points = gaussian_cubature(4, sigma)
    q = np.einsum("ki,ij,kj->k", points, a, points) + points @ lin
    expected = sigma**2 * np.trace(a)
    size = 4 * sigma**2 * np.abs(a).sum() + 2 * sigma * np.abs(lin).sum()  # largest |q|
    np.testing.assert_allclose(q.mean(), expected, rtol=1e-12, atol=1e-14 * size)


def monte_carlo_noisy_mse(X, y, w, b, sigma, draws, seed):
    eps = sigma * np.random.default_rng(seed).normal(size=(draws, *X.shape))
    return np.mean((y - (X + eps) @ w - b) ** 2, axis=1)  # (draws,)


@pytest.mark.parametrize("sigma", [0.1, 0.3, 1.0])
def test_monte_carlo_mean_within_five_standard_errors(sigma):
    """The mean of 20 000 noisy MSEs is within 5 exact standard errors of MSE + sigma^2|w|^2."""
    X, y, w, b = problem(50, 5)
    noisy = monte_carlo_noisy_mse(X, y, w, b, sigma, 20_000, seed=1)
    se = np.sqrt(noisy_mse_variance(X, y, w, b, sigma) / noisy.size)
    assert abs(noisy.mean() - expected_noisy_mse(X, y, w, b, sigma)) <= Z * se


def test_the_bound_catches_a_wrong_penalty():
    """Penalties sigma |w|^2, sigma^2 |w|^2 / 2 and none fall outside 5 standard errors."""
    X, y, w, b = problem(50, 5)
    sigma = 0.3
    noisy = monte_carlo_noisy_mse(X, y, w, b, sigma, 20_000, seed=1)
    se = np.sqrt(noisy_mse_variance(X, y, w, b, sigma) / noisy.size)
    for wrong in (sigma * (w @ w), sigma**2 * (w @ w) / 2, 0.0):
        assert abs(noisy.mean() - (mse(X, y, w, b) + wrong)) > Z * se


def test_noisy_mse_variance_against_gauss_hermite():
    """The variance formula equals E[L^2] - E[L]^2 from exact Gauss-Hermite quadrature, where
    L = mean_i (r_i - u_i)^2 and u_i = w'eps_i ~ N(0, sigma^2 |w|^2) independently (n = 2)."""
    X, y, w, b = problem(2, 3)
    sigma = 0.7
    r = y - X @ w - b
    s = sigma * np.sqrt(w @ w)
    nodes, weights = np.polynomial.hermite_e.hermegauss(6)  # exact up to degree 11
    weights = weights / weights.sum()
    moments = np.zeros(2)
    for (u1, p1), (u2, p2) in itertools.product(zip(nodes, weights, strict=True), repeat=2):
        loss = ((r[0] - s * u1) ** 2 + (r[1] - s * u2) ** 2) / 2
        moments += p1 * p2 * np.array([loss, loss**2])
    np.testing.assert_allclose(noisy_mse_variance(X, y, w, b, sigma),
                               moments[1] - moments[0] ** 2, rtol=1e-12)
    np.testing.assert_allclose(expected_noisy_mse(X, y, w, b, sigma), moments[0], rtol=1e-12)


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.8, 1.0])
@pytest.mark.parametrize("k", [1, 2, 5, 25])
def test_ensemble_variance_within_five_standard_errors(rho, k):
    """The mean square of the averaged errors is within 5 SE of rho s^2 + (1-rho) s^2 / k; the
    average is N(0, v), so the SE of a mean of n squares is exactly v sqrt(2/n)."""
    n, sigma = 100_000, 1.5
    e = correlated_errors(n, k, sigma, rho, np.random.default_rng(10 * k + int(10 * rho)))
    v = ensemble_variance(sigma**2, rho, k)
    assert abs(np.mean(e.mean(axis=1) ** 2) - v) <= Z * v * np.sqrt(2 / n)


def test_correlated_errors_have_the_stated_correlation():
    """Each member has variance sigma^2 and each pair correlation rho (within 5 SE)."""
    n, rho = 200_000, 0.6
    e = correlated_errors(n, 3, 1.0, rho, np.random.default_rng(0))
    c = np.corrcoef(e.T)
    se = (1 - rho**2) / np.sqrt(n)  # standard error of a sample correlation of normals
    assert np.abs(c[np.triu_indices(3, 1)] - rho).max() <= Z * se
    assert np.abs(e.var(axis=0) - 1).max() <= Z * np.sqrt(2 / n)


def test_ensemble_variance_limits():
    """k = 1 gives sigma^2; rho = 0 gives sigma^2 / k; rho = 1 gives sigma^2; large k -> rho s^2."""
    assert ensemble_variance(2.0, 0.4, 1) == 2.0
    assert ensemble_variance(2.0, 0.0, 8) == 0.25
    assert ensemble_variance(2.0, 1.0, 8) == 2.0
    np.testing.assert_allclose(ensemble_variance(2.0, 0.4, 10**9), 0.8, rtol=1e-8)


def test_correlated_errors_refuse_rho_outside_unit_interval():
    """rho < 0 or rho > 1 cannot be built from a shared and an own part: ValueError."""
    for rho in (-0.1, 1.1):
        with pytest.raises(ValueError, match="rho"):
            correlated_errors(10, 3, 1.0, rho, np.random.default_rng(0))


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 10)),
                  elements=st.floats(-100, 100)),
       st.integers(0, 2**32 - 1))
def test_ambiguity_identity(preds, seed):
    """(mean f - y)^2 = mean (f_k - y)^2 - mean (f_k - mean f)^2, so the ensemble is never worse
    than its average member."""
    y = np.random.default_rng(seed).normal(size=preds.shape[1]) * 10
    ens, members, ambiguity = ambiguity_decomposition(preds, y)
    scale = np.mean((preds - y) ** 2) + 1
    np.testing.assert_allclose(ens, members - ambiguity, rtol=0, atol=1e-12 * scale)
    assert ens <= members + 1e-12 * scale
    assert ambiguity >= 0


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_ambiguity_identity_in_both_precisions(dtype):
    """The identity holds to rounding in float64 and float32, and results keep the dtype."""
    rng = np.random.default_rng(0)
    preds, y = rng.normal(size=(20, 200)).astype(dtype), rng.normal(size=200).astype(dtype)
    ens, members, ambiguity = ambiguity_decomposition(preds, y)
    assert ens.dtype == dtype
    assert_matches(np.asarray(ens), np.asarray(members - ambiguity))


def test_augment_is_a_flip_and_a_shifted_crop():
    """Each output is the image or torch.flip of it, shifted by at most pad with zero fill."""
    image = np.arange(1.0, 3 * 6 * 5 + 1).reshape(3, 6, 5)  # (C, H, W), no zeros
    rng = np.random.default_rng(0)
    flipped = torch.flip(torch.tensor(image), dims=[-1]).numpy()
    seen = set()
    for _ in range(200):
        out = augment(image, rng, pad=2)
        assert out.shape == image.shape
        matches = []
        for source, name in ((image, "same"), (flipped, "flip")):
            padded = np.pad(source, [(0, 0), (2, 2), (2, 2)])
            for i, j in itertools.product(range(5), range(5)):
                if np.array_equal(padded[:, i : i + 6, j : j + 5], out):
                    matches.append((name, i, j))
        assert len(matches) == 1
        seen.add(matches[0][0])
    assert seen == {"same", "flip"}


def test_augment_with_no_padding_is_identity_or_flip():
    """pad = 0 leaves only the flip: every output is the image or its mirror."""
    image = np.arange(12.0).reshape(3, 4)
    rng = np.random.default_rng(1)
    for _ in range(20):
        out = augment(image, rng, pad=0)
        assert np.array_equal(out, image) or np.array_equal(out, image[:, ::-1])


@pytest.mark.parametrize("seed", range(5))
def test_training_error_never_increases_with_degree(seed):
    """Polynomials of degree k are among those of degree k + 1 (nested least squares), so the
    training MSE of the best fit cannot increase with the degree."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, 20)
    y = np.sin(3 * x) + 0.3 * rng.normal(size=20)
    cheb = np.polynomial.chebyshev
    fits = [np.mean((cheb.chebval(x, cheb.chebfit(x, y, k)) - y) ** 2) for k in range(16)]
    assert np.all(np.diff(fits) <= 1e-10)
