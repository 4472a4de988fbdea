"""Cosine top-k retrieval against torch.nn.functional.cosine_similarity and torch.topk, with
ties, zero vectors and the eps of the norms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.fundamentals.rag import cosine_scores, retrieve, top_k
from tests.helpers import DTYPES, assert_matches, dtype_id


def torch_scores(q, P):
    """The reference: torch's cosine similarity of q with every row of P."""
    return F.cosine_similarity(torch.tensor(P), torch.tensor(q)[None], dim=1)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("n", "d"), [(1, 1), (7, 3), (500, 32)])
def test_scores_match_torch(n, d, dtype):
    """Scores equal torch's cosine_similarity for several sizes, including huge and tiny norms."""
    rng = np.random.default_rng(n)
    P = rng.normal(size=(n, d)).astype(dtype)
    P[0] *= 1e4
    q = rng.normal(size=d).astype(dtype)
    assert_matches(cosine_scores(q, P), torch_scores(q, P))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_zero_and_tiny_vectors_follow_eps(dtype):
    """A zero passage or query scores 0; a passage of norm 1e-9 < eps is divided by eps, not by
    its norm, so its score is 0.1 times the cosine (as in torch)."""
    q = np.array([1.0, 0.0], dtype)
    P = np.array([[0.0, 0.0], [1e-9, 0.0], [1e-7, 0.0]], dtype)
    ours = cosine_scores(q, P)
    assert_matches(ours, torch_scores(q, P))
    assert ours[0] == 0
    np.testing.assert_allclose(ours[1], 0.1, rtol=1e-6)
    np.testing.assert_allclose(ours[2], 1.0, rtol=1e-6)
    assert_matches(cosine_scores(np.zeros(2, dtype), P), torch_scores(np.zeros(2, dtype), P))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_overflowing_norm_scores_zero(dtype):
    """A passage whose squared norm overflows gets norm inf and scores 0, as in torch; one just
    below the overflow still scores its cosine."""
    big = 1e20 if dtype == np.float32 else 1e155
    ok = 1e15 if dtype == np.float32 else 1e150
    q = np.array([1.0, 0.0], dtype)
    P = np.array([[3.0, 4.0], [3.0, 4.0]], dtype) * np.array([[big], [ok]], dtype)
    with np.errstate(over="ignore"):
        ours = cosine_scores(q, P)
    assert ours[0] == 0
    np.testing.assert_allclose(ours[1], 0.6, rtol=1e-6)
    assert_matches(ours, torch_scores(q, P))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("k", [0, 1, 10, 300])
def test_top_k_matches_topk_and_stable_sort(k, dtype):
    """With many ties, top_k returns torch.topk's values and exactly the indices of a stable
    descending sort (ties in corpus order)."""
    s = (np.random.default_rng(k).integers(0, 20, size=300) / 20).astype(dtype)
    ours = top_k(s, k)
    values, _ = torch.topk(torch.tensor(s), k)
    np.testing.assert_array_equal(s[ours], values.numpy())
    stable = torch.sort(torch.tensor(s), descending=True, stable=True).indices[:k].numpy()
    np.testing.assert_array_equal(ours, stable)


def test_torch_topk_does_not_keep_ties_in_order():
    """torch.topk on CPU returns tied entries out of index order, so only values (and untied
    indices) can be compared with it."""
    x = torch.zeros(100)
    x[::3] = 1.0
    idx = torch.topk(x, 4).indices.tolist()
    assert idx != sorted(idx)
    assert all(i % 3 == 0 for i in idx)


def test_untied_indices_match_topk():
    """Without ties, the indices equal torch.topk's exactly."""
    s = np.random.default_rng(0).normal(size=1000)
    np.testing.assert_array_equal(top_k(s, 50), torch.topk(torch.tensor(s), 50).indices.numpy())


@pytest.mark.parametrize("k", [-1, 6])
def test_bad_k_is_refused(k):
    """k outside [0, N] raises ValueError (torch.topk raises RuntimeError)."""
    with pytest.raises(ValueError, match="k must"):
        top_k(np.zeros(5), k)
    if k > 5:
        with pytest.raises(RuntimeError):
            torch.topk(torch.zeros(5), k)


def test_nan_is_refused():
    """A NaN score raises instead of being ranked silently."""
    with pytest.raises(ValueError, match="NaN"):
        top_k(np.array([0.1, np.nan]), 1)


@settings(deadline=None, max_examples=50)
@given(st.integers(0, 10_000), st.floats(1e-3, 1e3))
def test_scores_ignore_scale(seed, c):
    """Identity: scaling a passage by c > 0 leaves its score unchanged (norms above eps)."""
    rng = np.random.default_rng(seed)
    P, q = rng.normal(size=(6, 4)), rng.normal(size=4)
    np.testing.assert_allclose(cosine_scores(q, c * P), cosine_scores(q, P), rtol=1e-12,
                               atol=1e-15)


def test_retrieve_returns_best_first():
    """retrieve returns descending scores and the passage identical to the query first."""
    rng = np.random.default_rng(1)
    P = rng.normal(size=(20, 8))
    idx, scores = retrieve(P[7], P, 5)
    assert idx[0] == 7
    assert np.all(np.diff(scores) <= 0)
