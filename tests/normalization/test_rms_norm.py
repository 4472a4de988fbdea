"""RMSNorm and its hand-written backward pass match torch.nn.functional.rms_norm and nn.RMSNorm."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.normalization.rms_norm import rms_norm, rms_norm_backward
from tests.helpers import DTYPES, HARD_VALUES, assert_matches, dtype_id, random_input, tensor

CASES = [  # (input shape, normalized_shape)
    ((7,), (7,)),
    ((6, 10), 10),
    ((6, 10), (10,)),
    ((2, 3, 4), (3, 4)),
    ((2, 3, 4, 5), (3, 4, 5)),
    ((0, 5), (5,)),  # an empty batch
    ((2, 1), (1,)),
]


def torch_rms_norm(x, normalized, w, g, eps=None):
    """torch's output and the gradients of sum(y * g) for x and the weight (None if absent)."""
    xt = tensor(x, grad=True)
    wt = None if w is None else tensor(w, grad=True)
    shape = (normalized,) if isinstance(normalized, int) else normalized
    y = F.rms_norm(xt, shape, wt, eps=eps)
    y.backward(tensor(g))
    return y, xt.grad, None if wt is None else wt.grad


def check_against_torch(x, normalized, w, g, eps=None, **tol):
    y, dx, dw = torch_rms_norm(x, normalized, w, g, eps)
    assert_matches(rms_norm(x, normalized, w, eps), y, **tol)
    ours_dx, ours_dw = rms_norm_backward(g, x, normalized, w, eps)
    assert_matches(ours_dx, dx, **tol)
    if dw is not None:
        assert_matches(ours_dw, dw, **tol)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize(("shape", "normalized"), CASES, ids=str)
def test_value_and_gradients_match_torch(shape, normalized, affine, dtype):
    """y, dx and dweight agree with torch for 1-3 normalized dims, with and without a weight."""
    rng = np.random.default_rng(1)
    x = random_input(shape, dtype) + dtype(1)
    g = rng.normal(size=shape).astype(dtype)
    wshape = (normalized,) if isinstance(normalized, int) else normalized
    w = rng.normal(size=wshape).astype(dtype) if affine else None
    check_against_torch(x, normalized, w, g)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("eps", [None, 0.0, 1e-6, 1e-5, 1.0])
def test_hard_values_and_eps_match_torch(eps, dtype):
    """Rows mixing +-1e4 with +-1e-8 and signed zeros, for eps None (the default), 0, 1e-6,
    1e-5 and 1."""
    x = np.stack([HARD_VALUES, HARD_VALUES[::-1] * 0.5, HARD_VALUES * 1e-6]).astype(dtype)
    g = np.random.default_rng(2).normal(size=x.shape).astype(dtype)
    w = np.linspace(-2, 2, x.shape[1]).astype(dtype)
    check_against_torch(x, (x.shape[1],), w, g, eps)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_module_matches(dtype):
    """torch.nn.RMSNorm with its default eps=None and a set weight gives the same as ours."""
    rng = np.random.default_rng(3)
    x = random_input((3, 4, 6), dtype)
    w = rng.normal(size=(4, 6)).astype(dtype)
    layer = torch.nn.RMSNorm((4, 6), dtype=tensor(x).dtype)
    assert layer.eps is None
    layer.weight.data = tensor(w)
    assert_matches(rms_norm(x, (4, 6), w), layer(tensor(x)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16], ids=dtype_id)
def test_default_eps_is_machine_epsilon(dtype):
    """eps=None means finfo(dtype).eps for float32/64 and float32's eps for float16 (computed in
    float32, where 1e-4 squared does not underflow), as in torch: for x = [1e-4, 0, 0, 0]
    (mean square 2.5e-9) eps decides the output."""
    x = np.array([1e-4, 0.0, 0.0, 0.0], dtype=dtype)
    expected_eps = np.finfo(np.float32 if dtype == np.float16 else dtype).eps
    expected = x[0].astype(np.float64) / np.sqrt(float(x[0]) ** 2 / 4 + expected_eps)
    theirs = F.rms_norm(tensor(x), (4,))[0].item()
    ours = rms_norm(x, 4)[0]
    tol = 4 * np.finfo(dtype).eps  # a few roundings of the output
    assert abs(ours / expected - 1) < tol
    assert abs(theirs / expected - 1) < tol


def test_bfloat16_default_eps_is_float32s():
    """For bfloat16 (which NumPy lacks) torch's eps=None is float32's epsilon, not bfloat16's:
    x = [1e-4, 0, 0, 0] computed in float32 with float32's eps, rounded to bfloat16, is what
    F.rms_norm returns; bfloat16's eps (7.8e-3) would give 0.0011 instead of 0.287."""
    x = torch.tensor([1e-4, 0.0, 0.0, 0.0], dtype=torch.bfloat16)
    x32 = x.float()

    def reference(eps):
        return (x32 / torch.sqrt((x32 * x32).mean() + eps)).bfloat16()

    y = F.rms_norm(x, (4,))
    assert torch.equal(y, reference(torch.finfo(torch.float32).eps))
    assert not torch.allclose(y, reference(torch.finfo(torch.bfloat16).eps), rtol=0.5)


@pytest.mark.parametrize("eps", [None, 1e-5])
def test_float16_values_and_gradients_match_torch(eps):
    """float16 is computed in float32 and rounded back, forward and backward, as in torch: the
    values and gradients agree to one float16 rounding, also for a row whose mean square (2.5e-9)
    is below float16's epsilon, where eps=None taken as float16's
    own eps (9.8e-4) would shrink dx about 90-fold."""
    rng = np.random.default_rng(8)
    x = (rng.normal(size=(4, 16)) * 3).astype(np.float16)
    x[0] = 0
    x[0, 0] = 1e-4
    g = rng.normal(size=x.shape).astype(np.float16)
    w = rng.normal(size=16).astype(np.float16)
    y, dx, dw = torch_rms_norm(x, 16, w, g, eps)
    ours_dx, ours_dw = rms_norm_backward(g, x, 16, w, eps)
    # one float16 rounding of each result (eps 9.8e-4), or of the largest entry for dw's sums
    pairs = [(rms_norm(x, 16, w, eps), y, 0), (ours_dx, dx, 0),
             (ours_dw, dw, 2e-3 * np.abs(dw.numpy()).max())]
    for ours, theirs, atol in pairs:
        assert ours.dtype == np.float16
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=2e-3, atol=atol)
    # in the tiny row x_hat is 0 off the first entry, so dx = g w / sqrt(mean square + eps)
    used_eps = np.finfo(np.float32).eps if eps is None else eps
    expected = (g[0, 1:] * w[1:]).astype(np.float64) / np.sqrt(float(x[0, 0]) ** 2 / 16
                                                                + used_eps)
    np.testing.assert_allclose(ours_dx[0, 1:], expected, rtol=2e-3)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_zero_row_and_nan(dtype):
    """An all-zero row gives 0 (divided by sqrt(eps)) with torch's gradient g / sqrt(eps); a NaN
    makes its own row NaN only."""
    x = np.array([[0.0, 0.0, 0.0], [1.0, np.nan, 2.0], [1.0, 2.0, 4.0]], dtype=dtype)
    g = np.array([[1.0, -2.0, 0.5], [1.0, 1.0, 1.0], [1.0, 0.0, 2.0]], dtype=dtype)
    y, dx, _ = torch_rms_norm(x, 3, None, g)
    ours = rms_norm(x, 3)
    ours_dx, _ = rms_norm_backward(g, x, 3)
    np.testing.assert_array_equal(ours[0], 0)
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(ours_dx[0], g[0] / np.sqrt(eps), rtol=1e-6)
    assert_matches(ours_dx[0], dx[0])
    for row in (ours[1], y[1].detach().numpy(), ours_dx[1], dx[1].numpy()):
        assert np.isnan(row).all()
    assert_matches(ours[2], y[2])
    assert_matches(ours_dx[2], dx[2])


def test_overflow_like_torch():
    """float32 entries above ~1.8e19 overflow x * x: the mean square is inf and the output 0, in
    torch as in ours (float64 has no such problem at that size)."""
    x = np.array([3e19, -3e19, 1e19], dtype=np.float32)
    np.testing.assert_array_equal(F.rms_norm(tensor(x), (3,)).numpy(), 0)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(rms_norm(x, 3), 0)
    x64 = x.astype(np.float64)
    assert_matches(rms_norm(x64, 3), F.rms_norm(tensor(x64), (3,)))


@pytest.mark.parametrize(("shape", "normalized"), [((3, 4), (3,)), ((3, 4), ())])
def test_bad_normalized_shape_is_refused(shape, normalized):
    """A normalized_shape that is empty or not the input's trailing dims raises ValueError."""
    with pytest.raises(ValueError, match="normalized_shape"):
        rms_norm(np.zeros(shape), normalized)


def test_large_mean_is_not_removed():
    """Mean 1e4, spread ~1: every output is within 3e-4 of 1 (x_i / rms(x) = 1 + (x_i - m)/m
    to first order, |x_i - m| <= 2 here), so the variation is squashed 1e4-fold, not centred."""
    x = 1e4 + np.array([-1.0, 0.0, 1.0, 2.0])
    y = rms_norm(x, 4)
    assert np.abs(y - 1).max() < 3e-4
    assert_matches(y, F.rms_norm(tensor(x), (4,)))


rows = hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 16)),
                  elements=st.floats(-1e3, 1e3))


@given(rows, st.floats(1e-3, 1e3))
def test_unit_rms_and_scale_invariance(x, scale):
    """With eps = 0, each row of the output has root mean square 1 and rms_norm(c x) = rms_norm(x)
    for c > 0 (rows that are all zero excluded)."""
    x = x[np.abs(x).max(-1) > 1e-3]
    if x.size == 0:
        return
    y = rms_norm(x, x.shape[-1], eps=0.0)
    np.testing.assert_allclose(np.sqrt((y * y).mean(-1)), 1, rtol=1e-12)
    np.testing.assert_allclose(rms_norm(scale * x, x.shape[-1], eps=0.0), y, atol=1e-12)


@given(rows, st.integers(0, 2**32 - 1))
def test_gradient_orthogonal_to_input_when_eps_is_zero(x, seed):
    """With eps = 0, dx is orthogonal to x: scaling a row does not change the output."""
    x = x[np.abs(x).max(-1) > 1e-3]
    if x.size == 0:
        return
    g = np.random.default_rng(seed).normal(size=x.shape)
    dx, _ = rms_norm_backward(g, x, x.shape[-1], eps=0.0)
    rms = np.sqrt((x * x).mean(-1))
    scale = (np.abs(g) * np.abs(x)).sum(-1) / rms  # the size of the terms that cancel
    assert (np.abs((dx * x).sum(-1)) <= 1e-12 * scale).all()
