"""Layer normalization and its hand-written backward pass match torch.nn.functional.layer_norm."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.normalization.layer_norm import (
    layer_norm,
    layer_norm_backward,
    naive_layer_norm,
    normalize,
    shifted_reference,
)
from tests.helpers import DTYPES, HARD_VALUES, assert_matches, dtype_id, random_input, tensor

CASES = [  # (input shape, normalized_shape)
    ((7,), (7,)),  # a single row, no batch axes
    ((6, 10), 10),  # an int normalized_shape
    ((6, 10), (10,)),
    ((2, 3, 4), (3, 4)),
    ((2, 3, 4, 5), (3, 4, 5)),
    ((0, 5), (5,)),  # an empty batch
]


def torch_layer_norm(x, normalized, w, b, g, eps=1e-5):
    """torch's output and the gradients of sum(y * g) for x, weight and bias (None if absent)."""
    xt = tensor(x, grad=True)
    wt = None if w is None else tensor(w, grad=True)
    bt = None if b is None else tensor(b, grad=True)
    shape = (normalized,) if isinstance(normalized, int) else normalized
    y = F.layer_norm(xt, shape, wt, bt, eps=eps)
    y.backward(tensor(g))
    return y, xt.grad, None if wt is None else wt.grad, None if bt is None else bt.grad


def check_against_torch(x, normalized, w, b, g, eps=1e-5, **tol):
    y, dx, dw, db = torch_layer_norm(x, normalized, w, b, g, eps)
    assert_matches(layer_norm(x, normalized, w, b, eps), y, **tol)
    ours_dx, ours_dw, ours_db = layer_norm_backward(g, x, normalized, w, eps)
    assert_matches(ours_dx, dx, **tol)
    if dw is not None:
        assert_matches(ours_dw, dw, **tol)
    if db is not None:
        assert_matches(ours_db, db, **tol)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("affine", ["none", "weight", "both"])
@pytest.mark.parametrize(("shape", "normalized"), CASES, ids=str)
def test_value_and_gradients_match_torch(shape, normalized, affine, dtype):
    """y, dx, dweight and dbias agree with torch for 1-3 normalized dims, with or without affine."""
    rng = np.random.default_rng(1)
    x = random_input(shape, dtype) + dtype(2)
    g = rng.normal(size=shape).astype(dtype)
    wshape = (normalized,) if isinstance(normalized, int) else normalized
    w = None if affine == "none" else rng.normal(size=wshape).astype(dtype)
    b = rng.normal(size=wshape).astype(dtype) if affine == "both" else None
    check_against_torch(x, normalized, w, b, g)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("eps", [0.0, 1e-5, 1.0])
def test_hard_values_and_eps_match_torch(eps, dtype):
    """Rows mixing +-1e4 with +-1e-8 and signed zeros, for eps = 0, the default and 1."""
    x = np.stack([HARD_VALUES, HARD_VALUES[::-1] * 0.5, np.roll(HARD_VALUES, 3)]).astype(dtype)
    g = np.random.default_rng(2).normal(size=x.shape).astype(dtype)
    w = np.linspace(-2, 2, x.shape[1]).astype(dtype)
    check_against_torch(x, (x.shape[1],), w, w[::-1].copy(), g, eps)


def _mean_bound(x, dtype):
    """How far two-pass layer norm may be from exact for rows of mean m and spread s: the
    computed mean is off by up to about (log2 N + 1) * eps * |m| (pairwise summation, then the
    division), which shifts every x - mean by that much, i.e. x_hat by that over s; the other
    roundings add a few eps * |x_hat|."""
    eps = np.finfo(dtype).eps
    x64 = x.astype(np.float64)
    n = x.shape[-1]
    shift = (np.log2(n) + 1) * eps * np.abs(x64.mean(-1)) / x64.std(-1)
    return shift.max() + 10 * eps * 4  # |x_hat| < 4 for these rows


@pytest.mark.parametrize(("dtype", "mean"), [(np.float64, 1e4), (np.float64, 1e6),
                                             (np.float64, 1e8), (np.float32, 1e2),
                                             (np.float32, 1e3), (np.float32, 1e4)])
def test_large_mean_small_spread_stays_accurate(dtype, mean):
    """Mean up to 1e8, spread 1: two-pass (ours) and torch stay within the rounding bound of
    the mean, while E[x^2] - E[x]^2 is off by over 10 times that bound (or NaN): it loses about
    eps * m^2 / s^2, a factor m / (7 s) >= 14 over the bound here."""
    x = (mean + np.random.default_rng(3).normal(size=(8, 64))).astype(dtype)
    exact = shifted_reference(x)
    bound = _mean_bound(x, dtype)
    ours = np.abs(layer_norm(x, 64) - exact).max()
    theirs = np.abs(F.layer_norm(tensor(x), (64,)).numpy() - exact).max()
    naive = np.abs(naive_layer_norm(x) - exact).max()
    assert ours <= bound
    assert theirs <= bound
    assert np.isnan(naive) or naive > 10 * bound


def test_large_mean_gradients_match_torch():
    """With mean 1e6 in float64 the gradients still agree with torch (to the bound of the
    mean's rounding, 1e6 * eps relative to a spread of 1, times |dx| ~ 10)."""
    rng = np.random.default_rng(4)
    x = 1e6 + rng.normal(size=(4, 32))
    g = rng.normal(size=x.shape)
    check_against_torch(x, 32, None, None, g, atol=1e-8, rtol=1e-8)


def test_torch_gradient_loses_digits_at_large_mean():
    """float32 group (2, 2.02), g = (1, -1): torch's dx (expanded in x and the mean) is over 5
    times further from float64 than ours, and than its own for the pair at mean 0.01 (page)."""
    g = np.array([[1.0, -1.0]], dtype=np.float32)

    def errors(pair):
        x = np.array([pair], dtype=np.float32)
        exact, _, _ = layer_norm_backward(g.astype(np.float64), x.astype(np.float64), 2)
        ours, _, _ = layer_norm_backward(g, x, 2)
        _, dx, _, _ = torch_layer_norm(x, 2, None, None, g)
        return np.abs(ours - exact).max(), np.abs(dx.numpy() - exact).max()

    ours, theirs = errors([2.0, 2.02])
    _, theirs_centred = errors([0.0, 0.02])
    assert ours < 1e-6 * 8.67  # |dx| = 8.67: a few roundings
    assert theirs > 5 * ours
    assert theirs > 5 * theirs_centred


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_constant_row(dtype):
    """A row with zero variance gives x_hat = 0 (so y = bias) and torch's gradient, which is
    large: 1/sqrt(eps) ~ 316 times the centred upstream gradient."""
    x = np.array([[7.0, 7.0, 7.0, 7.0], [1.0, 2.0, 3.0, 5.0]], dtype=dtype)
    g = np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 0.0, -1.0, 2.0]], dtype=dtype)
    w = np.array([1.0, 2.0, 3.0, 4.0], dtype=dtype)
    b = np.array([0.5, -0.5, 0.0, 1.0], dtype=dtype)
    np.testing.assert_array_equal(layer_norm(x, 4, w, b)[0], b)
    check_against_torch(x, 4, w, b, g)
    dx, _, _ = layer_norm_backward(g, x, 4)
    np.testing.assert_allclose(dx[0], (g[0] - g[0].mean()) / np.sqrt(1e-5), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_single_element_rows(dtype):
    """With one element per row x_hat is 0: y = beta and dx = dweight = 0 exactly in ours; torch
    gives y = beta too but gradients of rounding noise (bounded by 2 eps |x| / sqrt(1e-5) for
    its x_hat), not 0, as the page says."""
    rng = np.random.default_rng(5)
    x = random_input((3, 1), dtype) + dtype(2)
    g = rng.normal(size=x.shape).astype(dtype)
    w, b = np.array([1.5], dtype=dtype), np.array([0.25], dtype=dtype)
    y, dx, dw, db = torch_layer_norm(x, 1, w, b, g)
    noise = 2 * np.finfo(dtype).eps * np.abs(x).max() / np.sqrt(1e-5)  # torch's |x_hat|
    ours_dx, ours_dw, ours_db = layer_norm_backward(g, x, 1, w)
    np.testing.assert_array_equal(layer_norm(x, 1, w, b), np.broadcast_to(b, x.shape))
    np.testing.assert_array_equal(ours_dx, 0)
    assert_matches(layer_norm(x, 1, w, b), y, rtol=0, atol=1.5 * noise)
    assert_matches(ours_dw, dw, rtol=0, atol=np.abs(g).sum() * noise)
    assert_matches(ours_db, db)
    assert np.abs(dx.numpy()).max() <= 1.5 * noise * np.abs(g).max() / np.sqrt(1e-5)
    np.testing.assert_array_equal(ours_dw, 0)
    np.testing.assert_array_equal(y.detach().numpy(), np.broadcast_to(b, x.shape))
    assert np.abs(dw.numpy()).max() > 0  # torch's noise, for this input


def test_integer_input_keeps_eps():
    """An integer array is normalized like its float64 copy: eps is not rounded to an integer 0
    (a constant row then gives 0, not 0/0)."""
    x = np.array([[1, 2, 3, 5], [7, 7, 7, 7]])
    with np.errstate(all="raise"):
        assert_matches(layer_norm(x, 4), layer_norm(x.astype(np.float64), 4))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nan_spreads_over_its_row_only(dtype):
    """A NaN makes its whole row (value and dx) NaN, as in torch; other rows are unaffected."""
    x = np.array([[1.0, np.nan, 3.0], [1.0, 2.0, 4.0]], dtype=dtype)
    g = np.ones_like(x)
    y, dx, _, _ = torch_layer_norm(x, 3, None, None, g)
    ours = layer_norm(x, 3)
    ours_dx, _, _ = layer_norm_backward(g, x, 3)
    for row in (ours[0], y[0].detach().numpy(), ours_dx[0], dx[0].numpy()):
        assert np.isnan(row).all()
    assert_matches(ours[1], y[1])
    assert_matches(ours_dx[1], dx[1])


@pytest.mark.parametrize(("shape", "normalized"), [((3, 4), (3,)), ((3, 4), ()),
                                                   ((4,), (2, 4)), ((3, 4), (4, 1))])
def test_bad_normalized_shape_is_refused(shape, normalized):
    """A normalized_shape that is empty or not the input's trailing dims raises, as in torch."""
    with pytest.raises(ValueError, match="normalized_shape"):
        layer_norm(np.zeros(shape), normalized)
    with pytest.raises(RuntimeError):
        F.layer_norm(torch.zeros(shape), normalized)


rows = hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 16)),
                  elements=st.floats(-1e3, 1e3))


@given(rows, st.floats(1e-3, 1e3), st.floats(-1e3, 1e3))
def test_invariant_to_shift_and_positive_scale(x, scale, shift):
    """With eps = 0, layer_norm(scale * x + shift) = layer_norm(x) for scale > 0."""
    spread = x.std(-1)
    if spread.min() < 1e-3 * max(1.0, np.abs(x).max()):
        return  # nearly constant rows: x_hat is rounding noise, there is nothing to compare
    expected, _ = normalize(x, x.shape[-1], eps=0.0)
    got, _ = normalize(scale * x + shift, x.shape[-1], eps=0.0)
    np.testing.assert_allclose(got, expected, atol=1e-9)


@given(rows, st.integers(0, 2**32 - 1))
def test_gradient_sums_to_zero_over_each_row(x, seed):
    """dx sums to 0 over the normalized dims (y does not change when x shifts by a constant)."""
    g = np.random.default_rng(seed).normal(size=x.shape)
    dx, _, _ = layer_norm_backward(g, x, x.shape[-1])
    _, rstd = normalize(x, x.shape[-1])
    scale = rstd[:, 0] * np.abs(g).sum(-1)  # the size of the terms that cancel
    assert (np.abs(dx.sum(-1)) <= 1e-12 * scale + 1e-300).all()
