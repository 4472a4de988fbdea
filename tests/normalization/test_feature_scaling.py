"""Standardization and min-max scaling: torch formulas, edge cases, leak and conditioning."""


import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.normalization.feature_scaling import (
    conditioning_data,
    drift_data,
    fit_min_max,
    fit_standard,
    gd_least_squares,
    leak_scores,
    nearest_neighbour_accuracy,
    transform,
    with_intercept,
)
from tests.helpers import DTYPES, assert_matches, dtype_id

SHAPES = [(1, 3), (2, 1), (7, 4), (200, 3), (5, 0)]


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    scales = np.geomspace(1e-2, 1e2, shape[1]) if shape[1] else np.ones(0)
    return (rng.normal(size=shape) * scales + 3 * scales).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_standard_matches_torch_formula(shape, dtype):
    """z-scores equal (X - mean) / std with torch.std_mean(correction=0), non-constant features."""
    X = _data(shape, dtype)
    if shape[1] == 0:  # no features: empty statistics, empty output
        assert transform(X, *fit_standard(X)).shape == shape
        return
    std, mean = torch.std_mean(torch.tensor(X), dim=0, correction=0)
    shift, scale = fit_standard(X)
    assert_matches(shift, mean)
    if shape[0] > 1:  # one sample: every feature is constant, covered below
        assert_matches(scale, std)
        assert_matches(transform(X, shift, scale), (torch.tensor(X) - mean) / std)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_min_max_matches_torch_formula(shape, dtype):
    """Min-max is (X - min) / (max - min) as with torch.aminmax; the training split spans [0, 1]."""
    X = _data(shape, dtype)
    shift, scale = fit_min_max(X)
    Z = transform(X, shift, scale)
    if shape[0] > 1 and shape[1] > 0:
        low, high = torch.aminmax(torch.tensor(X), dim=0)
        assert_matches(Z, (torch.tensor(X) - low) / (high - low))
        np.testing.assert_array_equal(Z.min(axis=0), 0)  # x - min is exact at the minimum
        assert np.all(np.abs(Z.max(axis=0) - 1) <= 2 * np.finfo(dtype).eps)  # one rounding


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("fit", [fit_standard, fit_min_max])
def test_constant_feature_gets_scale_one(fit, dtype):
    """A constant feature gets scale 1: 0 on the training split, x - c on other splits, no NaN."""
    X = np.array([[1.0, 5.0], [2.0, 5.0], [4.0, 5.0]], dtype=dtype)
    shift, scale = fit(X)
    assert scale[1] == 1
    np.testing.assert_array_equal(transform(X, shift, scale)[:, 1], 0)
    Z_test = transform(np.array([[2.0, 7.5]], dtype=dtype), shift, scale)
    assert Z_test[0, 1] == 2.5
    assert Z_test.dtype == dtype


def test_keras_normalization_divides_constant_feature_by_epsilon():
    """Keras's Normalization layer maps a constant feature's new value 6 (train 5) to 1e7."""
    import keras
    layer = keras.layers.Normalization(axis=-1)
    layer.adapt(np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]], dtype="float32"))
    out = layer(np.array([[2.0, 6.0]], dtype="float32")).detach().cpu().numpy()
    np.testing.assert_allclose(out[0], [0.0, 1.0 / keras.config.epsilon()], rtol=1e-6)
    assert keras.config.epsilon() == 1e-7
    shift, scale = fit_standard(np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]]))
    assert transform(np.array([[2.0, 6.0]]), shift, scale)[0, 1] == 1.0  # ours: 6 - 5


@pytest.mark.parametrize("fit", [fit_standard, fit_min_max])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_training_data_refused(fit, bad):
    """NaN or inf in the training split raises ValueError instead of poisoning every statistic."""
    X = np.ones((4, 2))
    X[1, 0] = bad
    with pytest.raises(ValueError, match="NaN or inf"):
        fit(X)


@pytest.mark.parametrize("fit", [fit_standard, fit_min_max])
@pytest.mark.parametrize("X", [np.ones((0, 3)), np.ones(5), np.ones(())], ids=str)
def test_wrong_shape_or_empty_training_split_refused(fit, X):
    """An empty training split or one that is not (samples, features) raises ValueError."""
    with pytest.raises(ValueError, match="training split"):
        fit(X)


def test_nan_in_other_splits_passes_through():
    """A NaN in a test row stays NaN in that entry only."""
    shift, scale = fit_standard(np.array([[0.0, 1.0], [2.0, 3.0]]))
    Z = transform(np.array([[np.nan, 1.0]]), shift, scale)
    assert np.isnan(Z[0, 0])
    assert Z[0, 1] == -1.0


def test_large_mean_has_no_cancellation():
    """Mean 1e9, spread 1: two-pass std is accurate where E[x^2] - E[x]^2 is not."""
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(1000, 1))
    X = 1e9 + noise
    exact_dev = X - 1e9  # exact: X is within a factor 2 of 1e9 (Sterbenz)
    exact_std = np.sqrt(np.mean((exact_dev - exact_dev.mean()) ** 2))
    shift, scale = fit_standard(X)
    # the only error is in the mean: pairwise summation of 1000 terms of size 1e9 errs by
    # about log2(1000) * eps * 1e9 ~ 2e-6, which shifts z by that much over std ~ 1
    assert abs(scale[0] - exact_std) <= 1e-9 * exact_std
    z_exact = (exact_dev - exact_dev.mean()) / exact_std
    np.testing.assert_allclose(transform(X, shift, scale), z_exact, rtol=0, atol=1e-5)
    naive_var = np.mean(X**2) - np.mean(X) ** 2  # eps * 1e18 ~ 200: nothing left of 1
    assert abs(naive_var - exact_std**2) > 1


def test_honest_transform_ignores_other_test_points():
    """Fitted on training data, a test point's features do not depend on the rest of the test set;
    fitted on everything, they do."""
    X_tr, _, X_te, _ = drift_data(seed=3)
    honest = transform(X_te[:1], *fit_standard(X_tr))
    np.testing.assert_array_equal(honest, transform(X_te, *fit_standard(X_tr))[:1])
    leaked_all = transform(X_te[:1], *fit_standard(np.vstack([X_tr, X_te])))
    leaked_few = transform(X_te[:1], *fit_standard(np.vstack([X_tr, X_te[:10]])))
    assert np.abs(leaked_all - leaked_few).max() > 0.01


def test_pooled_variance_of_the_leaked_fit():
    """The leaked variance is that of both splits together:
    n s^2 = n1 s1^2 + n2 s2^2 + n1 n2 / n (m1 - m2)^2."""
    X_tr, _, X_te, _ = drift_data(seed=0)
    (m1, s1), (m2, s2) = fit_standard(X_tr), fit_standard(X_te)
    n1, n2 = len(X_tr), len(X_te)
    n = n1 + n2
    pooled = (n1 * s1**2 + n2 * s2**2 + n1 * n2 / n * (m1 - m2) ** 2) / n
    np.testing.assert_allclose(fit_standard(np.vstack([X_tr, X_te]))[1] ** 2, pooled, rtol=1e-12)


def test_leak_inflates_nearest_neighbour_score():
    """Over 30 seeds the leaked 1-NN accuracy beats the honest one by over 3 standard errors."""
    gaps = np.array([(s := leak_scores(seed))["leaked"] - s["honest"] for seed in range(30)])
    assert gaps.mean() > 3 * gaps.std(ddof=1) / np.sqrt(len(gaps))


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, 2, elements=st.floats(-100, 100)))
def test_shift_alone_does_not_change_nearest_neighbours(shift):
    """Centering is a translation: with the same scale, any shift leaves the 1-NN score as is."""
    X_tr, y_tr, X_te, y_te = drift_data(seed=2)
    scale = fit_standard(X_tr)[1]
    base = nearest_neighbour_accuracy(X_tr / scale, y_tr, X_te / scale, y_te)
    moved = nearest_neighbour_accuracy(transform(X_tr, shift, scale), y_tr,
                                       transform(X_te, shift, scale), y_te)
    assert moved == base


@pytest.mark.parametrize("standardize", [False, True])
def test_gradient_descent_meets_condition_number_bound(standardize):
    """GD with step 1/L: relative error <= (1 - 1/kappa)^t; standardized data takes <= 10 steps."""
    X, y = conditioning_data()
    D = with_intercept(transform(X, *fit_standard(X)) if standardize else X)
    kappa = np.linalg.cond(D.T @ D)
    steps, err = gd_least_squares(D, y)
    assert err <= (1 - 1 / kappa) ** steps * (1 + 1e-9)
    if standardize:
        assert err <= 1e-6
        assert steps <= 10
    else:
        assert kappa > 1e5
        assert err > 0.95  # 2000 steps are far short of the bound of ~7e6 (page: 0.99)


def test_standardized_condition_number_from_correlation():
    """With an intercept and z-scored features, cond(X^T X) = (1 + |rho|) / (1 - |rho|)."""
    X, _ = conditioning_data()
    Z = with_intercept(transform(X, *fit_standard(X)))
    rho = np.corrcoef(X.T)[0, 1]
    np.testing.assert_allclose(np.linalg.cond(Z.T @ Z), (1 + abs(rho)) / (1 - abs(rho)),
                               rtol=1e-10)


def test_scaling_does_not_change_least_squares_predictions():
    """Least squares with an intercept predicts the same on raw and standardized features."""
    X, y = conditioning_data()
    raw = with_intercept(X)
    scaled = with_intercept(transform(X, *fit_standard(X)))
    pred_raw = raw @ np.linalg.lstsq(raw, y, rcond=None)[0]
    pred_scaled = scaled @ np.linalg.lstsq(scaled, y, rcond=None)[0]
    # cond(raw) ~ 7e2 (square root of 5e5): the raw solve loses about 3 digits of 16
    np.testing.assert_allclose(pred_raw, pred_scaled, rtol=1e-10, atol=1e-10 * np.abs(y).max())


def test_keras_normalization_uses_population_variance():
    """Keras's Normalization adapts to the 1/n variance, as fit_standard does: 2/3 for 1, 2, 3."""
    import keras
    layer = keras.layers.Normalization(axis=-1)
    layer.adapt(np.array([[1.0], [2.0], [3.0]], dtype="float32"))
    np.testing.assert_allclose(layer.variance.detach().cpu().numpy().ravel(), [2 / 3], rtol=1e-6)
    assert fit_standard(np.array([[1.0], [2.0], [3.0]]))[1][0] == np.sqrt(2 / 3)


@pytest.mark.parametrize("fit", [fit_standard, fit_min_max])
def test_integer_and_boolean_features_are_fitted_in_float64(fit):
    """Integer or boolean training data gives float64 statistics, not truncated integer ones."""
    X = np.array([[1, 0], [2, 0], [4, 1]])
    expected = fit(X.astype(np.float64))
    for data in (X, X.astype(bool)[:, 1:]):
        shift, scale = fit(data)
        assert shift.dtype == scale.dtype == np.float64
        assert_matches(scale, fit(data.astype(np.float64))[1])
    # std of 1, 2, 4 is 1.247...; an integer cast would have made it 1
    np.testing.assert_array_equal(fit(X)[1], expected[1])


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
@pytest.mark.parametrize("fit", [fit_standard, fit_min_max])
def test_statistics_that_overflow_the_dtype_are_refused(fit):
    """float32 values near 3e38: a mean or range that overflows raises instead of giving inf."""
    X = np.array([[-3e38], [3e38], [3e38]], dtype=np.float32)
    with pytest.raises(ValueError, match="overflow"):
        fit(X)
    shift, scale = fit(X.astype(np.float64))  # float64 holds them
    assert np.isfinite(shift).all()
    assert np.isfinite(scale).all()
