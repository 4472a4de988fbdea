"""Inverted dropout matches torch.nn.functional.dropout given torch's own mask, and its
statistics (zero fraction, mean) stay within Hoeffding bounds."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.regularization.dropout import (
    dropout,
    dropout_grad,
    hoeffding_halfwidth,
    keep_mask,
    softmax,
)
from tests.helpers import DTYPES, dtype_id

NONEMPTY_SHAPES = [(), (7,), (4, 5), (2, 3, 4)]
DELTA = 1e-6  # each statistical test fails by chance with probability at most this


def nonzero_input(shape, dtype, seed=0):
    """Values of both signs with |x| in [0.5, 2], so x * 1/(1-p) is never 0."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return np.asarray(x, dtype)


def torch_dropout(x, p, training=True, seed=0):
    """torch's dropout of x, its d(sum)/dx, and the keep mask read from its output."""
    xt = torch.tensor(x, requires_grad=True)
    torch.manual_seed(seed)
    yt = torch.nn.functional.dropout(xt, p, training=training)
    yt.sum().backward()
    y = yt.detach().numpy()
    return y, xt.grad.numpy(), y != 0


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", NONEMPTY_SHAPES, ids=str)
@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_matches_torch_bit_for_bit_given_its_mask(p, shape, dtype):
    """With torch's keep mask, values and gradients equal torch's exactly, dtype included."""
    x = nonzero_input(shape, dtype)
    y, grad, mask = torch_dropout(x, p)
    ours = dropout(x, mask, p)
    assert ours.dtype == y.dtype
    assert ours.shape == y.shape
    np.testing.assert_array_equal(ours, y)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(y))  # dropped negatives are -0
    np.testing.assert_array_equal(dropout_grad(mask, p, dtype), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_many_drop_probabilities_scale_like_torch(dtype):
    """For 200 values of p the kept elements are scaled by exactly torch's factor 1/(1-p)."""
    x = np.ones(256, dtype)
    for p in np.linspace(0.003, 0.997, 200):
        y, grad, mask = torch_dropout(x, float(p))
        np.testing.assert_array_equal(dropout(x, mask, float(p)), y)
        np.testing.assert_array_equal(dropout_grad(mask, float(p), dtype), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_numpy_float32_p_scales_like_torch(dtype):
    """A p given as np.float32 is read as a double, as torch does, so 1/(1-p) is the same."""
    x = np.ones(256, dtype)
    for p in (np.float32(0.1), np.float32(0.7), np.float64(0.3)):
        y, grad, mask = torch_dropout(x, p)
        np.testing.assert_array_equal(dropout(x, mask, p), y)
        np.testing.assert_array_equal(dropout_grad(mask, p, dtype), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_p_one_gives_zeros_and_p_zero_the_identity(dtype):
    """p = 1 returns (signed) zeros with gradient 0; p = 0 returns x with gradient 1."""
    x = nonzero_input((50,), dtype)
    y1, g1, _ = torch_dropout(x, 1.0)
    assert not np.any(y1)
    np.testing.assert_array_equal(dropout(x, np.ones(x.shape, bool), 1.0), y1)
    np.testing.assert_array_equal(np.signbit(dropout(x, np.ones(x.shape, bool), 1.0)),
                                  np.signbit(y1))
    np.testing.assert_array_equal(dropout_grad(np.ones(x.shape, bool), 1.0, dtype), g1)
    y0, g0, _ = torch_dropout(x, 0.0)
    np.testing.assert_array_equal(y0, x)
    np.testing.assert_array_equal(dropout(x, np.zeros(x.shape, bool), 0.0), y0)
    np.testing.assert_array_equal(dropout_grad(np.zeros(x.shape, bool), 0.0, dtype), g0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("p", [0.5, 1.0])
def test_dropped_inf_and_nan_become_nan_like_torch(p, dtype):
    """A dropped inf is inf * 0 = NaN and a NaN stays NaN, in torch and here."""
    x = np.array([np.inf, -np.inf, np.nan, 1.0] * 25, dtype)
    y, _, _ = torch_dropout(x, p)
    mask = np.isinf(y) | ((y != 0) & np.isfinite(y))  # kept where inf survived or 1 was scaled
    np.testing.assert_array_equal(dropout(x, mask, p), y)  # NaN positions compare equal
    assert np.isnan(y[:2][~mask[:2]]).all()
    assert np.isnan(y[2::4]).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_evaluation_is_identity_like_torch(dtype):
    """training=False returns x unchanged with gradient 1, for any p in [0, 1]."""
    x = nonzero_input((4, 5), dtype)
    for p in (0.0, 0.3, 1.0):
        y, grad, _ = torch_dropout(x, p, training=False)
        np.testing.assert_array_equal(dropout(x, None, p, training=False), y)
        np.testing.assert_array_equal(dropout_grad(np.zeros(x.shape, bool), p, dtype,
                                                   training=False), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_empty_input_like_torch(dtype):
    """An empty array gives an empty array of the same dtype and shape."""
    x = np.zeros((0, 3), dtype)
    y, grad, mask = torch_dropout(x, 0.5)
    ours = dropout(x, mask, 0.5)
    assert ours.shape == y.shape == (0, 3)
    assert ours.dtype == y.dtype
    assert dropout_grad(mask, 0.5, dtype).shape == grad.shape


@pytest.mark.parametrize("p", [-0.1, 1.1, -np.inf, np.inf])
def test_refuses_p_outside_unit_interval_like_torch(p):
    """p outside [0, 1] raises ValueError, as torch.nn.functional.dropout does."""
    x = np.ones(3)
    with pytest.raises(ValueError, match="between 0 and 1"):
        dropout(x, np.ones(3, bool), p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        torch.nn.functional.dropout(torch.tensor(x), p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        dropout_grad(np.ones(3, bool), p)


def test_nan_p_is_a_value_error_here_and_a_runtime_error_in_torch():
    """The documented difference: p = NaN raises ValueError here, RuntimeError in torch."""
    with pytest.raises(ValueError, match="between 0 and 1"):
        dropout(np.ones(3), np.ones(3, bool), float("nan"))
    with pytest.raises(RuntimeError, match="between 0 and 1") as raised:
        torch.nn.functional.dropout(torch.ones(3), float("nan"))
    assert not isinstance(raised.value, ValueError)


@pytest.mark.parametrize("dtype", [np.int64, np.bool_], ids=lambda d: np.dtype(d).name)
def test_integer_input_refused_when_dropping_like_torch(dtype):
    """An integer or boolean x is refused when something may be dropped (torch raises too),
    and returned unchanged in evaluation and at p = 0, as torch does."""
    x = np.array([1, 0, 1], dtype)
    with pytest.raises(TypeError, match="floating-point"):
        dropout(x, np.ones(3, bool), 0.5)
    with pytest.raises(RuntimeError):
        torch.nn.functional.dropout(torch.tensor(x), 0.5)
    for p, training in ((0.5, False), (0.0, True)):
        theirs = torch.nn.functional.dropout(torch.tensor(x), p, training=training).numpy()
        ours = dropout(x, np.ones(3, bool), p, training=training)
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


def zero_fraction_ok(y, p, n):
    return abs(np.mean(y == 0) - p) <= hoeffding_halfwidth(np.ones(n), DELTA)


def mean_ok(y, x, p):
    return abs(y.mean() - x.mean()) <= hoeffding_halfwidth(np.abs(x) / (1 - p), DELTA)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_statistics_of_torch_and_ours_within_hoeffding_bound(p):
    """Zero fraction within p ± t and mean within mean(x) ± t (Hoeffding, delta = 1e-6)."""
    n = 200_000
    x = np.random.default_rng(1).uniform(0.5, 1.5, n)
    torch.manual_seed(5)
    theirs = torch.nn.functional.dropout(torch.tensor(x), p).numpy()
    ours = dropout(x, keep_mask(x.shape, p, np.random.default_rng(6)), p)
    for y in (theirs, ours):
        assert zero_fraction_ok(y, p, n)
        assert mean_ok(y, x, p)


def test_bounds_catch_a_wrong_p_and_a_missing_rescale():
    """A draw with p = 0.32 fails the test for p = 0.3; dropping without 1/(1-p) fails the mean."""
    n, p = 200_000, 0.3
    x = np.random.default_rng(1).uniform(0.5, 1.5, n)
    torch.manual_seed(5)
    wrong_p = torch.nn.functional.dropout(torch.tensor(x), 0.32).numpy()
    assert not zero_fraction_ok(wrong_p, p, n)
    not_inverted = x * keep_mask(x.shape, p, np.random.default_rng(6))  # original form
    assert zero_fraction_ok(not_inverted, p, n)
    assert not mean_ok(not_inverted, x, p)


def test_hoeffding_halfwidth_for_indicators():
    """For n indicators the half-width is sqrt(ln(2/delta) / (2n)); it shrinks like 1/sqrt(n)."""
    for n in (1, 100, 10_000):
        expected = np.sqrt(np.log(2 / DELTA) / (2 * n))
        np.testing.assert_allclose(hoeffding_halfwidth(np.ones(n), DELTA), expected, rtol=1e-14)


def test_attention_dropout_rows_no_longer_sum_to_one():
    """Softmax rows sum to 1; after dropout they do not, but their mean stays 1 within bound."""
    p = 0.1
    weights = softmax(np.random.default_rng(0).normal(size=(1000, 8, 8)))
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-12)
    sums = dropout(weights, keep_mask(weights.shape, p, np.random.default_rng(1)), p).sum(-1)
    assert np.mean(np.abs(sums - 1) > 1e-3) > 0.5  # most rows are visibly off 1
    assert sums.max() <= 1 / (1 - p) * (1 + 1e-12)  # nothing dropped: 1/(1-p)
    assert abs(sums.mean() - 1) <= hoeffding_halfwidth(np.full(sums.size, 1 / (1 - p)), DELTA)
    np.testing.assert_allclose(dropout(weights, None, p, training=False).sum(-1), 1.0,
                               rtol=1e-12)


def test_torch_multihead_attention_returns_dropped_weights_in_training():
    """nn.MultiheadAttention returns post-dropout weights in training (rows off 1), not in eval."""
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    q = torch.randn(4, 6, 8)
    _, w = mha(q, q, q, need_weights=True, average_attn_weights=False)
    assert (w.sum(-1) - 1).abs().max() > 0.1
    mha.eval()
    _, w = mha(q, q, q, need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(w.sum(-1), torch.ones(4, 2, 6))


@given(hnp.arrays(np.float64, st.integers(0, 40), elements=st.floats(-1e4, 1e4)),
       st.floats(0.0, 1.0), st.integers(0, 2**32 - 1))
def test_output_is_input_times_gradient(x, p, seed):
    """Identity: dropout(x) = x * d dropout/dx, and kept elements times (1 - p) give back x."""
    mask = keep_mask(x.shape, p, np.random.default_rng(seed))
    y = dropout(x, mask, p)
    np.testing.assert_array_equal(y, x * dropout_grad(mask, p))
    if p < 1:
        np.testing.assert_allclose(y[mask] * (1 - p), x[mask], rtol=1e-15, atol=0)
