"""AdamW matches torch.optim.AdamW, parameters and state, step by step; its decay is decoupled
(outside m and v), unlike Adam's weight_decay, which is an L2 term in the gradient."""

import numpy as np
import pytest
import torch

from snippets.optimizers import adam
from snippets.optimizers.adamw import adamw_step, init_state
from tests.helpers import DTYPES, dtype_id
from tests.optimizers._reference import compare

CONFIGS = {
    "default (weight_decay=0.01)": {},
    "weight_decay=0": {"weight_decay": 0.0},
    "amsgrad": {"amsgrad": True, "weight_decay": 0.1},
    "maximize, weight_decay=0.5": {"maximize": True, "weight_decay": 0.5},
    "betas=(0.5, 0.9), eps=1e-3": {"betas": (0.5, 0.9), "eps": 1e-3},
}


def _init(options):
    return {"amsgrad": options.get("amsgrad", False)}


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_matches_torch_over_20_steps(config, dtype):
    """Parameters and every state tensor agree with torch after each of 20 steps; the
    parameter without gradient is not decayed, in torch or here."""
    compare(adamw_step, init_state, torch.optim.AdamW, dtype, options=config,
            init_options=_init(config))


def test_foreach_path():
    """torch's multi-tensor (foreach) implementation gives the same steps and state."""
    compare(adamw_step, init_state, torch.optim.AdamW, np.float64,
            options={"amsgrad": True}, init_options={"amsgrad": True}, foreach=True)


def test_adam_with_decoupled_weight_decay_is_adamw():
    """torch.optim.Adam(decoupled_weight_decay=True) takes the same steps as AdamW (and ours)."""

    def adam_decoupled(groups, **kwargs):
        return torch.optim.Adam(groups, decoupled_weight_decay=True, **kwargs)

    compare(adamw_step, init_state, adam_decoupled, np.float64, options={"weight_decay": 0.1})


@pytest.mark.parametrize("bad", [{"lr": -0.1}, {"eps": -1.0}, {"weight_decay": -1.0},
                                 {"betas": (1.0, 0.999)}, {"betas": (0.9, 1.0)}])
def test_invalid_values_refused_like_torch(bad):
    """A beta outside [0, 1) or a negative lr, eps or weight_decay raises ValueError."""
    p = [np.zeros(2)]
    with pytest.raises(ValueError, match=r"Invalid"):
        torch.optim.AdamW([torch.zeros(2, requires_grad=True)], **bad)
    with pytest.raises(ValueError, match=r">= 0"):
        adamw_step(p, [np.ones(2)], init_state(p), **bad)


def test_without_decay_it_is_adam():
    """weight_decay = 0 gives exactly Adam's steps and state."""
    rng = np.random.default_rng(0)
    p1 = p2 = [rng.normal(size=4)]
    s1, s2 = init_state(p1, amsgrad=True), adam.init_state(p2, amsgrad=True)
    for _ in range(20):
        g = [rng.normal(size=4)]
        p1, s1 = adamw_step(p1, g, s1, lr=0.01, weight_decay=0.0, amsgrad=True)
        p2, s2 = adam.adam_step(p2, g, s2, lr=0.01, amsgrad=True)
    assert np.array_equal(p1[0], p2[0])
    assert all(np.array_equal(s1[0][k], s2[0][k]) for k in s2[0])


def test_l2_in_adam_is_adamw_without_decay_fed_the_l2_gradient():
    """torch's Adam(weight_decay=λ) equals AdamW with its decay off, fed g + λθ: the L2 term
    goes through m and v, so its pull is divided by √v like the rest of the gradient."""
    rng = np.random.default_rng(0)
    theta = rng.normal(size=4)
    x = torch.tensor(theta.copy(), requires_grad=True)
    opt = torch.optim.Adam([x], lr=0.01, weight_decay=0.3, foreach=False)
    p, s = [theta], init_state([theta])
    for _ in range(20):
        g = rng.normal(size=4)
        x.grad = torch.tensor(g)
        opt.step()
        p, s = adamw_step(p, [g + 0.3 * p[0]], s, lr=0.01, weight_decay=0.0)
    np.testing.assert_allclose(p[0], x.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_decoupled_decay_shrinks_by_one_minus_lr_lambda_without_gradient():
    """With zero gradients Adam's step is 0, so each AdamW step multiplies θ by 1 - ηλ; with
    maximize=True too (the decay never flips sign)."""
    for maximize in (False, True):
        p, s = [np.array([2.0, -3.0])], init_state([np.zeros(2)])
        for _ in range(10):
            p, s = adamw_step(p, [np.zeros(2)], s, lr=0.1, weight_decay=0.2, maximize=maximize)
        np.testing.assert_allclose(p[0], np.array([2.0, -3.0]) * 0.98**10, rtol=1e-14)


def test_exp_avg_after_an_infinite_gradient_is_as_documented():
    """After an infinite gradient the parameter is NaN in torch and here; one step later
    torch's exp_avg (updated by lerp) is NaN, ours stays inf."""
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.AdamW([x], foreach=False)
    p, s = [np.zeros(1)], init_state([np.zeros(1)])
    for t, g in enumerate([np.inf, 1.0], start=1):
        x.grad = torch.tensor([g], dtype=torch.float64)
        opt.step()
        with np.errstate(invalid="ignore"):
            p, s = adamw_step(p, [np.array([g])], s)
        assert np.isnan(p[0][0])
        assert np.isnan(x.item())
        assert s[0]["exp_avg"][0] == np.inf
        assert np.isnan(opt.state[x]["exp_avg"].item()) == (t == 2)
