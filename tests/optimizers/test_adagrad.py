"""Adagrad matches torch.optim.Adagrad, parameters and state (step, sum), step by step."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.optimizers.adagrad import adagrad_step, effective_lr, init_state
from tests.helpers import DTYPES, assert_matches, dtype_id
from tests.optimizers._reference import compare

CONFIGS = {
    "default": ({}, {}),
    "lr_decay": ({"lr_decay": 0.05}, {}),
    "initial_accumulator_value": ({}, {"initial_accumulator_value": 0.3}),
    "weight_decay": ({"weight_decay": 0.1}, {}),
    "maximize": ({"maximize": True}, {}),
    "eps=0.1": ({"eps": 0.1}, {}),
    "lr_decay+initial_accumulator_value": ({"lr_decay": 0.05}, {"initial_accumulator_value": 0.3}),
    "weight_decay+maximize": ({"weight_decay": 0.1, "maximize": True}, {}),
    "eps=0.1+all": ({"eps": 0.1, "lr_decay": 0.01, "weight_decay": 0.01},
                    {"initial_accumulator_value": 1.0}),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("options", "init"), CONFIGS.values(), ids=CONFIGS.keys())
def test_matches_torch_over_20_steps(options, init, dtype):
    """Parameters, step and sum agree with torch after each of 20 steps (the parameter without
    gradient included: torch makes Adagrad's state up front)."""
    compare(adagrad_step, init_state, torch.optim.Adagrad, dtype, options=options,
            init_options=init)


def test_foreach_path():
    """torch's multi-tensor (foreach) implementation gives the same steps and state."""
    compare(adagrad_step, init_state, torch.optim.Adagrad, np.float64,
            options={"lr_decay": 0.01}, foreach=True)


@pytest.mark.parametrize("bad", [{"lr": -0.1}, {"lr_decay": -0.1}, {"weight_decay": -1.0},
                                 {"eps": -1e-10}])
def test_invalid_values_refused_like_torch(bad):
    """Negative lr, lr_decay, weight_decay or eps raise ValueError, as in torch."""
    p = [np.zeros(2)]
    with pytest.raises(ValueError, match=r"Invalid|Nesterov"):
        torch.optim.Adagrad([torch.zeros(2, requires_grad=True)], **{"lr": 0.1, **bad})
    with pytest.raises(ValueError, match=r">= 0|Nesterov"):
        adagrad_step(p, [np.ones(2)], init_state(p), **{"lr": 0.1, **bad})


def test_negative_initial_accumulator_refused_like_torch():
    """A negative initial_accumulator_value raises ValueError, in torch and in init_state."""
    with pytest.raises(ValueError, match=r"Invalid"):
        torch.optim.Adagrad([torch.zeros(2, requires_grad=True)], initial_accumulator_value=-1)
    with pytest.raises(ValueError, match=r">= 0"):
        init_state([np.zeros(2)], initial_accumulator_value=-1)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_late_parameter_counts_its_own_steps(dtype):
    """A parameter whose gradient is None for its first 5 steps starts its step count (and so
    its lr_decay) at its first gradient, and matches torch, state included, at every step."""
    rng = np.random.default_rng(3)
    params = [rng.normal(size=3).astype(dtype), rng.normal(size=2).astype(dtype)]
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt = torch.optim.Adagrad(tparams, lr=0.1, lr_decay=0.5, foreach=False)
    state = init_state(params)
    for t in range(20):
        grads = [rng.normal(size=3).astype(dtype),
                 None if t < 5 else rng.normal(size=2).astype(dtype)]
        for tp, g in zip(tparams, grads, strict=True):
            tp.grad = None if g is None else torch.tensor(g)
        opt.step()
        params, state = adagrad_step(params, grads, state, lr=0.1, lr_decay=0.5)
        assert state[1]["step"] == max(0, t - 4)
        for p, s, tp in zip(params, state, tparams, strict=True):
            assert_matches(p, tp.detach())
            assert_matches(s["sum"], opt.state[tp]["sum"])
            assert s["step"] == opt.state[tp]["step"].item()


@settings(max_examples=20)
@given(c=st.floats(1e-3, 1e3), seed=st.integers(0, 10**6))
def test_scale_invariant_without_eps(c, seed):
    """With eps = 0, multiplying every gradient by c > 0 leaves every step unchanged."""
    grads = np.random.default_rng(seed).normal(size=(10, 3))
    paths = []
    for scale in (1.0, c):
        p, s = [np.zeros(3)], init_state([np.zeros(3)])
        for g in grads:
            p, s = adagrad_step(p, [scale * g], s, lr=0.1, eps=0.0)
        paths.append(p[0])
    np.testing.assert_allclose(paths[0], paths[1], rtol=1e-12, atol=1e-14)


def test_first_step_moves_every_coordinate_by_lr():
    """From a zero accumulator, step 1 is lr · g / (|g| + eps): about lr in every coordinate,
    whatever |g|, and half of it when |g| = eps."""
    p = [np.zeros(5)]
    g = np.array([1e-3, -1.0, 50.0, -1e4, 1e-10])
    new, _ = adagrad_step(p, [g], init_state(p), lr=0.5)
    np.testing.assert_allclose(new[0], -0.5 * g / (np.abs(g) + 1e-10), rtol=1e-15)
    np.testing.assert_allclose(np.abs(new[0]), [0.5, 0.5, 0.5, 0.5, 0.25], rtol=1e-6)


def test_rare_coordinate_keeps_a_larger_effective_lr():
    """A coordinate with a gradient every 10th step has √10 times the effective lr at t = 100."""
    p = [np.zeros(2)]
    s = init_state(p)
    for t in range(1, 101):
        p, s = adagrad_step(p, [np.array([1.0, 1.0 if t % 10 == 0 else 0.0])], s, lr=0.1)
    eff = effective_lr(s[0], lr=0.1)
    np.testing.assert_allclose(eff, [0.1 / 10, 0.1 / np.sqrt(10)], rtol=1e-9)


def test_effective_lr_is_the_factor_applied():
    """θ_t - θ_(t-1) = -effective_lr · g_t, with lr_decay too."""
    rng = np.random.default_rng(1)
    p, s = [rng.normal(size=3)], init_state([np.zeros(3)], 0.2)
    for _ in range(5):
        g = rng.normal(size=3)
        new, s = adagrad_step(p, [g], s, lr=0.3, lr_decay=0.1)
        np.testing.assert_allclose(new[0] - p[0], -effective_lr(s[0], lr=0.3, lr_decay=0.1) * g,
                                   rtol=1e-12)
        p = new
