"""Step decay matches torch.optim.lr_scheduler.StepLR at every step."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim.lr_scheduler import ExponentialLR, MultiStepLR, StepLR

from snippets.schedules.step_decay import step_decay, torch_lrs
from tests.helpers import TOLERANCE

F64 = TOLERANCE[np.dtype(np.float64)]
LR = 0.1
STEPS = np.arange(1000)


@pytest.mark.parametrize(("size", "gamma"), [(300, 0.1), (100, 0.5), (7, 0.9), (1000, 0.1),
                                             (2000, 0.1)])
def test_every_step_of_a_long_run_matches_torch(size, gamma):
    """All 1000 learning rates equal StepLR's in float64 (step_size past the run included)."""
    ref = torch_lrs(lambda o: StepLR(o, step_size=size, gamma=gamma), len(STEPS), LR)
    np.testing.assert_allclose(step_decay(STEPS, LR, size, gamma), ref, **F64)


@settings(max_examples=25)  # each example drives torch for 120 steps
@given(size=st.integers(1, 50), gamma=st.floats(0.01, 1.0), lr=st.floats(1e-6, 10.0))
def test_random_schedules_match_torch(size, gamma, lr):
    """Any step size, factor and initial rate: every step equals StepLR's."""
    ref = torch_lrs(lambda o: StepLR(o, step_size=size, gamma=gamma), 120, lr)
    # relative only: the rates go down to gamma**119 lr, far below any absolute tolerance
    np.testing.assert_allclose(step_decay(np.arange(120), lr, size, gamma), ref,
                               rtol=F64["rtol"], atol=0)


def test_step_size_one_is_exponential_decay():
    """step_size = 1: the rate is multiplied by gamma every step, as ExponentialLR does."""
    ref = torch_lrs(lambda o: ExponentialLR(o, gamma=0.99), len(STEPS), LR)
    np.testing.assert_allclose(step_decay(STEPS, LR, 1, 0.99), ref, **F64)


def test_gamma_one_is_constant():
    """gamma = 1: the rate never changes."""
    np.testing.assert_array_equal(step_decay(STEPS, LR, 10, 1.0), LR)


def test_the_drop_lands_on_multiples_of_step_size():
    """Steps S - 1 and S differ by the factor gamma; S and S + 1 are equal; so are 0 and 1."""
    lrs = step_decay(STEPS, LR, 300, 0.1)
    assert lrs[0] == lrs[1] == lrs[299] == LR
    assert lrs[300] == pytest.approx(LR * 0.1, rel=1e-15)
    assert lrs[300] == lrs[301]


def test_multisteplr_at_multiples_of_step_size_is_the_same_schedule():
    """MultiStepLR with milestones S, 2S, 3S gives the same rates as StepLR (and ours)."""
    ref = torch_lrs(lambda o: MultiStepLR(o, milestones=[300, 600, 900], gamma=0.1),
                    len(STEPS), LR)
    np.testing.assert_allclose(step_decay(STEPS, LR, 300, 0.1), ref, **F64)


def test_first_optimizer_step_uses_lr_of_step_0():
    """Step t moves an SGD parameter by lr(t) times its gradient, across two drops."""
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=LR)
    scheduler = StepLR(optimizer, step_size=3, gamma=0.5)
    for t in range(8):
        with torch.no_grad():
            param.zero_()
        param.grad = torch.ones_like(param)
        optimizer.step()
        scheduler.step()
        assert -param.item() == pytest.approx(step_decay(t, LR, 3, 0.5), rel=1e-15)


@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 4)], ids=str)
def test_shapes(shape):
    """The output has the shape of `step`; a scalar step gives a float64 scalar."""
    steps = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape) * 13
    out = step_decay(steps, LR, 30, 0.5)
    assert np.shape(out) == shape
    assert np.asarray(out).dtype == np.float64


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"step": -3}, "step must be >= 0"),
    ({"step": 0.5}, "integer"),
    ({"base_lr": -1.0}, "base_lr"),
    ({"step_size": 0}, "step_size"),
    ({"step_size": 2.5}, "step_size"),
    ({"step_size": True}, "step_size"),
    ({"gamma": 0.0}, "gamma"),
    ({"gamma": -0.5}, "gamma"),
    ({"gamma": 1.5}, "gamma"),
])
def test_invalid_parameters_are_refused(kwargs, message):
    """Each parameter out of its documented range raises a ValueError naming it."""
    args = {"step": 3, "base_lr": LR, "step_size": 10, "gamma": 0.1, **kwargs}
    with pytest.raises(ValueError, match=message):
        step_decay(**args)


def test_torch_steplr_with_step_size_zero_fails_without_a_clear_message():
    """Why ours checks step_size: torch's constructor accepts StepLR(step_size=0) and the
    first optimizer step runs; the first scheduler.step() raises ZeroDivisionError."""
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=LR)
    scheduler = StepLR(optimizer, step_size=0)
    param.grad = torch.ones_like(param)
    optimizer.step()
    assert param.item() == -LR
    with pytest.raises(ZeroDivisionError):
        scheduler.step()


@pytest.mark.parametrize(("size", "gamma", "expected"), [
    (2, 2.0, [1, 1, 2, 2, 4, 4]),  # gamma > 1: the rate grows
    (2, -0.5, [1, 1, -0.5, -0.5, 0.25, 0.25]),  # gamma < 0: a negative rate
    (-2, 0.5, [1, 1, 0.5, 0.5, 0.25, 0.25]),  # step_size < 0: as its absolute value
    (2.5, 0.5, [1, 1, 1, 1, 1, 0.5]),  # fractional: cuts at multiples of 2.5 (5, 10, ..)
])
def test_torch_accepts_what_ours_refuses(size, gamma, expected):
    """The page's differences: StepLR runs with these values, ours raises ValueError."""
    ref = torch_lrs(lambda o: StepLR(o, step_size=size, gamma=gamma), 6, LR)
    np.testing.assert_allclose(ref, LR * np.array(expected), rtol=1e-15, atol=0)
    with pytest.raises(ValueError, match=r"gamma|step_size"):
        step_decay(np.arange(6), LR, size, gamma)


def test_many_cuts_round_differently_by_a_few_1e_15():
    """S = 1, gamma = 0.99 over 1000 steps: torch's repeated products and our power differ
    by at most 3e-15 relative (about 20 ulps), and not by zero."""
    ref = torch_lrs(lambda o: StepLR(o, step_size=1, gamma=0.99), len(STEPS), LR)
    relative = np.abs(step_decay(STEPS, LR, 1, 0.99) - ref) / ref
    assert 1e-15 < relative.max() < 3e-15
    assert (np.abs(step_decay(STEPS, LR, 1, 0.99) - ref) / np.spacing(ref)).max() <= 30


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint64])
def test_narrow_integer_steps_give_the_same_rates(dtype):
    """Steps of any integer dtype give the int64 result, even when step_size does not fit."""
    steps = np.arange(0, 120, 7, dtype=dtype)
    np.testing.assert_array_equal(step_decay(steps, LR, 300, 0.5),
                                  step_decay(steps.astype(np.int64), LR, 300, 0.5))


@given(size=st.integers(1, 100), gamma=st.floats(0.01, 1.0), t=st.integers(0, 10_000))
def test_periods_multiply(size, gamma, t):
    """lr(t + S) = gamma lr(t): one more period, one more factor."""
    assert step_decay(t + size, 1.0, size, gamma) == pytest.approx(
        gamma * step_decay(t, 1.0, size, gamma), rel=1e-12, abs=1e-300)


def test_multisteplr_stops_cutting_after_its_last_milestone():
    """Milestones S, 2S, 3S: equal to StepLR before 4S, one cut short from 4S on."""
    ref = torch_lrs(lambda o: MultiStepLR(o, milestones=[300, 600, 900], gamma=0.1), 1300, LR)
    ours = step_decay(np.arange(1300), LR, 300, 0.1)
    np.testing.assert_allclose(ref[:1200], ours[:1200], **F64)
    np.testing.assert_allclose(ref[1200:], 10 * ours[1200:], **F64)


def test_a_cut_shrinks_the_next_torch_momentum_step_at_once():
    """torch's SGD momentum multiplies its gradient buffer by the current rate: right after
    a cut by gamma, the step is exactly gamma times what it would have been."""
    steps = []
    for gamma in (1.0, 0.1):
        param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.SGD([param], lr=LR, momentum=0.9)
        scheduler = StepLR(optimizer, step_size=3, gamma=gamma)
        for _ in range(4):
            before = param.item()
            param.grad = torch.ones_like(param)
            optimizer.step()
            scheduler.step()
        steps.append(param.item() - before)  # step 3: the first after the cut
    assert steps[1] == pytest.approx(0.1 * steps[0], rel=1e-14)
