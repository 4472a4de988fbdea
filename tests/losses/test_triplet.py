"""Triplet margin loss, its gradients and its distance match torch's triplet_margin_loss and
pairwise_distance, for every norm order p >= 1 including p = inf."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch.nn import functional

from snippets.losses.triplet import (
    pairwise_distance,
    pairwise_distance_grad,
    triplet_margin_loss,
    triplet_margin_loss_grad,
)
from tests.helpers import DTYPES, assert_matches, dtype_id, random_input, tensor

REDUCTIONS = [pytest.param(r, id=f"reduction-{r}") for r in ("mean", "sum", "none")]
NORMS = [pytest.param(p, id=f"p{p:g}") for p in (1.0, 1.5, 2.0, 3.0, np.inf)]


def _check(a, pos, neg, reduction="sum", margin=1.0, norm=2.0, eps=1e-6, swap=False, **tol):
    ts = [tensor(v, grad=True) for v in (a, pos, neg)]
    ref = functional.triplet_margin_loss(*ts, margin=margin, p=norm, eps=eps, swap=swap,
                                         reduction=reduction)
    ref.sum().backward()
    ours = triplet_margin_loss(a, pos, neg, margin, norm, eps, swap, reduction)
    assert_matches(ours, ref, **tol)
    grads = triplet_margin_loss_grad(a, pos, neg, margin, norm, eps, swap, reduction)
    for g, t in zip(grads, ts, strict=True):
        assert_matches(g, t.grad, **tol)


def _distance_tolerance(dtype, *points):
    """float32 absolute bound for m + d(a, x+) - d(a, x-): it subtracts two distances, so
    rounding them in a different order costs a few float32 ULPs *of the distances*, not of
    the small result. 4 ULPs of the largest L1 distance (an upper bound for every p >= 1)."""
    if dtype != np.float32 or not points[0].size:
        return {}
    a = points[0]
    d_max = max(np.abs(a - x).sum(-1).max() for x in points[1:])
    return {"atol": 4 * float(np.spacing(np.float32(d_max)))}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True], ids=["no-swap", "swap"])
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("shape", [(1, 3), (16, 8), (30, 2), (6,), (0, 4)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_matches_torch(dtype, shape, norm, swap, reduction):
    """Values and the three gradients equal torch's for p in {1, 1.5, 2, 3, inf}, with and
    without the swap, every reduction, batched, unbatched and empty."""
    a, pos, neg = (random_input(shape, dtype, seed=s) for s in (0, 1, 2))
    tol = _distance_tolerance(dtype, a, pos, neg)
    _check(a, pos, neg, reduction, margin=1.5, norm=norm, swap=swap, **tol)


@pytest.mark.parametrize("eps", [0.0, 1e-6, 1e-3, -1e-3], ids=lambda e: f"eps-{e:g}")
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_distance_matches_pairwise_distance(dtype, norm, eps):
    """pairwise_distance and its gradient equal torch's for every p and eps (added to each
    component of the difference, as torch does), dtype preserved."""
    x1, x2 = random_input((12, 5), dtype, seed=3), random_input((12, 5), dtype, seed=4)
    t1 = tensor(x1, grad=True)
    ref = functional.pairwise_distance(t1, tensor(x2), p=norm, eps=eps)
    ref.sum().backward()
    d, u = pairwise_distance(x1, x2, norm, eps)
    assert_matches(d, ref)
    assert_matches(pairwise_distance_grad(u, d, norm), t1.grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_max_norm_ties_share_the_gradient(dtype):
    """p = inf: the gradient goes to the largest |u_i|, split equally between ties; identical
    points (u = eps everywhere) tie in every component, as in torch."""
    x1 = np.array([[3.0, -4.0, 1.0], [4.0, -4.0, 4.0], [0.0, 0.0, 0.0]], dtype=dtype)
    x2 = np.zeros_like(x1)
    for eps in (0.0, 1e-6):
        t1 = tensor(x1, grad=True)
        functional.pairwise_distance(t1, tensor(x2), p=np.inf, eps=eps).sum().backward()
        d, u = pairwise_distance(x1, x2, np.inf, eps)
        assert_matches(pairwise_distance_grad(u, d, np.inf), t1.grad)
    np.testing.assert_allclose(pairwise_distance_grad(u, d, np.inf)[2], 1 / 3, rtol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype):
    """Embeddings of size 1e4, a swap tie (gradient halved), coincident points, and points
    differing by a millionth of their size (the differences are exact, no cancellation)."""
    a = np.array([[1e4, -1e4], [0.0, 0.0], [1.0, 1.0], [3.0, -7.0]], dtype=dtype)
    pos = np.array([[-1e4, 1e4], [0.0, 0.0], [1.0, 1.0], [3.000003, -7.0]], dtype=dtype)
    neg = np.array([[1e4, 1e4], [0.5, 0.0], [1.0, 1.0], [3.0, -7.000007]], dtype=dtype)
    for norm in (1.0, 2.0, 3.0, np.inf):
        for swap in (False, True):
            _check(a, pos, neg, norm=norm, swap=swap)
            _check(a, pos, neg, norm=norm, swap=swap, eps=0.0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_kink_counts_as_active(dtype):
    """m + d(a,x+) - d(a,x-) = 0 exactly: like torch's clamp_min, the gradient is not zero."""
    a, pos, neg = (np.array([[v, 0.0]], dtype=dtype) for v in (0.0, 1.0, 2.0))
    _check(a, pos, neg, eps=0.0, rtol=0, atol=0)
    assert triplet_margin_loss_grad(a, pos, neg, eps=0.0)[2][0, 0] == -1  # pushes x- away


@pytest.mark.parametrize("norm", NORMS)
def test_nan_gives_nan_for_its_triplet(norm):
    """A NaN coordinate: NaN loss as torch gives; NaN gradients for that triplet for every p
    (torch's are NaN for p = 1.5, 2, 3 but 0 for p = 1 and inf); other triplets unaffected."""
    a = np.array([[np.nan, 0.5], [1.0, 2.0]])
    pos, neg = np.zeros((2, 2)), np.ones((2, 2))
    ts = [tensor(v, grad=True) for v in (a, pos, neg)]
    ref = functional.triplet_margin_loss(*ts, p=norm, reduction="none")
    ref.sum().backward()
    assert_matches(triplet_margin_loss(a, pos, neg, p=norm, reduction="none"), ref)
    grads = triplet_margin_loss_grad(a, pos, neg, p=norm, reduction="none")
    for g, t in zip(grads, ts, strict=True):
        assert np.all(np.isnan(g[0]))
        assert_matches(g[1], t.grad[1])
        if norm in (1.5, 2.0, 3.0):
            assert torch.isnan(t.grad[0]).all()
        else:
            assert (t.grad[0] == 0).all()


def test_large_entries_overflow_like_torch():
    """No rescaling inside the norm, as in torch: |u|^p overflows to inf in both (numpy with
    a RuntimeWarning); the max norm of p = inf cannot overflow."""
    for dtype, big in ((np.float64, 1e200), (np.float32, 1e20)):
        x1, x2 = np.array([[big, big]], dtype=dtype), np.zeros((1, 2), dtype=dtype)
        for norm in (2.0, 3.0):
            ref = functional.pairwise_distance(tensor(x1), tensor(x2), p=norm)
            assert torch.isinf(ref).all()
            with pytest.warns(RuntimeWarning, match="overflow"):  # numpy says so; torch not
                d = pairwise_distance(x1, x2, norm)[0]
            assert_matches(d, ref)
        assert pairwise_distance(x1, x2, np.inf)[0][0] == dtype(big)  # the max cannot


def test_tiny_differences_underflow_like_torch():
    """No rescaling either way: for p = 2, |u|^2 underflows, so float64 differences of 1e-170
    give a distance of exactly 0 in torch and here; p = 1 and the max norm keep them."""
    x1, x2 = np.array([[3e-170, 4e-170]]), np.zeros((1, 2))
    for norm in (1.0, 2.0, np.inf):
        ref = functional.pairwise_distance(tensor(x1), tensor(x2), p=norm, eps=0.0)
        assert_matches(pairwise_distance(x1, x2, norm, eps=0.0)[0], ref)
        assert (ref == 0).all() == (norm == 2.0)


@pytest.mark.parametrize("p", [0.5, 0.0, -1.0, float("nan")], ids=str)
def test_norm_orders_below_one_are_refused(p):
    """p < 1 (not a norm) raises ValueError in every function; torch accepts p = 0.5."""
    x = np.ones((1, 2))
    for call in (lambda: pairwise_distance(x, 2 * x, p),
                 lambda: triplet_margin_loss(x, 2 * x, 3 * x, p=p),
                 lambda: triplet_margin_loss_grad(x, 2 * x, 3 * x, p=p)):
        with pytest.raises(ValueError, match="p must be >= 1"):
            call()
    t = torch.ones(1, 2)
    assert torch.isfinite(functional.triplet_margin_loss(t, 2 * t, 3 * t, p=0.5))


@pytest.mark.parametrize("margin", [0.0, -1.0, float("nan")], ids=str)
def test_margins_not_above_zero_are_refused_like_torch(margin):
    """margin <= 0 raises ValueError, as torch's triplet_margin_loss does."""
    x = np.ones((1, 2))
    with pytest.raises(ValueError, match="margin must be > 0"):
        triplet_margin_loss(x, x, x, margin)
    with pytest.raises(ValueError, match="margin must be > 0"):
        triplet_margin_loss_grad(x, x, x, margin)
    if margin == margin:  # torch lets NaN through
        with pytest.raises(ValueError, match="margin must be greater than 0"):
            functional.triplet_margin_loss(*(torch.ones(1, 2),) * 3, margin=margin)


def test_0d_points_are_refused():
    """A 0-d embedding has no feature axis: ValueError (torch treats it as a 1-d point)."""
    with pytest.raises(ValueError, match="feature axis"):
        triplet_margin_loss(np.array(0.0), np.array(1.0), np.array(2.0))
    assert functional.triplet_margin_loss(*map(torch.tensor, (0.0, 1.0, 2.0))).item() == 0


@settings(max_examples=50, deadline=None)
@given(x=arrays(np.float64, (3, 4, 3), elements=st.floats(-100, 100)))
def test_swap_never_lowers_the_loss(x):
    """min(d(a,x-), d(x+,x-)) <= d(a,x-), so swapping can only raise each triplet's loss."""
    plain = triplet_margin_loss(*x, reduction="none")
    swapped = triplet_margin_loss(*x, swap=True, reduction="none")
    assert np.all(swapped >= plain)


@settings(max_examples=50, deadline=None)
@given(x=arrays(np.float64, (2, 5, 4), elements=st.floats(-100, 100)))
def test_distance_decreases_with_the_norm_order(x):
    """||u||_inf <= ||u||_3 <= ||u||_2 <= ||u||_1.5 <= ||u||_1 <= 4 ||u||_inf (4 components)."""
    d = [pairwise_distance(*x, p)[0] for p in (np.inf, 3.0, 2.0, 1.5, 1.0)]
    slack = 1e-12 * (1 + d[-1])
    for smaller, larger in itertools.pairwise(d):
        assert np.all(smaller <= larger + slack)
    assert np.all(d[-1] <= 4 * d[0] + slack)


def test_unknown_reduction_is_refused():
    """A misspelt reduction raises ValueError in the loss and in its gradient."""
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="unknown reduction"):
        triplet_margin_loss(x, x, x, reduction="avg")
    with pytest.raises(ValueError, match="unknown reduction"):
        triplet_margin_loss_grad(x, x, x, reduction="avg")
