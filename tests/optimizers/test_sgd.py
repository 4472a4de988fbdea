"""Plain SGD matches torch.optim.SGD (momentum=0) step by step, and diverges where theory says."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.optimizers.sgd import init_state, quadratic_run, sgd_step
from tests.helpers import DTYPES, dtype_id
from tests.optimizers._reference import compare

CONFIGS = {
    "default": {},
    "weight_decay": {"weight_decay": 0.1},
    "maximize+weight_decay": {"maximize": True, "weight_decay": 0.3},
}


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_matches_torch_over_20_steps(config, dtype):
    """Parameters agree with torch after each of 20 steps, for two groups and every case."""
    compare(sgd_step, init_state, torch.optim.SGD, dtype, options=config)


def test_foreach_path():
    """torch's multi-tensor (foreach) implementation gives the same steps."""
    compare(sgd_step, init_state, torch.optim.SGD, np.float64, foreach=True)


@pytest.mark.parametrize("bad", [{"lr": -0.1}, {"weight_decay": -1.0}])
def test_invalid_values_refused_like_torch(bad):
    """A negative lr or weight decay raises ValueError, as torch's constructor does."""
    p = [np.zeros(2)]
    with pytest.raises(ValueError, match=r"Invalid|Nesterov"):
        torch.optim.SGD([torch.zeros(2, requires_grad=True)], **{"lr": 0.1, **bad})
    with pytest.raises(ValueError, match=r">= 0|Nesterov"):
        sgd_step(p, [np.ones(2)], init_state(p), **{"lr": 0.1, **bad})


def test_inputs_not_modified():
    """The step returns new arrays and leaves the caller's parameters and gradients alone."""
    p, g = [np.array([1.0, 2.0])], [np.array([0.5, -0.5])]
    new_p, _ = sgd_step(p, g, init_state(p), lr=0.1, weight_decay=0.1)
    assert p[0].tolist() == [1.0, 2.0]
    assert g[0].tolist() == [0.5, -0.5]
    assert not np.shares_memory(new_p[0], p[0])


@settings(max_examples=40)
@given(h=st.floats(0.1, 100.0), r=st.floats(0.05, 1.95))
def test_quadratic_converges_below_two_over_h(h, r):
    """On (h/2) θ², each step multiplies θ by 1 - lr h: it shrinks for lr h < 2. (θ - lr h θ
    cancels when lr h is near 1, so the bound is a few ulps of the terms, not of the result.)"""
    lr = r / h
    path = quadratic_run(h, lr, steps=5)
    error = np.abs(path[1:] - path[:-1] * (1 - lr * h))
    assert np.all(error <= 1e-15 * np.abs(path[:-1]) * (1 + lr * h))
    assert abs(path[-1]) < abs(path[0])


def test_quadratic_diverges_above_two_over_h():
    """With lr h > 2 the iterate grows geometrically, by |1 - lr h| per step."""
    path = quadratic_run(10.0, 0.21, steps=30)
    assert abs(path[-1]) == pytest.approx(1.1**30, rel=1e-9)
