"""SGD with momentum and Nesterov matches torch.optim.SGD, buffer included, step by step; the
buffer form equals the velocity form at a constant learning rate, and Nesterov's iterates are
the velocity form's look-ahead points."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.optimizers.momentum import buffer_form, init_state, momentum_step, velocity_form
from tests.helpers import DTYPES, assert_matches, dtype_id
from tests.optimizers._reference import compare

CONFIGS = {
    "momentum": {"momentum": 0.9},
    "dampening+weight_decay": {"momentum": 0.3, "dampening": 0.5, "weight_decay": 0.05},
    "nesterov": {"momentum": 0.9, "nesterov": True},
    "nesterov+weight_decay+maximize": {"momentum": 0.5, "nesterov": True, "weight_decay": 0.1,
                                       "maximize": True},
    "momentum=0": {"momentum": 0.0, "weight_decay": 0.1},
}


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_matches_torch_over_20_steps(config, dtype):
    """Parameters and momentum_buffer agree with torch after each of 20 steps."""
    compare(momentum_step, init_state, torch.optim.SGD, dtype, options=config)


def test_foreach_path():
    """torch's multi-tensor (foreach) implementation gives the same steps and buffers."""
    compare(momentum_step, init_state, torch.optim.SGD, np.float64,
            options={"momentum": 0.9, "dampening": 0.1}, foreach=True)


@pytest.mark.parametrize("bad", [{"lr": -0.1}, {"momentum": -0.5}, {"weight_decay": -1.0},
                                 {"nesterov": True}, {"nesterov": True, "momentum": 0.9,
                                                      "dampening": 0.1}])
def test_invalid_values_refused_like_torch(bad):
    """Negative values, and Nesterov without momentum or with dampening, raise ValueError."""
    p = [np.zeros(2)]
    with pytest.raises(ValueError, match=r"Invalid|Nesterov"):
        torch.optim.SGD([torch.zeros(2, requires_grad=True)], **{"lr": 0.1, **bad})
    with pytest.raises(ValueError, match=r">= 0|Nesterov"):
        momentum_step(p, [np.ones(2)], init_state(p), **{"lr": 0.1, **bad})


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("nesterov", [False, True], ids=["heavy-ball", "nesterov"])
def test_late_parameter_starts_its_buffer_at_its_first_gradient(nesterov, dtype):
    """A parameter whose gradient is None for its first 5 steps gets its buffer (b = g,
    undamped) at its first gradient, as in torch; parameters and buffers match at every step."""
    rng = np.random.default_rng(3)
    options = {"lr": 0.05, "momentum": 0.9, "dampening": 0.0 if nesterov else 0.5,
               "nesterov": nesterov}
    params = [rng.normal(size=3).astype(dtype), rng.normal(size=2).astype(dtype)]
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt = torch.optim.SGD(tparams, foreach=False, **options)
    state = init_state(params)
    for t in range(20):
        grads = [rng.normal(size=3).astype(dtype),
                 None if t < 5 else rng.normal(size=2).astype(dtype)]
        for tp, g in zip(tparams, grads, strict=True):
            tp.grad = None if g is None else torch.tensor(g)
        opt.step()
        params, state = momentum_step(params, grads, state, **options)
        assert (state[1]["momentum_buffer"] is None) == (t < 5) == (tparams[1] not in opt.state)
        if t == 5:
            assert np.array_equal(state[1]["momentum_buffer"], grads[1])
        for p, s, tp in zip(params, state, tparams, strict=True):
            assert_matches(p, tp.detach())
            if s["momentum_buffer"] is not None:
                assert_matches(s["momentum_buffer"], opt.state[tp]["momentum_buffer"])


def test_first_buffer_is_the_undamped_gradient():
    """b_1 = g even with dampening (torch's rule), then b_2 = μ b_1 + (1 - τ) g_2."""
    p = [np.zeros(1)]
    _, s = momentum_step(p, [np.array([2.0])], init_state(p), lr=0.1, momentum=0.9,
                         dampening=0.5)
    assert s[0]["momentum_buffer"].tolist() == [2.0]
    _, s = momentum_step(p, [np.array([4.0])], s, lr=0.1, momentum=0.9, dampening=0.5)
    assert s[0]["momentum_buffer"].tolist() == pytest.approx([0.9 * 2.0 + 0.5 * 4.0])


def _bowl(theta):
    return np.array([1.0, 10.0]) * theta


@settings(max_examples=20)
@given(lr=st.floats(0.001, 0.09), mu=st.floats(0.0, 0.99), steps=st.integers(1, 30))
def test_buffer_form_equals_velocity_form_at_constant_lr(lr, mu, steps):
    """θ - η b with b = μ b + g equals θ + v with v = μ v - η g when η never changes."""
    theta0 = np.array([1.0, -1.0])
    a = buffer_form(_bowl, theta0, [lr] * steps, mu)
    b, _ = velocity_form(_bowl, theta0, [lr] * steps, mu)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@settings(max_examples=20)
@given(lr=st.floats(0.001, 0.09), mu=st.floats(0.01, 0.99), steps=st.integers(1, 30))
def test_nesterov_iterates_are_the_lookahead_points(lr, mu, steps):
    """torch's Nesterov iterate equals θ + μ v of Sutskever et al.'s form (same start)."""
    theta0 = np.array([1.0, -1.0])
    a = buffer_form(_bowl, theta0, [lr] * steps, mu, nesterov=True)
    b, v = velocity_form(_bowl, theta0, [lr] * steps, mu, nesterov=True)
    np.testing.assert_allclose(a, b + mu * v, rtol=1e-9, atol=1e-12)


def test_forms_differ_after_a_learning_rate_change():
    """After η drops, the buffer form's step shrinks at once; the velocity form's does not."""
    lrs = [0.05] * 20 + [0.005] * 5
    theta0 = np.array([1.0, 1.0])
    a = buffer_form(_bowl, theta0, lrs, 0.9)
    b, _ = velocity_form(_bowl, theta0, lrs, 0.9)
    np.testing.assert_allclose(a[:21], b[:21], rtol=1e-12, atol=1e-15)
    step_a, step_b = np.abs(a[21] - a[20]).max(), np.abs(b[21] - b[20]).max()
    assert step_b > 5 * step_a
