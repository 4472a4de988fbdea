"""RMSprop matches torch.optim.RMSprop, parameters and state (step, square_avg, momentum_buffer,
grad_avg), step by step, with every option."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.optimizers.rmsprop import effective_lr, init_state, rmsprop_step
from tests.helpers import DTYPES, dtype_id
from tests.optimizers._reference import compare

CONFIGS = {
    "default": {},
    "weight_decay+maximize": {"weight_decay": 0.1, "maximize": True},
    "momentum": {"momentum": 0.9},
    "centered": {"centered": True},
    "centered+momentum+weight_decay, alpha=0.5, eps=1e-3": {
        "centered": True, "momentum": 0.5, "weight_decay": 0.05, "alpha": 0.5, "eps": 1e-3},
}


def _init(options):
    return {k: options[k] for k in ("momentum", "centered") if k in options}


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_matches_torch_over_20_steps(config, dtype):
    """Parameters and every state tensor agree with torch after each of 20 steps."""
    compare(rmsprop_step, init_state, torch.optim.RMSprop, dtype, options=config,
            init_options=_init(config))


def test_foreach_path():
    """torch's multi-tensor (foreach) implementation gives the same steps and state."""
    options = {"centered": True, "momentum": 0.9}
    compare(rmsprop_step, init_state, torch.optim.RMSprop, np.float64, options=options,
            init_options=options, foreach=True)


@pytest.mark.parametrize("bad", [{"lr": -0.1}, {"alpha": -0.5}, {"eps": -1.0},
                                 {"weight_decay": -1.0}, {"momentum": -0.9}])
def test_invalid_values_refused_like_torch(bad):
    """Negative lr, alpha, eps, weight_decay or momentum raise ValueError, as in torch."""
    p = [np.zeros(2)]
    with pytest.raises(ValueError, match=r"Invalid"):
        torch.optim.RMSprop([torch.zeros(2, requires_grad=True)], **{"lr": 0.1, **bad})
    with pytest.raises(ValueError, match=r">= 0"):
        rmsprop_step(p, [np.ones(2)], init_state(p), **{"lr": 0.1, **bad})


@settings(max_examples=20)
@given(c=st.floats(1e-3, 1e3), seed=st.integers(0, 10**6), centered=st.booleans())
def test_scale_invariant_without_eps(c, seed, centered):
    """With eps = 0, multiplying every gradient by c > 0 leaves every step unchanged."""
    grads = np.random.default_rng(seed).normal(size=(10, 3))
    paths = []
    for scale in (1.0, c):
        p, s = [np.zeros(3)], init_state([np.zeros(3)], centered=centered)
        for g in grads:
            p, s = rmsprop_step(p, [scale * g], s, lr=0.01, eps=0.0, centered=centered)
        paths.append(p[0])
    np.testing.assert_allclose(paths[0], paths[1], rtol=1e-9, atol=1e-14)


@settings(max_examples=20)
@given(alpha=st.floats(0.0, 0.999), g=st.floats(1e-3, 1e3))
def test_first_step_is_lr_over_sqrt_one_minus_alpha(alpha, g):
    """From zero, step 1 is lr · g / (√(1 - α) |g| + eps): 10 lr for α = 0.99 (no bias
    correction)."""
    p = [np.zeros(1)]
    new, _ = rmsprop_step(p, [np.array([g])], init_state(p), lr=0.01, alpha=alpha)
    expected = 0.01 * g / (np.sqrt(1 - alpha) * g + 1e-8)
    np.testing.assert_allclose(-new[0], [expected], rtol=1e-12)


def test_effective_lr_is_the_factor_applied():
    """θ_t - θ_(t-1) = -effective_lr · g_t (not centered, no momentum)."""
    rng = np.random.default_rng(1)
    p, s = [rng.normal(size=3)], init_state([np.zeros(3)])
    for _ in range(5):
        g = rng.normal(size=3)
        new, s = rmsprop_step(p, [g], s, lr=0.3)
        np.testing.assert_allclose(new[0] - p[0], -effective_lr(s[0], lr=0.3) * g, rtol=1e-12)
        p = new


def test_centered_blows_up_on_a_constant_gradient_like_torch():
    """With the same gradient every step, v - ḡ² = α^t (1 - α^t) g² → 0, so centered steps
    grow towards lr/eps; ours follows torch there. The subtraction cancels: its relative
    rounding error grows like 1/α^t (about 2e4 at t = 1000), hence rtol 1e-9 here."""
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.RMSprop([x], lr=0.01, centered=True, foreach=False)
    p, s = [np.zeros(1)], init_state([np.zeros(1)], centered=True)
    for _ in range(1000):
        x.grad = torch.ones(1, dtype=torch.float64)
        opt.step()
        p, s = rmsprop_step(p, [np.ones(1)], s, lr=0.01, centered=True)
    np.testing.assert_allclose(p[0], x.detach().numpy(), rtol=1e-9)
    new, _ = rmsprop_step(p, [np.ones(1)], s, lr=0.01, centered=True)
    assert abs(new[0][0] - p[0][0]) > 100 * 0.01  # one step now moves more than 100 lr


def _centered_pair(dtype, grads, **options):
    """Ours and torch's centered RMSprop after the given gradients: (param, state) of each."""
    x = torch.zeros(1, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True)
    opt = torch.optim.RMSprop([x], centered=True, foreach=False, **options)
    p, s = [np.zeros(1, dtype)], init_state([np.zeros(1, dtype)], centered=True)
    with np.errstate(over="ignore", invalid="ignore"):
        for g in grads:
            x.grad = torch.tensor(np.array([g], dtype))
            opt.step()
            p, s = rmsprop_step(p, [np.array([g], dtype)], s, centered=True, **options)
    return (p[0], s[0]), (x.detach().numpy(), {k: v.numpy() for k, v in opt.state[x].items()})


def test_centered_float32_plateau_on_a_constant_gradient():
    """In float32, with gradient 1 every step, rounding keeps v - ḡ² positive: the steps stop
    growing at about 5.8 (580 lr), in torch and here, as the page says."""
    x = torch.zeros(1, requires_grad=True)
    opt = torch.optim.RMSprop([x], lr=0.01, centered=True, foreach=False)
    p, s = [np.zeros(1, np.float32)], init_state([np.zeros(1, np.float32)], centered=True)
    ours, theirs = [], []
    for _ in range(3000):
        before_p, before_x = p[0], x.detach().numpy().copy()
        p, s = rmsprop_step(p, [np.ones(1, np.float32)], s, lr=0.01, centered=True)
        x.grad = torch.ones(1)
        opt.step()
        ours.append(abs(float(p[0][0] - before_p[0])))
        theirs.append(abs(float(x.detach()[0] - before_x[0])))
    for steps in (ours, theirs):
        assert 5.0 < max(steps) < 7.0  # far below lr / eps = 1e6
        assert steps[-1] == pytest.approx(max(steps), rel=1e-3)  # it has stopped growing
    assert ours[-1] == pytest.approx(theirs[-1], rel=1e-3)


def test_centered_overflow_difference_is_as_documented():
    """When ḡ² overflows (float32, g = 1e30), torch's addcmul gives v - ḡ² = inf and a step of
    0; ours computes inf - inf, and the parameter becomes NaN."""
    (p, s), (x, ts) = _centered_pair(np.float32, [1e30])
    assert np.isinf(ts["square_avg"][0])
    assert np.isinf(s["square_avg"][0])
    assert x[0] == 0.0
    assert np.isnan(p[0])


def test_centered_grad_avg_after_an_infinite_gradient_is_as_documented():
    """One step after an infinite gradient torch's grad_avg (updated by lerp) is NaN and ours
    is inf; the parameter is NaN in both from the first of those steps."""
    (p, s), (x, ts) = _centered_pair(np.float64, [np.inf])
    assert np.isnan(p[0])
    assert np.isnan(x[0])
    (p, s), (x, ts) = _centered_pair(np.float64, [np.inf, 1.0])
    assert np.isnan(p[0])
    assert np.isnan(x[0])
    assert np.isnan(ts["grad_avg"][0])
    assert s["grad_avg"][0] == np.inf
