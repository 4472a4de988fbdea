"""Hand-written BPTT, truncated BPTT, Jacobians through time and clipping, against torch."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.sequence.bptt import (
    clip_grad_norm,
    gradient_norms,
    jacobian_through_time,
    rnn_backward,
    rnn_forward,
    scaled_orthogonal,
)
from tests.helpers import DTYPES, TOLERANCE, dtype_id


def torch_rnn(x, h0, W_ih, W_hh, b, k=None):
    """The tanh cell in torch; with k, the state is detached before steps k, 2k, ..."""
    h, hs = h0, []
    for t in range(x.shape[0]):
        if k is not None and t > 0 and t % k == 0:
            h = h.detach()
        h = torch.tanh(x[t] @ W_ih.T + h @ W_hh.T + b)
        hs.append(h)
    return torch.stack(hs)


def problem(T, B, C, H, dtype, seed=0, scale=1.0):
    """Random inputs, weights and upstream gradients g of the given sizes."""
    rng = np.random.default_rng(seed)
    args = [(rng.normal(size=s) * scale).astype(dtype)
            for s in [(T, B, C), (B, H), (H, C), (H, H), (H,)]]
    return args, rng.normal(size=(T, B, H)).astype(dtype)


def autograd(args, g, k=None):
    """States and the gradients of sum_t <g_t, h_t> by torch.autograd."""
    leaves = [torch.tensor(a, requires_grad=True) for a in args]
    hs = torch_rnn(*leaves, k=k)
    (hs * torch.tensor(g)).sum().backward()
    return hs.detach().numpy(), [lt.grad.numpy() for lt in leaves]


def assert_grads_close(ours, ref, dtype):
    """Gradients agree within the dtype's tolerance scaled by the largest gradient entry:
    each entry sums up to T*B products of O(1) terms, so absolute error grows with it."""
    t = TOLERANCE[np.dtype(dtype)]
    scale = max(1.0, max(float(np.abs(r).max(initial=0)) for r in ref))
    for a, r in zip(ours, ref, strict=True):
        assert a.shape == r.shape
        assert a.dtype == r.dtype
        np.testing.assert_allclose(a, r, rtol=t["rtol"], atol=t["atol"] * scale)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("sizes", [(1, 1, 1, 1), (12, 3, 4, 5), (30, 2, 3, 8), (5, 0, 2, 3)],
                         ids=str)
def test_full_bptt_matches_autograd(sizes, dtype):
    """States and every gradient (x, h0, W_ih, W_hh, b) equal torch.autograd's, including a
    single step and an empty batch."""
    args, g = problem(*sizes, dtype)
    hs_ref, grads_ref = autograd(args, g)
    hs = rnn_forward(*args)
    np.testing.assert_allclose(hs[1:], hs_ref, **TOLERANCE[np.dtype(dtype)])
    assert_grads_close(rnn_backward(args[0], hs, args[2], args[3], g), grads_ref, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("k", [1, 2, 3, 5, 12, 20])
def test_truncated_bptt_equals_detach_every_k_steps(k, dtype):
    """Cutting the backward pass at h_k, h_2k, ... gives exactly the gradients autograd
    computes when the state is detached every k steps (k = 1 to beyond T = 12)."""
    args, g = problem(12, 3, 4, 5, dtype)
    _, grads_ref = autograd(args, g, k=k)
    hs = rnn_forward(*args)
    assert_grads_close(rnn_backward(args[0], hs, args[2], args[3], g, k=k), grads_ref, dtype)


def test_truncation_changes_the_gradient_only_when_k_is_shorter_than_the_sequence():
    """k >= T is full BPTT bit for bit; k < T gives a different W_hh gradient and no
    gradient at all for h0 from steps after the first cut."""
    args, g = problem(12, 3, 4, 5, np.float64)
    hs = rnn_forward(*args)
    full = rnn_backward(args[0], hs, args[2], args[3], g)
    for k in (12, 13, 100):
        for a, b in zip(rnn_backward(args[0], hs, args[2], args[3], g, k=k), full,
                        strict=True):
            np.testing.assert_array_equal(a, b)
    cut = rnn_backward(args[0], hs, args[2], args[3], g, k=4)
    assert np.abs(cut[3] - full[3]).max() > 1e-3
    g_first = g.copy()
    g_first[:4] = 0  # only the losses of steps 5..12, all beyond the cut at h_4
    assert np.all(rnn_backward(args[0], hs, args[2], args[3], g_first, k=4)[1] == 0)


@pytest.mark.parametrize("linear", [False, True])
def test_jacobian_matches_autograd(linear):
    """The product of step Jacobians equals torch.autograd.functional.jacobian of h_T
    with respect to h_0, for the tanh and the linear cell."""
    rng = np.random.default_rng(3)
    T, H, C = 9, 6, 4
    x, W_ih = rng.normal(size=(T, C)), rng.normal(size=(H, C))
    W_hh, b, h0 = rng.normal(size=(H, H)) * 0.5, rng.normal(size=H), rng.normal(size=H)
    phi = (lambda a: a) if linear else torch.tanh

    def last_state(h):
        for t in range(T):
            h = phi(torch.tensor(W_ih) @ torch.tensor(x[t]) + torch.tensor(W_hh) @ h
                    + torch.tensor(b))
        return h

    J_ref = torch.autograd.functional.jacobian(last_state, torch.tensor(h0)).numpy()
    hs = rnn_forward(x[:, None], h0[None], W_ih, W_hh, b)[:, 0]
    J = jacobian_through_time(hs, W_hh, linear=linear)
    np.testing.assert_allclose(J, J_ref, rtol=1e-12, atol=1e-12 * np.abs(J_ref).max())


@pytest.mark.parametrize("rho", [0.5, 0.9, 1.0, 1.1, 1.5])
def test_scaled_orthogonal_has_radius_and_norm_rho(rho):
    """rho * Q has every eigenvalue of modulus rho and every singular value equal to rho."""
    W = scaled_orthogonal(16, rho, seed=4)
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(W)), rho, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), rho, rtol=1e-12)


@pytest.mark.parametrize("rho", [0.9, 1.0, 1.1])
def test_linear_norm_is_exactly_rho_power_and_tanh_stays_below(rho):
    """The page's numbers: for W_hh = rho Q the linear cell's Jacobian norm is rho^T (the
    bound is attained); the tanh cell's is at most rho^T, since each step multiplies by a
    diagonal with entries 1 - h^2 in [0, 1]."""
    linear, tanh = gradient_norms(rho)
    T = np.arange(1, 101)
    np.testing.assert_allclose(linear, rho ** T, rtol=1e-11)
    assert np.all(tanh <= rho ** T * (1 + 1e-12))


@pytest.mark.parametrize("rho", [0.9, 1.0])
def test_tanh_meets_the_bound_when_states_stay_at_zero(rho):
    """With zero inputs, h0 = 0 and no bias every state is 0, tanh' = 1 at every step, and
    the tanh cell's norm equals rho^T, like the linear cell's."""
    H, T = 32, 50
    W = scaled_orthogonal(H, rho)
    hs = rnn_forward(np.zeros((T, 1, H)), np.zeros((1, H)), np.eye(H), W, np.zeros(H))[:, 0]
    assert np.linalg.norm(jacobian_through_time(hs, W), 2) == pytest.approx(rho**T, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 40), st.floats(0.1, 3.0))
def test_norm_bounds_for_any_matrix(seed, T, scale):
    """For any W: rho(W)^T <= ||W^T||_2 <= sigma_max(W)^T (linear cell), and the tanh
    cell's ||dh_T/dh_0||_2 <= sigma_max(W)^T, the spectral norm and not the radius."""
    rng = np.random.default_rng(seed)
    H = 5
    W = rng.normal(size=(H, H)) * scale / np.sqrt(H)
    rho = np.abs(np.linalg.eigvals(W)).max()
    sigma = np.linalg.norm(W, 2)
    hs = rnn_forward(rng.normal(size=(T, 1, H)), rng.normal(size=(1, H)),
                     rng.normal(size=(H, H)), W, rng.normal(size=H))[:, 0]
    lin = np.linalg.norm(jacobian_through_time(hs, W, linear=True), 2)
    tanh = np.linalg.norm(jacobian_through_time(hs, W), 2)
    assert rho ** T * (1 - 1e-9) <= lin <= sigma ** T * (1 + 1e-9)
    assert tanh <= sigma ** T * (1 + 1e-9)


def test_the_bound_uses_the_spectral_norm_not_the_radius():
    """A nilpotent W (radius 0) with a large entry: ||W^1|| = 10 although rho(W)^1 = 0,
    so the spectral radius alone does not bound short-horizon growth."""
    W = np.array([[0.0, 10.0], [0.0, 0.0]])
    hs = np.zeros((2, 2))
    assert np.abs(np.linalg.eigvals(W)).max() == 0
    assert np.linalg.norm(jacobian_through_time(hs, W, linear=True), 2) == pytest.approx(10)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("max_norm", [0.1, 1.0, 1e3, np.inf])
def test_clip_matches_torch(max_norm, dtype):
    """Clipped gradients and the returned norm equal torch.nn.utils.clip_grad_norm_'s, for
    norms above, below and with no limit."""
    rng = np.random.default_rng(5)
    grads = [(rng.normal(size=s) * 3).astype(dtype) for s in [(4, 3), (3,), ()]]
    params = [torch.zeros(np.shape(g), dtype=torch.tensor(g).dtype) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = torch.tensor(g)
    total_ref = torch.nn.utils.clip_grad_norm_(params, max_norm)
    ours, total = clip_grad_norm(grads, max_norm)
    t = TOLERANCE[np.dtype(dtype)]
    assert total == pytest.approx(total_ref.item(), rel=t["rtol"])
    for o, p in zip(ours, params, strict=True):
        assert o.dtype == dtype
        np.testing.assert_allclose(o, p.grad.numpy(), **t)
    if max_norm < total:
        assert np.sqrt(sum(np.sum(o.astype(np.float64) ** 2) for o in ours)) <= max_norm
    else:
        for o, g in zip(ours, grads, strict=True):
            np.testing.assert_array_equal(o, g)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_clip_non_finite_like_torch(bad):
    """A NaN gradient makes everything NaN; an inf one gives 0 for finite entries and NaN
    for itself, as in torch (whose error_if_nonfinite defaults to False)."""
    g = np.array([1.0, bad, 2.0])
    p = torch.zeros(3, dtype=torch.float64)
    p.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_norm_([p], 1.0)
    with np.errstate(invalid="ignore"):  # inf * 0 = NaN is the expected result
        (ours,), _ = clip_grad_norm([g], 1.0)
    np.testing.assert_array_equal(ours, p.grad.numpy())  # NaN == NaN here


def test_zero_gradients_stay_zero():
    """All-zero gradients: norm 0, nothing scaled, no division by zero (eps)."""
    (ours,), total = clip_grad_norm([np.zeros(3)], 1.0)
    assert total == 0
    np.testing.assert_array_equal(ours, 0)


@pytest.mark.parametrize("k", [0, -1, -4])
def test_truncation_length_below_one_refused(k):
    """A chunk length k < 1 has no meaning and raises ValueError (not ZeroDivisionError or a
    silently wrong gradient)."""
    args, g = problem(6, 2, 3, 4, np.float64)
    hs = rnn_forward(*args)
    with pytest.raises(ValueError, match="k must be"):
        rnn_backward(args[0], hs, args[2], args[3], g, k=k)


@pytest.mark.parametrize("k", [1, 3, 4])
def test_truncated_gradient_reaches_back_to_the_chunk_start_only(k):
    """With chunks of k steps the loss of step t reaches the inputs from the start of its
    chunk up to t, between 0 and k - 1 steps back, and none of k steps or more."""
    args, _ = problem(12, 1, 2, 3, np.float64, seed=6)
    hs = rnn_forward(*args)
    for t in range(1, 13):  # 1-based step of the only loss term
        g = np.zeros((12, 1, 3))
        g[t - 1] = 1.0
        dx = rnn_backward(args[0], hs, args[2], args[3], g, k=k)[0]
        reached = [s for s in range(1, 13) if np.abs(dx[s - 1]).sum() > 0]
        start = (t - 1) // k * k + 1  # first step of t's chunk
        assert reached == list(range(start, t + 1))
        assert t - reached[0] <= k - 1
