"""Contrastive loss matches the Hadsell et al. formula on torch's pairwise_distance."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional

from snippets.losses.contrastive import contrastive_loss, contrastive_loss_grad
from tests.helpers import DTYPES, assert_matches, dtype_id, random_input, tensor
from tests.losses import _ranking_refs as refs

REDUCTIONS = [pytest.param(r, id=f"reduction-{r}") for r in ("mean", "sum", "none")]


def _check(x1, x2, y, margin, reduction, eps=1e-6, **tol):
    t1, t2 = tensor(x1, grad=True), tensor(x2, grad=True)
    ref = refs.contrastive(t1, t2, tensor(y), margin, eps, reduction)
    ref.sum().backward()
    g1, g2 = contrastive_loss_grad(x1, x2, y, margin, eps, reduction)
    assert_matches(contrastive_loss(x1, x2, y, margin, eps, reduction), ref, **tol)
    assert_matches(g1, t1.grad, **tol)
    assert_matches(g2, t2.grad, **tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.5, 2.0], ids=lambda m: f"margin-{m}")
@pytest.mark.parametrize("shape", [(1, 3), (16, 8), (40, 1), (5,), (0, 4)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_matches_reference(dtype, shape, margin, reduction):
    """Values and gradients equal autograd of the formula, batched, unbatched and empty."""
    x1 = random_input(shape, dtype, seed=0, scale=0.5)
    x2 = random_input(shape, dtype, seed=1, scale=0.5)
    y = (np.random.default_rng(2).random(shape[:-1]) < 0.5).astype(dtype)
    _check(x1, x2, y, margin, reduction)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype):
    """Identical pairs, pairs 1e4 apart, and a zero distance with eps = 0 (gradient 0)."""
    x1 = np.array([[0.0, 0.0], [1e4, -1e4], [2.0, 3.0], [2.0, 3.0]], dtype=dtype)
    x2 = np.array([[0.0, 0.0], [-1e4, 1e4], [2.0, 3.0], [2.0, 3.0]], dtype=dtype)
    y = np.array([1.0, 0.0, 1.0, 0.0], dtype=dtype)
    _check(x1, x2, y, 1.0, "sum")
    _check(x1, x2, y, 1.0, "sum", eps=0.0)


def test_eps_is_added_like_pairwise_distance():
    """The distance is ||x1 - x2 + eps||, as torch's: identical points sit sqrt(D) eps apart."""
    x = np.zeros((1, 4))
    d = functional.pairwise_distance(torch.tensor(x), torch.tensor(x)).item()
    assert d == pytest.approx(2e-6, rel=1e-12)
    dissimilar = np.zeros(1)
    assert contrastive_loss(x, x, dissimilar) == pytest.approx(0.5 * (1 - d) ** 2, rel=1e-12)
    assert contrastive_loss(x, x, dissimilar, eps=0.0) == 0.5


@settings(max_examples=50, deadline=None)
@given(d=st.floats(0, 10), margin=st.floats(0.1, 5))
def test_dissimilar_pairs_beyond_margin_cost_nothing(d, margin):
    """For y = 0 the loss is 0.5 max(0, m - D)^2: zero once the pair is m apart (eps = 0)."""
    x1, x2 = np.array([[0.0, 0.0]]), np.array([[d, 0.0]])
    loss = contrastive_loss(x1, x2, np.zeros(1), margin, eps=0.0)
    np.testing.assert_allclose(loss, 0.5 * max(margin - d, 0) ** 2, rtol=1e-12, atol=1e-12)
