"""A trained linear autoencoder spans the top-k right singular vectors of its data, and its
error approaches the sum of the discarded squared singular values."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.fundamentals.autoencoder import (
    low_rank_data,
    principal_angles,
    reconstruction_error,
    train_linear_autoencoder,
)
from tests.helpers import DTYPES, dtype_id

CASES = [(0, 1), (0, 2), (1, 2), (2, 3), (3, 2)]  # (seed, k)


@functools.cache
def fitted(seed, k, dtype=np.float64):
    X = low_rank_data(seed=seed)
    E, D = train_linear_autoencoder(X.astype(dtype), k, seed=seed)
    _, s, Vt = np.linalg.svd(X, full_matrices=False)
    return X, E.astype(np.float64), D.astype(np.float64), s, Vt


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("seed", "k"), CASES)
def test_decoder_spans_principal_subspace(seed, k, dtype):
    """The principal angles obey the bound that follows from the excess error: for any
    decoder, sum sin^2(theta) <= (L - L*) / (s_k^2 - s_{k+1}^2), and they are small."""
    X, E, D, s, Vt = fitted(seed, k, dtype)
    theta = principal_angles(D, Vt[:k].T)
    excess = reconstruction_error(X, E, D) - np.sum(s[k:] ** 2)
    assert excess >= -1e-9 * np.sum(s**2)  # no rank-k map beats the truncated SVD
    # Slack for rounding only: sin^2 from arccos is good to ~1e-15, and the float64 excess to
    # ~n d eps sum(s^2) ~ 5e-11, over a gap s_k^2 - s_{k+1}^2 of at least 10 here.
    assert np.sum(np.sin(theta) ** 2) <= max(excess, 0) / (s[k - 1] ** 2 - s[k] ** 2) + 1e-9
    # Over these cases the largest angle is below 1e-3 rad; 2e-2 leaves a 20x margin.
    assert theta.max() < 2e-2


@pytest.mark.parametrize(("seed", "k"), CASES)
def test_error_approaches_discarded_energy(seed, k):
    """After training, the squared error exceeds sum_{i>k} s_i^2 by under 1% (observed at most
    0.11% over these cases, so a 9x margin)."""
    X, E, D, s, _ = fitted(seed, k)
    optimum = np.sum(s[k:] ** 2)
    assert reconstruction_error(X, E, D) <= optimum * 1.01


def test_worked_example_numbers():
    """The page's worked example (seed 0, k = 2) is as its prose says: angles below 1e-3 rad
    ("a few ten-thousandths"; 4.4e-4 observed) and error within 0.1% of the optimum (0.07%)."""
    X, E, D, s, Vt = fitted(0, 2)
    assert principal_angles(D, Vt[:2].T).max() < 1e-3
    assert reconstruction_error(X, E, D) <= 1.001 * np.sum(s[2:] ** 2)


def test_untrained_decoder_is_far_from_the_subspace():
    """The test above can fail: a decoder after 0 steps has a large principal angle."""
    X = low_rank_data()
    E, D = train_linear_autoencoder(X, 2, steps=0)
    _, s, Vt = np.linalg.svd(X, full_matrices=False)
    assert principal_angles(D, Vt[:2].T).max() > 0.1
    assert reconstruction_error(X, E, D) > 1.5 * np.sum(s[2:] ** 2)


def test_decoder_is_not_the_pca_basis():
    """Only the span is determined: D's columns are neither orthonormal nor the singular
    vectors (D E is unchanged if D -> D A, E -> A^-1 E)."""
    _, _, D, _, Vt = fitted(0, 2)
    assert np.abs(D.T @ D - np.eye(2)).max() > 0.1
    assert np.abs(np.abs(D / np.linalg.norm(D, axis=0)) - np.abs(Vt[:2].T)).max() > 0.05


@settings(deadline=None, max_examples=40)
@given(st.floats(0.0, np.pi / 2), st.integers(0, 1000))
def test_principal_angle_of_a_rotated_line(t, seed):
    """Identity: the angle between span(u) and span(cos t u + sin t w), u orthogonal to w, is t."""
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(5, 2)))
    u, w = Q[:, :1], Q[:, 1:]
    theta = principal_angles(u, np.cos(t) * u + np.sin(t) * w)
    assert abs(theta[0] - t) < 1e-7  # arccos loses digits near 0: |d arccos| ~ eps / t


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_principal_angles_same_and_orthogonal(dtype):
    """The same space at any basis gives angles ~0; orthogonal spaces give pi/2."""
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 3)).astype(dtype)
    B = A @ rng.normal(size=(3, 3)).astype(dtype)  # same span, another basis
    assert principal_angles(A, B).max() < (1e-6 if dtype == np.float64 else 2e-3)
    eye = np.eye(6, dtype=dtype)
    np.testing.assert_allclose(principal_angles(eye[:, :2], eye[:, 2:4]), np.pi / 2, atol=1e-7)
