"""Adadelta matches torch.optim.Adadelta, parameters and state (step, square_avg, acc_delta),
step by step."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.optimizers.adadelta import adadelta_step, init_state
from tests.helpers import DTYPES, dtype_id
from tests.optimizers._reference import compare

CONFIGS = {
    "default": {},
    "weight_decay+maximize": {"weight_decay": 0.1, "maximize": True},
    "rho=0.5, eps=1e-3": {"rho": 0.5, "eps": 1e-3},
}


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_matches_torch_over_20_steps(config, dtype):
    """Parameters, square_avg and acc_delta agree with torch after each of 20 steps; the
    two groups' learning rates are 1.0 (torch's default) and 0.5."""
    compare(adadelta_step, init_state, torch.optim.Adadelta, dtype, options=config,
            lrs=(1.0, 0.5))


@pytest.mark.parametrize("rho", [0.0, 1.0])
def test_rho_at_the_ends_of_its_range(rho):
    """ρ = 0 (no memory) and ρ = 1 (the averages never move from 0) agree with torch too."""
    compare(adadelta_step, init_state, torch.optim.Adadelta, np.float64, options={"rho": rho},
            lrs=(1.0, 0.5))


def test_foreach_path():
    """torch's multi-tensor (foreach) implementation gives the same steps and state."""
    compare(adadelta_step, init_state, torch.optim.Adadelta, np.float64, foreach=True)


@pytest.mark.parametrize("bad", [{"lr": -0.1}, {"rho": -0.1}, {"rho": 1.1}, {"eps": -1.0},
                                 {"weight_decay": -1.0}])
def test_invalid_values_refused_like_torch(bad):
    """rho outside [0, 1] or a negative lr, eps or weight_decay raises ValueError, as in
    torch."""
    p = [np.zeros(2)]
    with pytest.raises(ValueError, match=r"Invalid"):
        torch.optim.Adadelta([torch.zeros(2, requires_grad=True)], **bad)
    with pytest.raises(ValueError, match=r">= 0"):
        adadelta_step(p, [np.ones(2)], init_state(p), **bad)


@settings(max_examples=20)
@given(rho=st.floats(0.0, 0.999), g=st.floats(-1e3, 1e3), eps=st.floats(1e-8, 1e-2))
def test_first_step_closed_form(rho, g, eps):
    """From zero state, step 1 is lr · √eps / √((1 - ρ) g² + eps) · g: about √(eps/(1-ρ))
    in size once g² ≫ eps, whatever the gradient's scale."""
    p = [np.zeros(1)]
    new, s = adadelta_step(p, [np.array([g])], init_state(p), lr=2.0, rho=rho, eps=eps)
    delta = np.sqrt(eps) / np.sqrt((1 - rho) * g * g + eps) * g
    np.testing.assert_allclose(-new[0], [2.0 * delta], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(s[0]["acc_delta"], [(1 - rho) * delta**2], rtol=1e-12,
                               atol=1e-300)


def test_steps_do_not_depend_on_the_gradient_scale_once_it_dwarfs_eps():
    """Scaling every gradient by 1000 changes the path only through eps in √(v + eps): v is
    about 1 against eps = 1e-6, so by about a part in a million."""
    grads = 1 + np.random.default_rng(0).normal(size=(200, 1))
    paths = []
    for scale in (1.0, 1000.0):
        p, s = [np.zeros(1)], init_state([np.zeros(1)])
        for g in grads:
            p, s = adadelta_step(p, [scale * g], s)
        paths.append(p[0])
    np.testing.assert_allclose(paths[0], paths[1], rtol=1e-5)
