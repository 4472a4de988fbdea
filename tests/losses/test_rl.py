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


# --- Parameter ranges, shapes and non-finite inputs -------------------------------------

@pytest.mark.parametrize("gamma", [0.0, 1.0], ids=["gamma-0", "gamma-1"])
@dtypes
def test_gamma_at_both_ends_matches_torch(gamma, dtype):
    """γ = 0 (the target is the reward) and γ = 1 (no discount) match the torch formula."""
    value, reward, next_value, done = transitions((9,), dtype, seed=3)
    vt, nt = tensor(value, grad=True), tensor(next_value, grad=True)
    keep = tensor((~done).astype(dtype))
    ref = F.mse_loss(vt, tensor(reward) + gamma * keep * nt, reduction="sum")
    ref.backward()
    assert_matches(msbe_loss(value, reward, next_value, gamma, done, "sum"), ref)
    grad_value, grad_next = msbe_loss_grad(value, reward, next_value, gamma, done, "sum")
    assert_matches(grad_value, vt.grad)
    assert_matches(grad_next, nt.grad)
    if gamma == 0:
        np.testing.assert_array_equal(bellman_error(value, reward, next_value, 0.0),
                                      reward - value)
    G = discounted_returns(reward, gamma)
    expected = reward if gamma == 0 else np.cumsum(reward[::-1])[::-1]
    np.testing.assert_allclose(G, expected, rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("bad", [-0.1, 1.1, np.nan], ids=["negative", "above-1", "nan"])
def test_gamma_outside_zero_one_is_refused(bad):
    """γ outside [0, 1] (or NaN) is a ValueError in every function that takes it."""
    x = np.zeros(3)
    for call in (lambda: bellman_error(x, x, x, bad), lambda: msbe_loss(x, x, x, bad),
                 lambda: msbe_loss_grad(x, x, x, bad), lambda: td_loss(x, x, x, bad),
                 lambda: td_loss_grad(x, x, x, bad), lambda: discounted_returns(x, bad)):
        with pytest.raises(ValueError, match="gamma"):
            call()


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan], ids=["zero", "negative", "nan"])
def test_huber_delta_must_be_positive_like_torch(bad):
    """κ <= 0 or NaN is refused, as torch's huber_loss refuses its delta."""
    x = np.zeros(3)
    with pytest.raises(ValueError, match="huber_delta"):
        td_loss(x, x, x, huber_delta=bad)
    with pytest.raises(ValueError, match="huber_delta"):
        td_loss_grad(x, x, x, huber_delta=bad)
    with pytest.raises(RuntimeError, match="delta"):
        F.huber_loss(tensor(x), tensor(x), delta=bad)


def test_mismatched_shapes_are_refused():
    """(N, 1) values against (N,) rewards would broadcast to (N, N): refused instead."""
    v, r = np.zeros((4, 1)), np.zeros(4)
    with pytest.raises(ValueError, match="shape"):
        bellman_error(v, r, r)
    with pytest.raises(ValueError, match="shape"):
        bellman_error(r, r, r, done=np.zeros((4, 1), bool))
    with pytest.raises(ValueError, match="shape"):
        ppo_clip_loss(v, r, r)
    with pytest.raises(ValueError, match="logits"):
        policy_gradient_loss(np.zeros((4, 3)), np.zeros(4, int), np.zeros((4, 1)))


@dtypes
def test_terminal_next_values_are_ignored_even_when_not_finite(dtype):
    """With done, V(s') may be NaN or inf: δ and its gradients stay finite (0·inf is not used)."""
    value = np.array([1.0, 2.0, 3.0], dtype=dtype)
    reward = np.array([0.5, 0.5, 0.5], dtype=dtype)
    next_value = np.array([np.nan, np.inf, 4.0], dtype=dtype)
    done = np.array([True, True, False])
    delta = bellman_error(value, reward, next_value, GAMMA, done)
    np.testing.assert_array_equal(delta, reward + np.array([0, 0, GAMMA * 4], dtype) - value)
    assert delta.dtype == dtype
    grad_value, grad_next = msbe_loss_grad(value, reward, next_value, GAMMA, done, "sum")
    assert np.isfinite(grad_value).all()
    assert np.isfinite(grad_next).all()
    assert np.isfinite(td_loss(value, reward, next_value, GAMMA, done, 1.0, "none")).all()


@dtypes
def test_nan_values_propagate_like_torch(dtype):
    """A NaN value or reward (not terminal) gives a NaN loss and NaN gradients, as in torch."""
    value = np.array([np.nan, 1.0, 2.0], dtype=dtype)
    reward = np.array([0.0, np.nan, 1.0], dtype=dtype)
    next_value = np.array([1.0, 1.0, np.nan], dtype=dtype)
    vt, nt = tensor(value, grad=True), tensor(next_value, grad=True)
    ref = F.mse_loss(vt, tensor(reward) + GAMMA * nt, reduction="none")
    ref.sum().backward()
    assert_matches(msbe_loss(value, reward, next_value, GAMMA, reduction="none"), ref)
    grad_value, grad_next = msbe_loss_grad(value, reward, next_value, GAMMA, reduction="none")
    assert_matches(grad_value, vt.grad)
    assert_matches(grad_next, nt.grad)


@dtypes
def test_float64_parameters_keep_float32_results(dtype):
    """NumPy float64 γ, κ and ε do not promote float32 inputs (torch keeps float32)."""
    value, reward, next_value, done = transitions((5,), dtype, seed=4)
    g, k, e = np.float64(0.9), np.float64(1.0), np.float64(0.2)
    assert bellman_error(value, reward, next_value, g, done).dtype == dtype
    assert td_loss(value, reward, next_value, g, done, k).dtype == dtype
    assert td_loss_grad(value, reward, next_value, g, done, k).dtype == dtype
    assert all(a.dtype == dtype for a in msbe_loss_grad(value, reward, next_value, g, done))
    assert discounted_returns(reward, g).dtype == dtype
    assert ppo_clip_loss(value, reward, next_value, e).dtype == dtype
    assert ppo_clip_loss_grad(value, reward, next_value, e).dtype == dtype


def test_discounted_returns_of_empty_and_zero_d_episodes():
    """An episode of no steps has no returns; a 0-d reward has no time axis and is refused."""
    assert discounted_returns(np.zeros((2, 0)), GAMMA).shape == (2, 0)
    assert discounted_returns(np.zeros(0), GAMMA).shape == (0,)
    with pytest.raises(ValueError, match="time axis"):
        discounted_returns(np.array(1.0), GAMMA)


# --- REINFORCE: accuracy, arguments, and the γ^t convention --------------------------------

def test_log_softmax_keeps_relative_accuracy_near_probability_one():
    """log π of a near-certain action and its gradient entry π - 1 keep full relative precision."""
    # Both are tiny numbers (-2e-9 at logits [20, -20, 0]) computed from O(1) ones: π - 1 as
    # exp(log π) - 1 and log π as log(1 + tiny) lose ~8 digits; torch's Categorical does too.
    import mpmath  # a declared test dependency (pyproject.toml)

    mpmath.mp.dps = 50
    for z in ([20.0, -20.0, 0.0], [30.0, 1.0, -3.0], [5.0, -40.0, -40.0]):
        e = [mpmath.exp(mpmath.mpf(v)) for v in z]
        total = sum(e)
        exact_logp = float(mpmath.log(e[0] / total))  # the top action's log-probability
        exact_grad = float(e[0] / total - 1)  # its gradient entry, G = 1
        logits = np.array([z])
        np.testing.assert_allclose(log_softmax(logits)[0, 0], exact_logp, rtol=1e-14)
        grad = policy_gradient_loss_grad(logits, np.array([0]), np.array([1.0]), "sum")
        np.testing.assert_allclose(grad[0, 0], exact_grad, rtol=1e-14)
        np.testing.assert_allclose(grad.sum(), 0.0, atol=1e-15 * abs(exact_grad) + 1e-300)


@pytest.mark.parametrize("bad", [-1, 3], ids=["negative", "too-large"])
def test_actions_out_of_range_are_refused(bad):
    """An action outside [0, C) is an error (NumPy indexing would wrap -1 to the last action)."""
    logits, returns = np.zeros((2, 3)), np.ones(2)
    actions = np.array([0, bad])
    with pytest.raises(ValueError, match="actions"):
        policy_gradient_loss(logits, actions, returns)
    with pytest.raises(ValueError, match="actions"):
        policy_gradient_loss_grad(logits, actions, returns)
    with pytest.raises(ValueError, match="support"):  # torch's Categorical refuses it too
        torch.distributions.Categorical(logits=torch.zeros(2, 3)).log_prob(torch.tensor(actions))


@dtypes
def test_single_step_zero_d_action(dtype):
    """Logits (C,), a 0-d action and a 0-d return: one step, equal to torch."""
    logits = random_input((4,), dtype, seed=30)
    check_policy_gradient(logits, np.array(2), np.array(1.5, dtype=dtype), "sum")


def two_step_mdp(seed):
    """A random two-step episodic MDP (state 0, then 1 or 2) and policy logits θ (3, 2)."""
    rng = np.random.default_rng(seed)
    P1 = rng.random((2, 2))
    return (rng.normal(size=2), P1 / P1.sum(1, keepdims=True), rng.normal(size=(2, 2)),
            rng.normal(size=(3, 2)))


def expected_reinforce_grad(R0, P1, R1, theta, gamma, discount_weights):
    """E[gradient of the REINFORCE loss], exactly, over the 8 trajectories; and -∇J."""
    th = tensor(theta, grad=True)
    pi = th.softmax(-1)
    J = sum(pi[0, a0] * P1[a0, s1] * pi[1 + s1, a1] * (R0[a0] + gamma * R1[s1, a1])
            for a0 in range(2) for s1 in range(2) for a1 in range(2))
    J.backward()
    p, grad = pi.detach().numpy(), np.zeros_like(theta)
    for a0, s1, a1 in np.ndindex(2, 2, 2):
        prob = p[0, a0] * P1[a0, s1] * p[1 + s1, a1]
        G1 = R1[s1, a1]
        G0 = R0[a0] + gamma * G1
        w1 = gamma * G1 if discount_weights else G1
        grad[0] += prob * policy_gradient_loss_grad(theta[0], a0, G0, "sum")
        grad[1 + s1] += prob * policy_gradient_loss_grad(theta[1 + s1], a1, w1, "sum")
    return grad, -th.grad.numpy()


@pytest.mark.parametrize("seed", range(5), ids=lambda s: f"mdp-{s}")
def test_reinforce_is_unbiased_with_gamma_t_weights_only(seed):
    """Weights γ^t G_t: the expected loss gradient is exactly -∇J; weights G_t: it is not."""
    R0, P1, R1, theta = two_step_mdp(seed)
    ours, exact = expected_reinforce_grad(R0, P1, R1, theta, GAMMA, True)
    np.testing.assert_allclose(ours, exact, rtol=1e-12, atol=1e-15)
    biased, _ = expected_reinforce_grad(R0, P1, R1, theta, GAMMA, False)
    assert np.abs(biased - exact).max() > 1e-3  # the state-1/2 rows are off by a factor 1/γ
    np.testing.assert_allclose(biased[0], exact[0], rtol=1e-12, atol=1e-15)  # t = 0: γ^0 = 1
    # with γ = 1 the two conventions coincide, and both are unbiased
    ours, exact = expected_reinforce_grad(R0, P1, R1, theta, 1.0, False)
    np.testing.assert_allclose(ours, exact, rtol=1e-12, atol=1e-15)


# --- Double sampling ----------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4), ids=lambda s: f"mrp-{s}")
def test_sampled_squared_error_is_not_zero_at_the_true_value(seed):
    """At the true v the expected δ is 0 but the mean sampled δ² is not; its minimiser is off."""
    P, r = random_mrp(seed)
    n = len(r)
    v_true = np.linalg.solve(np.eye(n) - GAMMA * P, r)
    s_now, s_next = np.nonzero(P)
    w = P[s_now, s_next] / n
    expected = r + GAMMA * P @ v_true - v_true  # expected Bellman error, state by state
    np.testing.assert_allclose(expected, 0, atol=1e-12)
    assert msbe_loss(v_true, r, P @ v_true, GAMMA, reduction="sum") < 1e-24
    sampled = msbe_loss(v_true[s_now], r[s_now], v_true[s_next], GAMMA, reduction="none")
    variance = sum(P[s] @ (GAMMA * v_true - GAMMA * P[s] @ v_true) ** 2 for s in range(n)) / n
    np.testing.assert_allclose((w * sampled).sum(), variance, rtol=1e-10)  # = Var of target
    assert variance > 1e-3
    A = np.sqrt(w)[:, None] * (np.eye(n)[s_now] - GAMMA * np.eye(n)[s_next])
    v_biased = np.linalg.lstsq(A, np.sqrt(w) * r[s_now], rcond=None)[0]
    assert np.abs(v_biased - v_true).max() > 1e-2


# --- PPO: ε range and non-finite inputs ---------------------------------------------------

@pytest.mark.parametrize("clip_eps", [0.0, np.inf], ids=["eps-0", "eps-inf"])
@dtypes
def test_ppo_clip_at_zero_and_infinity_matches_torch(clip_eps, dtype):
    """ε = 0 (clip to ρ = 1) and ε = ∞ (no clip: -ρA) are accepted and match torch."""
    old = random_input((12,), dtype, seed=41, scale=1.0) - 1
    new = old + random_input((12,), dtype, seed=42, scale=0.3)
    adv = random_input((12,), dtype, seed=43, scale=1.0)
    ref, grad = ppo_reference(new, old, adv, clip_eps, "none")
    assert_matches(ppo_clip_loss(new, old, adv, clip_eps, "none"), ref)
    assert_matches(ppo_clip_loss_grad(new, old, adv, clip_eps, "none"), grad)
    if clip_eps == np.inf:
        np.testing.assert_allclose(ppo_clip_loss(new, old, adv, clip_eps, "none"),
                                   -np.exp(new - old) * adv, rtol=1e-6)


@pytest.mark.parametrize("bad", [-0.1, np.nan], ids=["negative", "nan"])
def test_ppo_negative_or_nan_epsilon_is_refused(bad):
    """ε < 0 (an empty clip range) or NaN is a ValueError."""
    x = np.zeros(3)
    with pytest.raises(ValueError, match="clip_eps"):
        ppo_clip_loss(x, x, x, bad)
    with pytest.raises(ValueError, match="clip_eps"):
        ppo_clip_loss_grad(x, x, x, bad)


@dtypes
def test_ppo_nan_and_inf_inputs_match_torch(dtype):
    """NaN inputs and an infinite ratio times A = 0 give torch's NaN values and gradients."""
    new = np.array([np.nan, -1.0, -1.0, 1000.0, -1.0], dtype=dtype)  # exp(1001) = inf
    old = np.array([-1.0, np.nan, -1.0, -1.0, -1.2], dtype=dtype)
    adv = np.array([1.0, 1.0, np.nan, 0.0, 1.0], dtype=dtype)
    with np.errstate(invalid="ignore", over="ignore"):  # numpy warns on exp overflow, inf*0
        ref, grad = ppo_reference(new, old, adv, 0.2, "none")
        assert_matches(ppo_clip_loss(new, old, adv, reduction="none"), ref)
        assert_matches(ppo_clip_loss_grad(new, old, adv, reduction="none"), grad)
    assert np.isnan(grad.numpy()[:4]).all()


@dtypes
def test_ppo_overflowing_ratio_has_zero_gradient_where_torch_has_nan(dtype):
    """ρ overflowing to inf with A > 0: loss -(1+ε)A, gradient 0 (torch: NaN, from 0 · inf)."""
    log_ratio = 1000.0 if dtype == np.float64 else 100.0  # exp overflows in this dtype
    old = np.array([-2.0, -2.0], dtype=dtype)
    new = old + dtype(log_ratio)
    adv = np.array([1.0, 3.0], dtype=dtype)
    with np.errstate(over="ignore"):
        ref, grad = ppo_reference(new, old, adv, 0.2, "none")
        assert_matches(ppo_clip_loss(new, old, adv, 0.2, "none"), ref)
        np.testing.assert_allclose(ref.detach().numpy(), -1.2 * adv, rtol=1e-6)
        assert np.isnan(grad.numpy()).all()  # torch: 0 (clamp) times inf (exp backward)
        np.testing.assert_array_equal(ppo_clip_loss_grad(new, old, adv, 0.2, "none"), 0)


def test_integer_rewards_and_values_are_treated_as_float64():
    """Integer rewards (+1, 0, ...) are not truncated: γ is not cast to int(γ) = 0."""
    np.testing.assert_allclose(discounted_returns([0, 0, 1], 0.9), [0.81, 0.9, 1.0],
                               rtol=1e-15)
    ints, floats = ([1, 2], [0, 1], [3, 4]), ([1.0, 2.0], [0.0, 1.0], [3.0, 4.0])
    np.testing.assert_array_equal(bellman_error(*ints, 0.9), bellman_error(*floats, 0.9))
    np.testing.assert_array_equal(td_loss_grad(*ints, 0.9, huber_delta=0.5),
                                  td_loss_grad(*floats, 0.9, huber_delta=0.5))
    for fn in (msbe_loss, td_loss):
        np.testing.assert_array_equal(fn(*ints, 0.9, reduction="none"),
                                      fn(*floats, 0.9, reduction="none"))
