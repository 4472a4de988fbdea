"""Triplet margin loss and its gradients match torch.nn.functional.triplet_margin_loss."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch.nn import functional

from snippets.losses.triplet import triplet_margin_loss, triplet_margin_loss_grad
from tests.helpers import DTYPES, assert_matches, dtype_id, random_input, tensor

REDUCTIONS = [pytest.param(r, id=f"reduction-{r}") for r in ("mean", "sum", "none")]


def _check(a, p, n, reduction="sum", margin=1.0, norm=2.0, eps=1e-6, swap=False, **tol):
    ts = [tensor(v, grad=True) for v in (a, p, n)]
    ref = functional.triplet_margin_loss(*ts, margin=margin, p=norm, eps=eps, swap=swap,
                                         reduction=reduction)
    ref.sum().backward()
    ours = triplet_margin_loss(a, p, n, margin, norm, eps, swap, reduction)
    assert_matches(ours, ref, **tol)
    grads = triplet_margin_loss_grad(a, p, n, margin, norm, eps, swap, reduction)
    for g, t in zip(grads, ts, strict=True):
        assert_matches(g, t.grad, **tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True], ids=["no-swap", "swap"])
@pytest.mark.parametrize("norm", [1.0, 2.0, 3.0], ids=lambda p: f"p{p:g}")
@pytest.mark.parametrize("shape", [(1, 3), (16, 8), (30, 2), (6,), (0, 4)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_matches_torch(dtype, shape, norm, swap, reduction):
    """Values and the three gradients equal torch's for every p, swap and reduction."""
    a, p, n = (random_input(shape, dtype, seed=s) for s in (0, 1, 2))
    tol = {}
    if dtype == np.float32 and a.size:
        # m + d(a,p) - d(a,n) subtracts two distances of up to ~40 (p=1, 8 dims): rounding
        # them in a different order costs a few float32 ULPs *of the distances*, not of the
        # small result, so the absolute bound is 4 ULPs of the largest distance.
        d_max = max(np.abs(a - p).sum(-1).max(), np.abs(a - n).sum(-1).max())
        tol = {"atol": 4 * float(np.spacing(np.float32(d_max)))}
    _check(a, p, n, reduction, margin=1.5, norm=norm, swap=swap, **tol)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype):
    """Embeddings of size 1e4, a swap tie (gradient halved) and coincident points."""
    a = np.array([[1e4, -1e4], [0.0, 0.0], [1.0, 1.0]], dtype=dtype)
    p = np.array([[-1e4, 1e4], [0.0, 0.0], [1.0, 1.0]], dtype=dtype)  # row 2: p == a: tie
    n = np.array([[1e4, 1e4], [0.5, 0.0], [1.0, 1.0]], dtype=dtype)  # row 3: all equal
    for swap in (False, True):
        _check(a, p, n, swap=swap)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_kink_counts_as_active(dtype):
    """m + d(a,p) - d(a,n) = 0 exactly: like torch's clamp_min, the gradient is not zero."""
    a, p, n = (np.array([[v, 0.0]], dtype=dtype) for v in (0.0, 1.0, 2.0))
    _check(a, p, n, eps=0.0, rtol=0, atol=0)
    assert triplet_margin_loss_grad(a, p, n, eps=0.0)[2][0, 0] == -1  # pushes n away


@settings(max_examples=50, deadline=None)
@given(x=arrays(np.float64, (3, 4, 3), elements=st.floats(-100, 100)))
def test_swap_never_lowers_the_loss(x):
    """min(d(a,n), d(p,n)) <= d(a,n), so swapping can only raise each triplet's loss."""
    plain = triplet_margin_loss(*x, reduction="none")
    swapped = triplet_margin_loss(*x, swap=True, reduction="none")
    assert np.all(swapped >= plain)
