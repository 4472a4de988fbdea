"""Early stopping: patience, min_delta, NaN, modes, restoring, and agreement with Keras 3."""

import math

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.regularization.early_stopping import (
    EarlyStopping,
    check_cases,
    keras_run,
    ours_run,
    train,
)


def _stop_epoch(values, **kwargs):
    return ours_run(values, **kwargs)[0]


@pytest.mark.parametrize("case", range(len(check_cases())))
def test_matches_keras_on_every_check_case(case):
    """Stop epoch and the epoch whose weights remain agree with Keras's EarlyStopping."""
    values, kwargs = check_cases()[case]
    assert ours_run(values, **kwargs) == keras_run(values, **kwargs)


def test_patience_zero_stops_at_first_non_improving_epoch():
    """patience=0 stops at the first epoch without improvement, exactly like patience=1."""
    values = [1.0, 0.9, 0.8, 0.85, 0.7]
    assert _stop_epoch(values, patience=0) == 3
    assert _stop_epoch(values, patience=1) == 3
    assert _stop_epoch(values, patience=2) is None  # 0.7 at epoch 4 improves


def test_patience_counts_epochs_since_best():
    """With patience p the run stops p epochs after the best one, if nothing beats it."""
    values = [1.0, 0.5] + [0.6] * 20
    for p in (1, 2, 5, 10):
        assert _stop_epoch(values, patience=p) == 1 + p


def test_never_improving_curve_keeps_first_epoch():
    """A curve that only rises stops after patience epochs and restores epoch 0's weights."""
    assert ours_run(np.linspace(1, 2, 20), patience=5) == (5, 0)


def test_nan_is_never_an_improvement():
    """A NaN epoch counts as no improvement; a later real improvement resets the count."""
    values = [1.0, math.nan, math.nan, 0.5, math.nan, math.nan, math.nan]
    assert ours_run(values, patience=3) == (6, 3)
    assert ours_run([1.0, math.nan, math.nan], patience=2) == (2, 0)


def test_first_epoch_nan_differs_from_keras():
    """First value NaN: ours ignores it and keeps the later best; Keras takes NaN as best."""
    values = [math.nan, 1.0, 0.9, 0.8, 0.7]
    assert ours_run(values, patience=2) == (None, 4)
    assert keras_run(values, patience=2) == (2, 0)  # nothing compares below NaN


def test_all_nan_keeps_last_weights():
    """When every value is NaN there is no best: nothing to restore, the run stops on patience."""
    stopper = EarlyStopping(patience=3)
    stops = [stopper.step(math.nan, [np.zeros(1)]) for _ in range(3)]
    assert stops == [False, False, True]
    assert stopper.best_epoch is None
    assert stopper.best_weights is None


def test_ties_within_min_delta_are_not_improvements():
    """A gain of at most min_delta does not count: strict inequality, like Keras."""
    stopper = EarlyStopping(patience=1, min_delta=0.25)
    assert not stopper.step(1.0)
    assert stopper.step(0.75)  # exactly min_delta better: not an improvement, so it stops
    stopper = EarlyStopping(patience=1, min_delta=0.25)
    stopper.step(1.0)
    assert not stopper.step(0.7)  # more than min_delta better: improvement
    assert stopper.best_epoch == 1
    values = [1.0, 0.75, 0.75]
    assert ours_run(values, patience=1, min_delta=0.25) == keras_run(values, patience=1,
                                                                     min_delta=0.25)


def test_equal_value_is_not_an_improvement_with_zero_min_delta():
    """Repeating the best value exactly is no improvement even with min_delta = 0."""
    assert _stop_epoch([1.0, 1.0], patience=1) == 1


@pytest.mark.parametrize("patience", [0, 2])
def test_mode_max_mirrors_mode_min(patience):
    """mode='max' on a curve equals mode='min' on its negation, and agrees with Keras."""
    acc = [0.5, 0.6, 0.7, 0.69, 0.7, 0.71, 0.65, 0.6, 0.55]
    ours_max = ours_run(acc, patience=patience, mode="max")
    assert ours_max == ours_run([-a for a in acc], patience=patience)
    assert ours_max == keras_run(acc, patience=patience, mode="max")


def test_start_from_epoch_ignores_early_epochs():
    """Epochs before start_from_epoch are neither best nor counted toward patience."""
    values = [0.1, 0.2, 0.3, 0.4, 0.35, 0.5, 0.6]
    assert ours_run(values, patience=2, start_from_epoch=3) == (6, 4)
    assert keras_run(values, patience=2, start_from_epoch=3) == (6, 4)


@pytest.mark.parametrize("kwargs", [
    {"patience": -1}, {"patience": 1.5}, {"min_delta": -0.1}, {"min_delta": math.nan},
    {"min_delta": math.inf}, {"mode": "auto"},
])
def test_bad_parameters_refused(kwargs):
    """Negative or fractional patience, negative/NaN/inf min_delta, an unknown mode: ValueError."""
    with pytest.raises(ValueError, match=r"patience|min_delta|mode"):
        EarlyStopping(**kwargs)


def test_keras_takes_absolute_value_of_negative_min_delta():
    """Keras silently uses |min_delta|: -0.25 behaves like 0.25 there (ours refuses it)."""
    values = [1.0, 0.8, 0.7]
    assert keras_run(values, patience=1, min_delta=-0.25) == keras_run(values, patience=1,
                                                                       min_delta=0.25)
    assert keras_run(values, patience=1, min_delta=-0.25) == (1, 0)


def test_best_weights_are_copies():
    """Changing the weights in place after an epoch does not change the stored best weights."""
    w = np.array([1.0, 2.0])
    stopper = EarlyStopping(patience=1)
    stopper.step(0.5, [w])
    w[:] = 99
    np.testing.assert_array_equal(stopper.best_weights[0], [1.0, 2.0])


def test_overfitting_run_restores_best_validation_weights():
    """On the polynomial run the validation loss has a minimum and then rises; stopping with any
    patience restores exactly the weights of the best epoch seen, and its loss is the minimum."""
    val_all, _ = train()
    best = int(val_all.argmin())
    assert 0 < best < 100
    assert val_all[-1] > 1.3 * val_all[best]  # the run overfits
    for patience in (0, 10, 30):
        stopper = EarlyStopping(patience=patience)
        val, w = train(stopper)
        assert len(val) == best + max(patience, 1) + 1  # nothing beats it within patience
        assert stopper.best_epoch == best
        w_best = train(epochs=best + 1)[1]  # the same run, cut at the best epoch
        np.testing.assert_array_equal(w, w_best)


def test_keras_fit_restores_best_weights_when_run_ends_before_patience():
    """Keras 3 model.fit with restore_best_weights restores the best epoch even without stopping."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 3)), rng.normal(size=(32, 1))
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    # a step size far above 2 / (largest curvature) makes every epoch worse than the last
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=3.0), loss="mse")
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(model.get_weights()))
    stop = keras.callbacks.EarlyStopping(patience=100, restore_best_weights=True)
    history = model.fit(x[:24], y[:24], validation_data=(x[24:], y[24:]), epochs=6,
                        verbose=0, callbacks=[record, stop])
    val = history.history["val_loss"]
    assert len(val) == 6  # patience never ran out
    best = int(np.argmin(val))
    assert best != 5  # the last epoch is not the best, so restoring is visible
    for ours, theirs in zip(model.get_weights(), seen[best], strict=True):
        np.testing.assert_array_equal(ours, theirs)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 10), min_size=1, max_size=40), st.integers(0, 6),
       st.sampled_from([0.0, 0.01, 0.5]))
def test_best_epoch_is_a_running_minimum(values, patience, min_delta):
    """The best epoch's value is below every earlier value by more than min_delta (from the
    previous best), and no later epoch before the stop beats it by more than min_delta."""
    stopper = EarlyStopping(patience=patience, min_delta=min_delta)
    stopped = None
    for epoch, value in enumerate(values):
        if stopper.step(value):
            stopped = epoch
            break
    end = len(values) if stopped is None else stopped + 1
    b = stopper.best_epoch
    assert all(values[i] >= values[b] - min_delta for i in range(b, end))
    assert values[b] <= min(values[:b + 1])
    if stopped is not None:
        assert stopped - b == max(patience, 1)


def test_torch_state_dict_is_live_unless_copied():
    """model.state_dict() holds the live tensors (it follows later updates); a deepcopy does not."""
    import copy

    import torch

    model = torch.nn.Linear(2, 1)
    live, frozen = model.state_dict(), copy.deepcopy(model.state_dict())
    with torch.no_grad():
        model.weight.add_(1.0)
    assert torch.equal(live["weight"], model.weight)
    assert not torch.equal(frozen["weight"], model.weight)


def test_keras_without_restore_keeps_the_stop_epoch_weights():
    """Without restore_best_weights Keras leaves the weights of the epoch it stopped at."""
    values = [1.0, 0.5, 0.6, 0.7, 0.8]
    assert keras_run(values, restore_best_weights=False, patience=2) == (3, 3)
    assert keras_run(values, patience=2) == (3, 1)


def test_keras_compares_in_float32_ours_in_float64():
    """Gains of 1e-9 on values near 1 improve here (float64) but tie in Keras (float32)."""
    values = [1.0 - k * 1e-9 for k in range(4)]
    assert ours_run(values, patience=1) == (None, 3)
    assert keras_run(values, patience=1) == (1, 0)
    assert np.float32(values[1]) == np.float32(values[0])  # the reason: equal in float32
