"""Adam (and AMSGrad) match torch.optim.Adam, parameters and state (step, exp_avg, exp_avg_sq,
max_exp_avg_sq), step by step, with every option."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.optimizers.adam import adam_step, amsgrad_denominators, init_state
from tests.helpers import DTYPES, dtype_id
from tests.optimizers._reference import compare

CONFIGS = {
    "default": {},
    "weight_decay+maximize": {"weight_decay": 0.1, "maximize": True},
    "amsgrad+weight_decay": {"amsgrad": True, "weight_decay": 0.05},
    "betas=(0.5, 0.9), eps=1e-3": {"betas": (0.5, 0.9), "eps": 1e-3},
    "beta1=0": {"betas": (0.0, 0.99)},
}


def _init(options):
    return {"amsgrad": options.get("amsgrad", False)}


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_matches_torch_over_20_steps(config, dtype):
    """Parameters and every state tensor agree with torch after each of 20 steps."""
    compare(adam_step, init_state, torch.optim.Adam, dtype, options=config,
            init_options=_init(config))


def test_foreach_path():
    """torch's multi-tensor (foreach) implementation gives the same steps and state."""
    options = {"amsgrad": True, "weight_decay": 0.01}
    compare(adam_step, init_state, torch.optim.Adam, np.float64, options=options,
            init_options=_init(options), foreach=True)


@pytest.mark.parametrize("bad", [{"lr": -0.1}, {"eps": -1.0}, {"weight_decay": -1.0},
                                 {"betas": (1.0, 0.999)}, {"betas": (0.9, -0.1)}])
def test_invalid_values_refused_like_torch(bad):
    """A beta outside [0, 1) or a negative lr, eps or weight_decay raises ValueError."""
    p = [np.zeros(2)]
    with pytest.raises(ValueError, match=r"Invalid"):
        torch.optim.Adam([torch.zeros(2, requires_grad=True)], **bad)
    with pytest.raises(ValueError, match=r">= 0"):
        adam_step(p, [np.ones(2)], init_state(p), **bad)


@settings(max_examples=20)
@given(c=st.floats(1e-3, 1e3), seed=st.integers(0, 10**6), amsgrad=st.booleans())
def test_scale_invariant_without_eps(c, seed, amsgrad):
    """With eps = 0, multiplying every gradient by c > 0 leaves every step unchanged."""
    grads = np.random.default_rng(seed).normal(size=(10, 3))
    paths = []
    for scale in (1.0, c):
        p, s = [np.zeros(3)], init_state([np.zeros(3)], amsgrad)
        for g in grads:
            p, s = adam_step(p, [scale * g], s, lr=0.01, eps=0.0, amsgrad=amsgrad)
        paths.append(p[0])
    np.testing.assert_allclose(paths[0], paths[1], rtol=1e-9, atol=1e-15)


@settings(max_examples=20)
@given(g=st.floats(1e-12, 1e6), b1=st.floats(0.0, 0.99), b2=st.floats(0.0, 0.999))
def test_first_step_is_lr_times_g_over_abs_g_plus_eps(g, b1, b2):
    """Bias correction makes step 1 exactly lr · g / (|g| + eps), whatever the betas."""
    p = [np.zeros(1)]
    new, _ = adam_step(p, [np.array([g])], init_state(p), lr=0.1, betas=(b1, b2))
    np.testing.assert_allclose(-new[0], [0.1 * g / (g + 1e-8)], rtol=1e-12)


def test_amsgrad_keeps_the_max_of_raw_second_moments():
    """torch's AMSGrad state is max of the uncorrected v; corrected by the current step's
    factor it equals `amsgrad_denominators`' first output, and differs from the max of the
    corrected values after one large gradient."""
    grads = np.array([10.0] + [1.0] * 299)
    p, s = [np.zeros(1)], init_state([np.zeros(1)], amsgrad=True)
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([x], amsgrad=True, foreach=False)
    stored = []
    for g in grads:
        p, s = adam_step(p, [np.array([g])], s, amsgrad=True)
        x.grad = torch.tensor([g], dtype=torch.float64)
        opt.step()
        stored.append(opt.state[x]["max_exp_avg_sq"].item())
    torch_form, other = amsgrad_denominators(grads)
    t = np.arange(1, 301)
    np.testing.assert_allclose(torch_form, np.sqrt(np.array(stored) / (1 - 0.999**t)),
                               rtol=1e-12)
    np.testing.assert_allclose(s[0]["max_exp_avg_sq"], stored[-1], rtol=1e-12)
    assert other[-1] == pytest.approx(10.0)
    assert torch_form[-1] < 2.0


@pytest.mark.parametrize("beta1", [0.9, 0.5])
def test_exp_avg_after_an_infinite_gradient_is_as_documented(beta1):
    """After an infinite gradient the parameter is NaN in torch and here; torch's exp_avg
    (updated by lerp) is NaN one step later (at once for beta1 <= 0.5), ours stays inf."""
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([x], betas=(beta1, 0.999), foreach=False)
    p, s = [np.zeros(1)], init_state([np.zeros(1)])
    for t, g in enumerate([np.inf, 1.0], start=1):
        x.grad = torch.tensor([g], dtype=torch.float64)
        opt.step()
        with np.errstate(invalid="ignore"):
            p, s = adam_step(p, [np.array([g])], s, betas=(beta1, 0.999))
        assert np.isnan(p[0][0])
        assert np.isnan(x.item())
        assert s[0]["exp_avg"][0] == np.inf
        assert np.isnan(opt.state[x]["exp_avg"].item()) == (t == 2 or beta1 <= 0.5)
