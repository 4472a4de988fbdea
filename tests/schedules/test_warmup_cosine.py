"""Linear warm-up then cosine annealing matches SequentialLR(LinearLR, CosineAnnealingLR)."""

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR

from snippets.schedules.warmup_cosine import torch_lrs, torch_warmup_cosine, warmup_cosine
from tests.helpers import TOLERANCE

F64 = TOLERANCE[np.dtype(np.float64)]
W, T, LR, LR_MIN = 100, 1000, 0.1, 0.001


@pytest.mark.parametrize(("s", "floor"), [(0.01, 0.0), (0.5, LR_MIN), (1.0, 0.0),
                                          (0.2, LR)])
def test_every_step_of_a_long_run_matches_torch(s, floor):
    """All steps 0 .. T (the end included) equal torch's, in float64."""
    steps = np.arange(T + 1)
    ref = torch_lrs(lambda o: torch_warmup_cosine(o, W, T, floor, s), len(steps), LR)
    np.testing.assert_allclose(warmup_cosine(steps, LR, W, T, floor, s), ref, **F64)


@settings(max_examples=25)  # each example drives torch for up to 101 steps
@given(W=st.integers(1, 40), decay=st.integers(1, 60), s=st.floats(0.01, 1.0),
       floor=st.floats(0.0, 1.0), lr=st.floats(1e-6, 10.0))
def test_random_schedules_match_torch(W, decay, s, floor, lr):
    """Any warm-up, cosine length, start factor, floor and peak: steps 0 .. T equal torch's."""
    T = W + decay
    steps = np.arange(T + 1)
    ref = torch_lrs(lambda o: torch_warmup_cosine(o, W, T, floor * lr, s), len(steps), lr)
    # the absolute tolerance scales with the peak, which goes down to 1e-6
    np.testing.assert_allclose(warmup_cosine(steps, lr, W, T, floor * lr, s), ref,
                               rtol=F64["rtol"], atol=F64["atol"] * lr)


def test_the_floor_is_reached_exactly_at_t_and_never_used_by_a_t_step_run():
    """lr(T) is exactly min_lr; lr(T - 1), the last step of a T-step run, is above it."""
    assert warmup_cosine(T, LR, W, T, LR_MIN) == LR_MIN
    assert warmup_cosine(T - 1, LR, W, T, LR_MIN) > LR_MIN
    assert warmup_cosine(W, LR, W, T, LR_MIN) == LR


def test_after_t_ours_holds_while_torch_climbs_back():
    """Past T ours stays at min_lr; torch's CosineAnnealingLR mirrors the curve, lr(T + k) =
    lr(T - k), and is back at the peak after another T - W steps."""
    n = T + 2 * (T - W) + 1
    ref = torch_lrs(lambda o: torch_warmup_cosine(o, W, T, LR_MIN, 0.01), n, LR)
    late = np.arange(T, n)
    np.testing.assert_array_equal(warmup_cosine(late, LR, W, T, LR_MIN), LR_MIN)
    k = np.arange(0, T - W + 1)
    np.testing.assert_allclose(ref[T + k], warmup_cosine(T - k, LR, W, T, LR_MIN), **F64)
    assert ref[T + (T - W)] == pytest.approx(LR, rel=1e-12)
    assert ref[T + 2 * (T - W)] == LR_MIN  # exactly: 1 + cos(3 pi) rounds to 0


def test_cosine_alone_continues_as_a_periodic_cosine():
    """CosineAnnealingLR with no warm-up follows eta_min + (lr - eta_min)(1 + cos(pi t /
    T_max)) / 2 for t well past T_max: it has period 2 T_max."""
    n = 4 * 90 + 1
    ref = torch_lrs(lambda o: CosineAnnealingLR(o, T_max=90, eta_min=LR_MIN), n, LR)
    t = np.arange(n)
    periodic = LR_MIN + (LR - LR_MIN) * (1 + np.cos(np.pi * t / 90)) / 2
    np.testing.assert_allclose(ref, periodic, **F64)


def test_first_optimizer_step_uses_lr_of_step_0():
    """Step t moves an SGD parameter by lr(t) times its gradient: step 0 uses lr(0)."""
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=LR)
    scheduler = torch_warmup_cosine(optimizer, W, T, LR_MIN, 0.05)
    for t in range(W + 3):
        with torch.no_grad():
            param.zero_()
        param.grad = torch.ones_like(param)
        optimizer.step()
        scheduler.step()
        assert -param.item() == pytest.approx(
            warmup_cosine(t, LR, W, T, LR_MIN, 0.05), rel=1e-14)


def test_no_warm_up_is_cosine_annealing_alone():
    """W = 0: the schedule is CosineAnnealingLR(T_max = T) on steps 0 .. T."""
    ref = torch_lrs(lambda o: CosineAnnealingLR(o, T_max=T, eta_min=LR_MIN), T + 1, LR)
    ours = warmup_cosine(np.arange(T + 1), LR, 0, T, LR_MIN, start_factor=0.3)
    np.testing.assert_allclose(ours, ref, **F64)


def test_no_cosine_phase_drops_to_the_floor_at_t():
    """T = W: warm-up as LinearLR(s, 1, W) for t < W, then min_lr from step T on."""
    ref = torch_lrs(lambda o: LinearLR(o, 0.2, 1.0, total_iters=W), W, LR)
    ours = warmup_cosine(np.arange(W + 20), LR, W, W, LR_MIN, start_factor=0.2)
    np.testing.assert_allclose(ours[:W], ref, **F64)
    np.testing.assert_array_equal(ours[W:], LR_MIN)


def test_min_lr_equal_to_the_peak_is_constant_after_warm_up():
    """min_lr = lr: the cosine phase is flat at lr."""
    np.testing.assert_allclose(warmup_cosine(np.arange(W, T + 10), LR, W, T, LR), LR, **F64)


@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 4)], ids=str)
def test_shapes(shape):
    """The output has the shape of `step`; a scalar step gives a float64 scalar."""
    steps = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape) * 71
    out = warmup_cosine(steps, LR, W, T)
    assert np.shape(out) == shape
    assert np.asarray(out).dtype == np.float64
    np.testing.assert_array_equal(np.ravel(out),
                                  [warmup_cosine(int(t), LR, W, T) for t in np.ravel(steps)])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"step": -1}, "step must be >= 0"),
    ({"step": 2.0}, "integer"),
    ({"base_lr": -0.1}, "base_lr"),
    ({"base_lr": float("inf")}, "base_lr"),
    ({"warmup_steps": -1}, "warmup_steps"),
    ({"total_steps": 99}, "total_steps"),
    ({"min_lr": -1e-3}, "min_lr"),
    ({"min_lr": 0.2}, "min_lr"),
    ({"start_factor": 1.01}, "start_factor"),
])
def test_invalid_parameters_are_refused(kwargs, message):
    """Each parameter out of its documented range raises a ValueError naming it."""
    args = {"step": 3, "base_lr": LR, "warmup_steps": W, "total_steps": T, **kwargs}
    with pytest.raises(ValueError, match=message):
        warmup_cosine(**args)


@given(W=st.integers(0, 50), decay=st.integers(1, 50), s=st.floats(0, 1),
       floor=st.floats(0, 1))
def test_shape_of_the_curve(W, decay, s, floor):
    """Non-decreasing up to W, non-increasing after, within [min(s, floor), 1] lr, and
    point-symmetric about the middle of the decay: lr(W + k) + lr(T - k) = lr + min_lr."""
    T = W + decay
    lrs = warmup_cosine(np.arange(T + 5), 1.0, W, T, floor, s)
    assert np.all(np.diff(lrs[: W + 1]) >= -1e-15)
    assert np.all(np.diff(lrs[W:]) <= 1e-15)
    assert lrs.max() <= 1 + 1e-15
    assert lrs.min() >= min(s, floor) - 1e-15
    # cos is antisymmetric about the midpoint of the decay: lr(W + k) + lr(T - k) = 1 + floor
    k = np.arange(decay + 1)
    np.testing.assert_allclose(lrs[W + k] + lrs[T - k], 1 + floor, rtol=0, atol=1e-12)


def test_cosine_lingers_near_both_ends():
    """With no floor the rate is above 90% of the peak for the first 20% of the decay and
    below 10% for the last 20% (a linear decay crosses 90% after 10%)."""
    decay = 10_000
    p = np.arange(decay + 1) / decay
    lrs = warmup_cosine(np.arange(decay + 1), 1.0, 0, decay)
    assert p[lrs > 0.9].max() == pytest.approx(np.arccos(0.8) / np.pi, abs=1e-4)
    assert np.arccos(0.8) / np.pi == pytest.approx(0.2048, abs=1e-4)
    assert p[lrs < 0.1].min() == pytest.approx(1 - np.arccos(0.8) / np.pi, abs=1e-4)
    assert p[(1 - p) > 0.9].max() == pytest.approx(0.1, abs=2e-4)  # linear, for comparison


def _exact_cosine(t, W, T):
    """(1 + cos(pi (t - W)/(T - W))) / 2 in 40-digit arithmetic."""
    with mpmath.workdps(40):
        return (1 + mpmath.cos(mpmath.pi * mpmath.mpf(int(t - W)) / (T - W))) / 2


def _relative_error(value, t, W, T):
    exact = _exact_cosine(t, W, T)
    return float(abs((mpmath.mpf(float(value)) - exact) / exact))


def test_sine_form_is_accurate_to_the_floor_where_the_textbook_form_cancels():
    """No floor: every decay step is within 1e-15 relative of the exact cosine, the last one
    included; (1 + cos(pi p)) / 2 loses about 2e-12 at step T - 1 (900-step decay) and about
    7e-8 there for a 10^5-step decay."""
    steps = np.arange(W, T)
    ours = warmup_cosine(steps, 1.0, W, T)
    assert max(_relative_error(v, t, W, T) for v, t in zip(ours, steps, strict=True)) < 1e-15
    for total, low, high in [(T, 1e-12, 3e-12), (W + 10**5, 3e-8, 1.5e-7)]:
        t = total - 1
        textbook = (1 + np.cos(np.pi * ((t - W) / (total - W)))) / 2
        assert low < _relative_error(textbook, t, W, total) < high
        assert _relative_error(warmup_cosine(t, 1.0, W, total), t, W, total) < 1e-15


def test_torch_decay_is_close_but_its_climb_drifts():
    """The page's run: during the decay torch is within 1.2e-16 of the closed form; past T
    its climb misses the peak at T + (T - W) by about 2.4e-13 of it, far more."""
    n = T + (T - W) + 1
    ref = torch_lrs(lambda o: torch_warmup_cosine(o, W, T, LR_MIN, 0.01), n, LR)
    k = np.arange(W, T + 1)
    decay = LR_MIN + (LR - LR_MIN) * (1 + np.cos(np.pi * (k - W) / (T - W))) / 2
    assert np.abs(ref[W : T + 1] - decay).max() <= 1.2e-16
    assert 1e-13 < abs(ref[n - 1] / LR - 1) < 5e-13


def test_torch_climb_drifts_more_for_a_longer_cosine():
    """T_max = 10^4: one whole period after the start torch's rate misses the peak by about
    7.5e-12 of it. Only the scheduler is stepped in the loop (after one optimizer step, so
    torch does not warn): the rates come from its recursion alone."""
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=LR)
    scheduler = CosineAnnealingLR(optimizer, T_max=10_000, eta_min=LR_MIN)
    optimizer.step()
    for _ in range(20_000):
        scheduler.step()
    assert 5e-12 < abs(optimizer.param_groups[0]["lr"] / LR - 1) < 1e-11


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint64])
def test_narrow_integer_steps_give_the_same_rates(dtype):
    """Steps of any integer dtype give the int64 result, even when W and T do not fit it."""
    steps = np.arange(0, 120, 7, dtype=dtype)
    np.testing.assert_array_equal(warmup_cosine(steps, LR, 200, 1000, LR_MIN, 0.1),
                                  warmup_cosine(steps.astype(np.int64), LR, 200, 1000, LR_MIN,
                                                0.1))
