"""Exponential decay matches torch.optim.lr_scheduler.ExponentialLR at every step."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim.lr_scheduler import ExponentialLR

from snippets.schedules.exponential_decay import exponential_decay, half_life, torch_lrs
from tests.helpers import TOLERANCE

F64 = TOLERANCE[np.dtype(np.float64)]
LR = 0.1
STEPS = np.arange(1000)


@pytest.mark.parametrize("gamma", [0.995, 0.9, 0.5, 1.0])
def test_every_step_of_a_long_run_matches_torch(gamma):
    """All 1000 learning rates equal ExponentialLR's in float64, relative to each value:
    torch multiplies by gamma once per step, so its rounding error can grow by up to half
    an ulp per step (measured: about 2e-15, 10 ulps, at step 1000), inside 1e-12."""
    ref = torch_lrs(lambda o: ExponentialLR(o, gamma=gamma), len(STEPS), LR)
    np.testing.assert_allclose(exponential_decay(STEPS, LR, gamma), ref, rtol=1e-12, atol=0)


@settings(max_examples=25)  # each example drives torch for 200 steps
@given(gamma=st.floats(0.5, 1.0), lr=st.floats(1e-6, 10.0))
def test_random_schedules_match_torch(gamma, lr):
    """Any factor and initial rate: every step equals ExponentialLR's (relative 1e-12)."""
    ref = torch_lrs(lambda o: ExponentialLR(o, gamma=gamma), 200, lr)
    np.testing.assert_allclose(exponential_decay(np.arange(200), lr, gamma), ref,
                               rtol=1e-12, atol=0)


def test_gamma_one_is_constant():
    """gamma = 1: the rate never changes."""
    np.testing.assert_array_equal(exponential_decay(STEPS, LR, 1.0), LR)


def test_first_optimizer_step_uses_lr_of_step_0():
    """Step t moves an SGD parameter by lr(t) times its gradient: step 0 uses lr itself."""
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=LR)
    scheduler = ExponentialLR(optimizer, gamma=0.9)
    for t in range(5):
        with torch.no_grad():
            param.zero_()
        param.grad = torch.ones_like(param)
        optimizer.step()
        scheduler.step()
        assert -param.item() == pytest.approx(exponential_decay(t, LR, 0.9), rel=1e-14)


@given(gamma=st.floats(0.5, 0.9999))
def test_half_life_halves_the_rate(gamma):
    """After half_life(gamma) steps (a real number) the rate gamma^t is exactly halved."""
    assert gamma ** half_life(gamma) == pytest.approx(0.5, rel=1e-9)


def test_half_life_of_the_page_example():
    """gamma = 0.995 halves the rate between steps 138 and 139, as the page prints."""
    assert 138 < half_life(0.995) < 139
    assert exponential_decay(138, 1.0, 0.995) > 0.5 > exponential_decay(139, 1.0, 0.995)


@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 4)], ids=str)
def test_shapes(shape):
    """The output has the shape of `step`; a scalar step gives a float64 scalar."""
    steps = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape) * 11
    out = exponential_decay(steps, LR, 0.99)
    assert np.shape(out) == shape
    assert np.asarray(out).dtype == np.float64


def test_very_long_runs_underflow_to_zero_not_nan():
    """gamma^t for huge t underflows to 0.0, it does not raise or give NaN."""
    assert exponential_decay(10**6, LR, 0.5) == 0.0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"step": -1}, "step must be >= 0"),
    ({"step": np.array([0.0, 1.0])}, "integer"),
    ({"base_lr": -1.0}, "base_lr"),
    ({"gamma": 0.0}, "gamma"),
    ({"gamma": 1.01}, "gamma"),
])
def test_invalid_parameters_are_refused(kwargs, message):
    """Each parameter out of its documented range raises a ValueError naming it."""
    args = {"step": 3, "base_lr": LR, "gamma": 0.9, **kwargs}
    with pytest.raises(ValueError, match=message):
        exponential_decay(**args)


@pytest.mark.parametrize("gamma", [0.0, 1.0, 1.5])
def test_half_life_refuses_gammas_without_one(gamma):
    """No finite half-life outside (0, 1): ValueError."""
    with pytest.raises(ValueError, match="gamma"):
        half_life(gamma)


@given(gamma=st.floats(0.01, 1.0), a=st.integers(0, 500), b=st.integers(0, 500))
def test_steps_add_exponents(gamma, a, b):
    """lr(a + b) lr(0) = lr(a) lr(b): the defining property of an exponential."""
    assert exponential_decay(a + b, 1.0, gamma) == pytest.approx(
        exponential_decay(a, 1.0, gamma) * exponential_decay(b, 1.0, gamma),
        rel=1e-12, abs=1e-300)


def test_page_numbers():
    """0.95**300 is about 2e-7; gamma = (lr_T / lr)**(1/T) lands on lr_T at step T; the
    half-life is close to 0.69 / (1 - gamma) for gamma near 1."""
    assert exponential_decay(300, 1.0, 0.95) == pytest.approx(2e-7, rel=0.1)
    target, steps = 1e-4, 5000
    gamma = (target / LR) ** (1 / steps)
    assert exponential_decay(steps, LR, gamma) == pytest.approx(target, rel=1e-10)
    assert half_life(0.995) == pytest.approx(0.69 / 0.005, rel=0.01)


@pytest.mark.parametrize(("gamma", "expected"), [
    (1.5, [1, 1.5, 2.25, 3.375]),  # gamma > 1: the rate grows
    (0.0, [1, 0, 0, 0]),  # gamma = 0: 0 after the first step
    (-0.5, [1, -0.5, 0.25, -0.125]),  # gamma < 0: the sign flips at every step
])
def test_torch_accepts_gammas_ours_refuses(gamma, expected):
    """The page's differences: ExponentialLR runs with these gammas, ours raises ValueError."""
    ref = torch_lrs(lambda o: ExponentialLR(o, gamma=gamma), 4, LR)
    np.testing.assert_allclose(ref, LR * np.array(expected), rtol=1e-15, atol=0)
    with pytest.raises(ValueError, match="gamma"):
        exponential_decay(np.arange(4), LR, gamma)


def test_torch_rounding_grows_to_about_1e_15():
    """The page: after 1000 steps torch's relative error is about 1e-15 (above 5e-16, below
    5e-15) for gamma = 0.995 and 0.9."""
    for gamma in (0.995, 0.9):
        ref = torch_lrs(lambda o, g=gamma: ExponentialLR(o, gamma=g), len(STEPS), LR)
        relative = np.abs(exponential_decay(STEPS, LR, gamma) - ref) / ref
        assert 5e-16 < relative.max() < 5e-15


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint64])
def test_narrow_integer_steps_give_the_same_rates(dtype):
    """Steps of any integer dtype give the int64 result."""
    steps = np.arange(0, 120, 7, dtype=dtype)
    np.testing.assert_array_equal(exponential_decay(steps, LR, 0.99),
                                  exponential_decay(steps.astype(np.int64), LR, 0.99))
