"""RL losses match torch autograd of their written-out formulas and the tabular fixed point."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from snippets.losses.rl import (
    bellman_error,
    discounted_returns,
    log_softmax,
    msbe_loss,
    msbe_loss_grad,
    policy_gradient_loss,
    policy_gradient_loss_grad,
    ppo_clip_loss,
    ppo_clip_loss_grad,
    td_loss,
    td_loss_grad,
)
from tests.helpers import (
    DTYPES,
    HARD_VALUES,
    SHAPES,
    assert_matches,
    dtype_id,
    random_input,
    tensor,
)

F = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]
dtypes = pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
shapes = pytest.mark.parametrize("shape", SHAPES, ids=str)
reductions = pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
GAMMA = 0.9


def reduce_torch(loss, reduction):
    """torch's reduction of an elementwise loss tensor."""
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()


def transitions(shape, dtype, seed=0):
    """Random values, rewards, next values and terminal flags of one batch."""
    value = random_input(shape, dtype, seed=seed)
    reward = random_input(shape, dtype, seed=seed + 1)
    next_value = random_input(shape, dtype, seed=seed + 2)
    done = np.random.default_rng(seed).random(shape) < 0.2
    return value, reward, next_value, done


def random_mrp(seed, n=4):
    """A random Markov reward process: row-stochastic P (n, n) and rewards r (n,)."""
    rng = np.random.default_rng(seed)
    P = rng.random((n, n)) ** 3  # uneven rows
    return P / P.sum(axis=1, keepdims=True), rng.normal(size=n)


# --- Mean squared Bellman error and TD loss -------------------------------------------

@reductions
@dtypes
@shapes
def test_msbe_matches_mse_loss_with_full_gradient(shape, dtype, reduction):
    """MSBE equals mse_loss(V, r + γ(1-done)V'); gradients flow to V and V'."""
    value, reward, next_value, done = transitions(shape, dtype)
    vt, nt = tensor(value, grad=True), tensor(next_value, grad=True)
    keep = tensor((~done).astype(dtype))
    ref = F.mse_loss(vt, tensor(reward) + GAMMA * keep * nt, reduction=reduction)
    ref.sum().backward()
    grad_value, grad_next = msbe_loss_grad(value, reward, next_value, GAMMA, done, reduction)
    assert_matches(msbe_loss(value, reward, next_value, GAMMA, done, reduction), ref)
    assert_matches(grad_value, vt.grad)
    assert_matches(grad_next, nt.grad)


@pytest.mark.parametrize("huber_delta", [None, 0.5, 1.0, 3.0],
                         ids=lambda k: "squared" if k is None else f"huber-{k}")
@reductions
@dtypes
@shapes
def test_td_loss_matches_torch_with_detached_target(shape, dtype, reduction, huber_delta):
    """TD loss equals ½ mse_loss or huber_loss against a detached target; V' gets no grad."""
    value, reward, next_value, done = transitions(shape, dtype, seed=5)
    vt, nt = tensor(value, grad=True), tensor(next_value, grad=True)
    keep = tensor((~done).astype(dtype))
    target = (tensor(reward) + GAMMA * keep * nt).detach()
    if huber_delta is None:
        ref = 0.5 * F.mse_loss(vt, target, reduction=reduction)
    else:
        ref = F.huber_loss(vt, target, reduction=reduction, delta=huber_delta)
    ref.sum().backward()
    args = (value, reward, next_value, GAMMA, done, huber_delta, reduction)
    assert_matches(td_loss(*args), ref)
    assert_matches(td_loss_grad(*args), vt.grad)
    assert nt.grad is None


@dtypes
def test_value_losses_hard_inputs(dtype):
    """Values of ±1e4 and signed zeros: MSBE and TD agree with torch."""
    value = HARD_VALUES.astype(dtype)
    next_value, reward = value[::-1].copy(), np.zeros_like(value)
    vt, nt = tensor(value, grad=True), tensor(next_value, grad=True)
    ref = F.mse_loss(vt, tensor(reward) + GAMMA * nt, reduction="none")
    ref.sum().backward()
    assert_matches(msbe_loss(value, reward, next_value, GAMMA, reduction="none"), ref)
    assert_matches(msbe_loss_grad(value, reward, next_value, GAMMA, reduction="none")[0],
                   vt.grad)
    vt = tensor(value, grad=True)
    ref = F.huber_loss(vt, tensor(reward) + GAMMA * tensor(next_value), reduction="none")
    ref.sum().backward()
    assert_matches(td_loss(value, reward, next_value, GAMMA, huber_delta=1.0,
                           reduction="none"), ref)
    assert_matches(td_loss_grad(value, reward, next_value, GAMMA, huber_delta=1.0,
                                reduction="none"), vt.grad)


def test_terminal_transitions_do_not_bootstrap():
    """With done = True the target is the reward alone, whatever V(s') is."""
    delta = bellman_error([1.0, 1.0], [2.0, 2.0], [1e4, -1e4], GAMMA, done=[True, True])
    np.testing.assert_array_equal(delta, [1.0, 1.0])


def test_semi_gradient_is_half_the_value_part_of_the_full_gradient():
    """TD's semi-gradient is -δ; the MSBE's gradient in V(s) is -2δ, plus a V(s') part."""
    value, reward, next_value, done = transitions((9,), np.float64, seed=7)
    full_value, full_next = msbe_loss_grad(value, reward, next_value, GAMMA, done, "sum")
    semi = td_loss_grad(value, reward, next_value, GAMMA, done, reduction="sum")
    np.testing.assert_allclose(semi, full_value / 2, rtol=1e-15, atol=0)
    assert np.any(full_next != 0)


@pytest.mark.parametrize("seed", range(4), ids=lambda s: f"mrp-{s}")
def test_expected_td0_reaches_the_closed_form_value(seed):
    """Semi-gradient descent on the TD loss (expected TD(0)) converges to (I - γP)^-1 r."""
    P, r = random_mrp(seed)
    v_true = np.linalg.solve(np.eye(len(r)) - GAMMA * P, r)
    v = np.zeros_like(r)
    for _ in range(1000):  # contraction by 1 - α(1 - γ) = 0.95 per step
        v -= 0.5 * td_loss_grad(v, r, P @ v, GAMMA, reduction="sum")
    np.testing.assert_allclose(v, v_true, rtol=1e-12, atol=1e-12)
    assert td_loss(v, r, P @ v, GAMMA) < 1e-24  # the Bellman error vanishes there


@pytest.mark.parametrize("seed", range(4), ids=lambda s: f"mrp-{s}")
def test_full_gradient_msbe_reaches_the_same_value(seed):
    """Gradient descent on the MSBE through V(s) and V(s') = P V also finds (I - γP)^-1 r."""
    P, r = random_mrp(seed)
    v_true = np.linalg.solve(np.eye(len(r)) - GAMMA * P, r)
    v = np.zeros_like(r)
    for _ in range(30000):  # slow: the rate is set by the smallest singular value of I - γP
        g_value, g_next = msbe_loss_grad(v, r, P @ v, GAMMA, reduction="sum")
        v -= 0.2 * (g_value + P.T @ g_next)  # chain rule through V(s') = P V
    np.testing.assert_allclose(v, v_true, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(3), ids=lambda s: f"mrp-{s}")
def test_sampled_td0_approaches_the_closed_form_value(seed):
    """Sampled TD(0) with decaying steps ends near the closed-form value (a Monte Carlo test)."""
    P, r = random_mrp(seed, n=3)
    v_true = np.linalg.solve(np.eye(3) - GAMMA * P, r)
    rng = np.random.default_rng(seed)
    v, visits, s = np.zeros(3), np.zeros(3), 0
    for _ in range(60000):
        s_next = rng.choice(3, p=P[s])
        visits[s] += 1
        grad = td_loss_grad(v[s], r[s], v[s_next], GAMMA, reduction="sum")
        v[s] -= grad / visits[s] ** 0.7  # Robbins–Monro steps
        s = s_next
    # A stochastic approximation, not an exact computation: the bound is a statistical one
    # (about 10x the spread seen over many seeds), and far below the values' size (~1-10).
    np.testing.assert_allclose(v, v_true, rtol=0, atol=0.1)


# --- REINFORCE --------------------------------------------------------------------------

PG_SHAPES = [(1, 2), (16, 4), (3, 5, 6)]  # (..., C)


def categorical_reference(logits, actions, returns, reduction, dtype=None):
    """torch autograd of -log_prob(a) * G through Categorical, computed in `dtype`."""
    dtype = dtype or logits.dtype
    zt = tensor(logits.astype(dtype), grad=True)
    log_prob = torch.distributions.Categorical(logits=zt).log_prob(torch.tensor(actions))
    ref = reduce_torch(-(log_prob * tensor(returns.astype(dtype))), reduction)
    ref.sum().backward()
    return ref.detach().numpy().astype(logits.dtype), zt.grad.numpy().astype(logits.dtype)


def check_policy_gradient(logits, actions, returns, reduction):
    """Compare with torch in the same dtype, and in float32 also with torch in float64.

    Categorical normalises by subtracting logsumexp(z) from z, which cancels to within an ULP
    of the largest logit: in float32 torch's own log-probabilities are off by up to
    ~1e-7 * max|z| (0.001 at z = 1e4), while ours subtract the maximum first and stay exact.
    So in float32 our result must match the float64 reference (rounded to float32) at the
    standard tolerance, and the float32 reference within that cancellation bound.
    """
    ours = policy_gradient_loss(logits, actions, returns, reduction)
    ours_grad = policy_gradient_loss_grad(logits, actions, returns, reduction)
    ref, grad = categorical_reference(logits, actions, returns, reduction)
    if logits.dtype == np.float64:
        assert_matches(ours, ref)
        assert_matches(ours_grad, grad)
        return
    exact, exact_grad = categorical_reference(logits, actions, returns, reduction, np.float64)
    assert_matches(ours, exact)
    assert_matches(ours_grad, exact_grad)
    ulps = 4 * np.finfo(np.float32).eps * np.abs(logits).max()  # error of torch's log π
    scale = np.abs(returns).sum() if reduction == "sum" else np.abs(returns).max()
    assert_matches(ours, ref, atol=ulps * scale)
    assert_matches(ours_grad, grad, atol=ulps * np.abs(returns).max())


@reductions
@dtypes
@pytest.mark.parametrize("shape", PG_SHAPES, ids=str)
def test_policy_gradient_matches_categorical_autograd(shape, dtype, reduction):
    """Loss and d/dlogits equal autograd of -log_prob(a) * G through Categorical."""
    logits = random_input(shape, dtype, seed=11)
    rng = np.random.default_rng(12)
    actions = rng.integers(0, shape[-1], size=shape[:-1])
    returns = random_input(shape[:-1], dtype, seed=13)
    check_policy_gradient(logits, actions, returns, reduction)


@dtypes
def test_policy_gradient_hard_logits(dtype):
    """Logits of ±1e4 (probabilities 0 and 1): finite, and equal to torch."""
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, -0.0]], dtype=dtype)
    actions = np.array([1, 2, 0])
    returns = np.array([1.0, -2.0, 0.5], dtype=dtype)
    for reduction in REDUCTIONS:
        check_policy_gradient(logits, actions, returns, reduction)


@dtypes
def test_log_softmax_matches_torch(dtype):
    """The stable log-softmax equals torch.log_softmax, hard logits included."""
    z = np.concatenate([random_input((5, 7), dtype), HARD_VALUES.astype(dtype)[None, :7]])
    assert_matches(log_softmax(z), torch.log_softmax(tensor(z), dim=-1))


@pytest.mark.parametrize("T", [1, 5, 50], ids=lambda t: f"T-{t}")
def test_discounted_returns_match_the_direct_sum(T):
    """G_t computed backwards equals the direct float64 sum Σ_k γ^k r_{t+k}."""
    rewards = random_input((3, T), np.float64, seed=T)
    direct = np.array([[sum(GAMMA**k * row[t + k] for k in range(T - t)) for t in range(T)]
                       for row in rewards])
    np.testing.assert_allclose(discounted_returns(rewards, GAMMA), direct,
                               rtol=1e-12, atol=1e-12)


def test_empty_batches():
    """Empty batches: the sum is 0 and the mean is NaN, as torch's reductions give."""
    e = np.zeros(0)
    assert msbe_loss(e, e, e, reduction="sum") == 0
    assert np.isnan(td_loss(e, e, e))
    assert policy_gradient_loss(np.zeros((0, 3)), np.zeros(0, int), e, "sum") == 0
    assert np.isnan(ppo_clip_loss(e, e, e))
    assert ppo_clip_loss_grad(e, e, e).shape == (0,)


# --- PPO clipped surrogate --------------------------------------------------------------

def ppo_reference(log_prob, old_log_prob, advantages, clip_eps, reduction):
    """The written-out torch formula of the clipped surrogate loss, with autograd."""
    lt = tensor(log_prob, grad=True)
    ratio = torch.exp(lt - tensor(old_log_prob))
    A = tensor(advantages)
    surrogate = torch.min(ratio * A, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * A)
    ref = reduce_torch(-surrogate, reduction)
    ref.sum().backward()
    return ref, lt.grad


@pytest.mark.parametrize("clip_eps", [0.1, 0.2, 0.3], ids=lambda e: f"eps-{e}")
@reductions
@dtypes
@shapes
def test_ppo_matches_written_out_torch(shape, dtype, reduction, clip_eps):
    """Value and d/dlog_prob match torch autograd of -min(ρA, clip(ρ)A)."""
    old = random_input(shape, dtype, seed=21, scale=1.0) - 1
    new = old + random_input(shape, dtype, seed=22, scale=0.3)  # ratios in and out of range
    adv = random_input(shape, dtype, seed=23, scale=1.0)
    ref, grad = ppo_reference(new, old, adv, clip_eps, reduction)
    assert_matches(ppo_clip_loss(new, old, adv, clip_eps, reduction), ref)
    assert_matches(ppo_clip_loss_grad(new, old, adv, clip_eps, reduction), grad)


@dtypes
def test_ppo_hard_inputs(dtype):
    """Log-ratios of ±30, zero advantages and signed zeros agree with torch."""
    log_ratio = np.array([-30.0, -1.0, -0.0, 0.0, 1e-8, 1.0, 30.0], dtype=dtype)
    old = np.full_like(log_ratio, -2.0)
    for adv in (np.ones_like(old), -np.ones_like(old), np.zeros_like(old)):
        ref, grad = ppo_reference(old + log_ratio, old, adv, 0.2, "none")
        assert_matches(ppo_clip_loss(old + log_ratio, old, adv, reduction="none"), ref)
        assert_matches(ppo_clip_loss_grad(old + log_ratio, old, adv, reduction="none"), grad)


log_ratios = arrays(np.float64, st.integers(1, 20), elements=st.floats(-3, 3))
advantages_st = arrays(np.float64, 20, elements=st.floats(-10, 10))


@settings(max_examples=80, deadline=None)
@given(log_ratios, advantages_st, st.floats(0.05, 0.5))
def test_ppo_equals_ratio_loss_inside_the_clip_range(log_ratio, adv, eps):
    """Property: where 1-ε < ρ < 1+ε, the loss and gradient are those of -ρA."""
    adv = adv[: len(log_ratio)]
    ratio = np.exp(log_ratio)
    inside = (ratio > 1 - eps) & (ratio < 1 + eps)
    assume(inside.any())
    old = np.full_like(log_ratio, -1.5)
    loss = ppo_clip_loss(old + log_ratio, old, adv, eps, "none")
    grad = ppo_clip_loss_grad(old + log_ratio, old, adv, eps, "none")
    pg = -ratio * adv  # the importance-ratio policy-gradient loss, and its d/dlog π
    np.testing.assert_allclose(loss[inside], pg[inside], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad[inside], pg[inside], rtol=1e-12, atol=1e-12)


@settings(max_examples=80, deadline=None)
@given(log_ratios, advantages_st, st.floats(0.05, 0.5))
def test_ppo_gradient_is_zero_where_the_clip_blocks(log_ratio, adv, eps):
    """Property: no gradient for ρ > 1+ε with A > 0, or ρ < 1-ε with A < 0; else -ρA."""
    adv = adv[: len(log_ratio)]
    ratio = np.exp(log_ratio)
    old = np.full_like(log_ratio, -1.5)
    grad = ppo_clip_loss_grad(old + log_ratio, old, adv, eps, "none")
    blocked = ((ratio > 1 + eps) & (adv > 0)) | ((ratio < 1 - eps) & (adv < 0))
    assert np.all(grad[blocked] == 0)
    np.testing.assert_allclose(grad[~blocked], -(ratio * adv)[~blocked], rtol=1e-12, atol=0)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6))
def test_ppo_first_step_gradient_is_the_reinforce_gradient(seed):
    """Property: at ρ = 1 (new = old policy) PPO's gradient in the logits is REINFORCE's."""
    logits = random_input((8, 5), np.float64, seed=seed)
    actions = np.random.default_rng(seed).integers(0, 5, size=8)
    adv = random_input((8,), np.float64, seed=seed + 1)
    logp = np.take_along_axis(log_softmax(logits), actions[:, None], axis=-1)[:, 0]
    g_logp = ppo_clip_loss_grad(logp, logp, adv, reduction="sum")  # (8,)
    probs = np.exp(log_softmax(logits))
    onehot = np.eye(5)[actions]
    g_logits = g_logp[:, None] * (onehot - probs)  # chain rule: d log π(a) / dz = e_a - π
    np.testing.assert_allclose(g_logits, policy_gradient_loss_grad(logits, actions, adv, "sum"),
                               rtol=1e-12, atol=1e-15)
