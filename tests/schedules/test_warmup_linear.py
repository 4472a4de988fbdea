"""Linear warm-up then linear decay matches PyTorch's SequentialLR(LinearLR, LinearLR)."""

from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim.lr_scheduler import LinearLR, SequentialLR

from snippets.schedules.warmup_linear import torch_lrs, torch_warmup_linear, warmup_linear
from tests.helpers import TOLERANCE

F64 = TOLERANCE[np.dtype(np.float64)]
W, T, LR = 100, 1000, 0.1
STEPS = np.arange(T + 200)


@pytest.mark.parametrize(("s", "e"), [(0.01, 0.0), (0.5, 0.1), (1.0, 0.0), (1.0, 1.0),
                                      (0.3, 1.0)])
def test_every_step_of_a_long_run_matches_torch(s, e):
    """All 1200 learning rates (past the end too) equal SequentialLR's, in float64."""
    ref = torch_lrs(lambda o: torch_warmup_linear(o, W, T, s, e), len(STEPS), LR)
    np.testing.assert_allclose(warmup_linear(STEPS, LR, W, T, s, e), ref, **F64)


@settings(max_examples=25)  # each example drives torch for up to 105 steps
@given(W=st.integers(1, 40), decay=st.integers(1, 60), s=st.floats(0.01, 1.0),
       e=st.floats(0.0, 1.0), lr=st.floats(1e-6, 10.0))
def test_random_schedules_match_torch(W, decay, s, e, lr):
    """Any warm-up length, decay length, factors and peak: every step equals torch's."""
    T = W + decay
    steps = np.arange(T + 5)
    ref = torch_lrs(lambda o: torch_warmup_linear(o, W, T, s, e), len(steps), lr)
    # the absolute tolerance scales with the peak, which goes down to 1e-6
    np.testing.assert_allclose(warmup_linear(steps, lr, W, T, s, e), ref,
                               rtol=F64["rtol"], atol=F64["atol"] * lr)


def test_first_optimizer_step_uses_lr_of_step_0():
    """Step t moves an SGD parameter by lr(t) times its gradient: step 0 uses lr(0)."""
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=LR)
    scheduler = torch_warmup_linear(optimizer, W, T, 0.01, 0.0)
    for t in range(W + 3):
        with torch.no_grad():
            param.zero_()
        param.grad = torch.ones_like(param)
        optimizer.step()
        scheduler.step()
        assert -param.item() == pytest.approx(warmup_linear(t, LR, W, T, 0.01), rel=1e-14)


def test_warm_up_from_zero_wastes_the_first_step():
    """With s = 0 the first step has lr 0: SGD leaves the parameter where it was."""
    assert warmup_linear(0, LR, W, T) == 0.0
    param = torch.ones(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=LR)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda t: float(warmup_linear(t, 1.0, W, T)))
    param.grad = torch.ones_like(param)
    optimizer.step()
    scheduler.step()
    assert param.item() == 1.0


def test_torch_linearlr_refuses_a_zero_start_factor():
    """The page says LinearLR cannot start at 0: it raises ValueError."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        LinearLR(optimizer, start_factor=0.0, total_iters=W)


def test_the_peak_is_first_used_at_step_w():
    """The last warm-up step W - 1 is below the peak; step W is the peak."""
    lrs = warmup_linear(np.arange(2 * W), LR, W, T)
    assert lrs.argmax() == W
    assert lrs[W] == LR
    assert lrs[W - 1] == pytest.approx(LR * (W - 1) / W, rel=1e-15)


def test_a_milestone_one_late_repeats_the_peak_and_ends_one_step_late():
    """SequentialLR with milestone W + 1 (warm-up total_iters W) uses the peak twice and
    reaches 0 at T + 1 instead of T, as the page shows."""
    def late(o):
        warmup = LinearLR(o, 0.01, 1.0, total_iters=W)
        decay = LinearLR(o, 1.0, 0.0, total_iters=T - W)
        return SequentialLR(o, [warmup, decay], milestones=[W + 1])

    bad = torch_lrs(late, T + 2, LR)
    assert bad[W] == pytest.approx(LR, rel=1e-14)
    assert bad[W + 1] == pytest.approx(LR, rel=1e-14)
    assert bad[T] > 0
    assert bad[T + 1] == pytest.approx(0.0, abs=1e-15)
    ours = warmup_linear(np.arange(W + 1, T + 2), LR, W, T)  # bad is ours shifted by 1
    np.testing.assert_allclose(bad[W + 2 :], ours[: T - W], **F64)


def test_no_warm_up_is_a_plain_linear_decay():
    """W = 0: the schedule is LinearLR(1, e, T) alone, whatever the start factor."""
    ref = torch_lrs(lambda o: LinearLR(o, 1.0, 0.2, total_iters=T), T + 50, LR)
    ours = warmup_linear(np.arange(T + 50), LR, 0, T, start_factor=0.7, end_factor=0.2)
    np.testing.assert_allclose(ours, ref, **F64)


def test_no_decay_phase_drops_to_the_end_value_at_t():
    """T = W: warm-up as LinearLR(s, 1, W) for t < W, then e * lr from step T on."""
    ref = torch_lrs(lambda o: LinearLR(o, 0.2, 1.0, total_iters=W), W, LR)
    ours = warmup_linear(np.arange(W + 20), LR, W, W, start_factor=0.2, end_factor=0.3)
    np.testing.assert_allclose(ours[:W], ref, **F64)
    np.testing.assert_allclose(ours[W:], 0.3 * LR, **F64)


def test_zero_length_schedule_is_constant():
    """W = T = 0: every step uses e * lr."""
    np.testing.assert_array_equal(warmup_linear(np.arange(5), LR, 0, 0, end_factor=0.5),
                                  np.full(5, 0.5 * LR))


@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 4)], ids=str)
def test_shapes(shape):
    """The output has the shape of `step`; a scalar step gives a float64 scalar."""
    steps = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape) * 37
    out = warmup_linear(steps, LR, W, T)
    assert np.shape(out) == shape
    assert np.asarray(out).dtype == np.float64
    np.testing.assert_array_equal(np.ravel(out),
                                  [warmup_linear(int(t), LR, W, T) for t in np.ravel(steps)])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"step": -1}, "step must be >= 0"),
    ({"step": 1.5}, "integer"),
    ({"step": True}, "integer"),
    ({"base_lr": -0.1}, "base_lr"),
    ({"base_lr": float("nan")}, "base_lr"),
    ({"warmup_steps": -1}, "warmup_steps"),
    ({"warmup_steps": 2.0}, "warmup_steps"),
    ({"total_steps": 50}, "total_steps"),
    ({"start_factor": -0.1}, "start_factor"),
    ({"start_factor": 1.5}, "start_factor"),
    ({"end_factor": 2.0}, "end_factor"),
])
def test_invalid_parameters_are_refused(kwargs, message):
    """Each parameter out of its documented range raises a ValueError naming it."""
    args = {"step": 3, "base_lr": LR, "warmup_steps": W, "total_steps": T, **kwargs}
    with pytest.raises(ValueError, match=message):
        warmup_linear(**args)


@given(W=st.integers(0, 50), decay=st.integers(0, 50), s=st.floats(0, 1), e=st.floats(0, 1))
def test_shape_of_the_curve(W, decay, s, e):
    """Non-decreasing up to W, non-increasing after, between min(s, e) lr and lr, and no
    jump between neighbouring steps larger than one warm-up or decay increment."""
    T = W + decay
    lrs = warmup_linear(np.arange(T + 5), 1.0, W, T, s, e)
    rising = lrs[: W + 1] if decay > 0 else lrs[:W]  # T = W: the drop to e comes at W
    assert np.all(np.diff(rising) >= -1e-15)
    assert np.all(np.diff(lrs[W:]) <= 1e-15)
    assert lrs.max() <= 1.0 + 1e-15
    assert lrs.min() >= min(s, e) - 1e-15
    if W > 0 and decay > 0:
        assert np.abs(np.diff(lrs[: T + 1])).max() <= max(1 / W, 1 / decay) + 1e-12


def test_adam_at_rate_zero_records_the_gradient_but_does_not_move():
    """The page: with s = 0 Adam's first step fills its moment estimates and counts the step
    (for its bias correction); the parameters stay."""
    param = torch.ones(3, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([param], lr=LR)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda t: float(warmup_linear(t, 1.0, W, T)))
    param.grad = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    optimizer.step()
    scheduler.step()
    assert torch.equal(param.detach(), torch.ones(3, dtype=torch.float64))
    np.testing.assert_allclose(optimizer.state[param]["exp_avg"].numpy(),
                               0.1 * param.grad.numpy(), **F64)  # (1 - beta1) g
    assert optimizer.state[param]["step"].item() == 1


def test_scheduler_stepped_first_warns_and_skips_lr_0():
    """scheduler.step() before optimizer.step(): torch warns, and step 0 runs at lr(1)."""
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=LR)
    scheduler = torch_warmup_linear(optimizer, W, T, 0.01, 0.0)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        scheduler.step()
    param.grad = torch.ones_like(param)
    optimizer.step()
    assert -param.item() == pytest.approx(warmup_linear(1, LR, W, T, 0.01), rel=1e-14)


@pytest.mark.parametrize("e", [0.0, 0.25])
def test_last_step_of_a_t_step_run(e):
    """Step T - 1 uses lr (1 - (1 - e)(T - 1 - W)/(T - W)): lr / (T - W) when e = 0."""
    expected = LR * (1 - (1 - e) * (T - 1 - W) / (T - W))
    assert warmup_linear(T - 1, LR, W, T, end_factor=e) == pytest.approx(expected, rel=1e-14)
    if e == 0.0:
        assert warmup_linear(T - 1, LR, W, T) == pytest.approx(LR / (T - W), rel=1e-14)


def _exact(t, lr, W, T, s, e):
    """The schedule in exact rational arithmetic (of the float64 parameters)."""
    lr, s, e = Fraction(lr), Fraction(s), Fraction(e)
    if t < W:
        return lr * (s + (1 - s) * Fraction(t, W))
    return lr * (e + (1 - e) * Fraction(T - t, T - W)) if t < T else lr * e


def _max_relative_error(rates, steps, *args):
    exact = [_exact(int(t), *args) for t in steps]
    return float(max(abs(Fraction(float(r)) - x) / x for r, x in zip(rates, exact, strict=True)
                     if x))


@pytest.mark.parametrize(("s", "e"), [(0.01, 0.0), (0.5, 0.1), (1.0, 0.0)])
def test_closed_form_is_within_one_rounding_and_torch_drifts(s, e):
    """Against exact rationals the closed form is off by < 5e-16 relative at every one of
    1200 steps; torch's ratio-by-ratio updates drift further, up to about 1e-14."""
    ours = _max_relative_error(warmup_linear(STEPS, LR, W, T, s, e), STEPS, LR, W, T, s, e)
    ref = torch_lrs(lambda o: torch_warmup_linear(o, W, T, s, e), len(STEPS), LR)
    theirs = _max_relative_error(ref, STEPS, LR, W, T, s, e)
    assert ours < 5e-16
    assert 1e-15 < theirs < 2e-14


def test_textbook_decay_form_cancels_near_the_end():
    """1 + (e - 1)(t - W)/(T - W) loses about 4e-14 relative at step T - 1 (e = 0); the
    form the code uses, e + (1 - e)(T - t)/(T - W), is within one rounding."""
    t = T - 1
    textbook = LR * (1 + (0.0 - 1) * (t - W) / (T - W))
    exact = _exact(t, LR, W, T, 0.0, 0.0)
    assert abs(Fraction(textbook) - exact) / exact > 1e-14
    assert abs(Fraction(float(warmup_linear(t, LR, W, T))) - exact) / exact < 3e-16


def test_momentum_sgd_at_rate_zero_keeps_the_gradient_for_later():
    """The page: with s = 0 SGD with momentum does not move at step 0, but its buffer keeps
    that gradient, so step 1 moves by lr(1) (momentum g0 + g1)."""
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=LR, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda t: float(warmup_linear(t, 1.0, W, T)))
    for g in (2.0, 1.0):
        param.grad = torch.full_like(param, g)
        optimizer.step()
        scheduler.step()
        if g == 2.0:
            assert param.item() == 0.0
    assert -param.item() == pytest.approx(warmup_linear(1, LR, W, T) * (0.9 * 2 + 1),
                                          rel=1e-14)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint64])
def test_narrow_integer_steps_give_the_same_rates(dtype):
    """Steps of any integer dtype give the int64 result, even when W and T do not fit it."""
    steps = np.arange(0, 120, 7, dtype=dtype)
    np.testing.assert_array_equal(warmup_linear(steps, LR, 200, 1000, 0.1, 0.2),
                                  warmup_linear(steps.astype(np.int64), LR, 200, 1000, 0.1,
                                                0.2))
