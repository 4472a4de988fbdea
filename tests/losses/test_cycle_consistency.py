"""The cycle-consistency loss matches lambda * (l1_loss + l1_loss) in torch, with autograd."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.functional import l1_loss

from snippets.losses.cycle_consistency import (
    cycle_consistency_loss,
    cycle_consistency_loss_grad,
    linear_cycle_loss,
)
from tests.helpers import DTYPES, HARD_VALUES, assert_matches, dtype_id, random_input, tensor

REDUCTIONS = ("none", "sum", "mean")
PAIRS = [  # shapes of x and y (the two domains may differ)
    pytest.param((7,), (7,), id="vectors"),
    pytest.param((4, 3), (5, 2), id="matrices"),
    pytest.param((2, 3, 4, 4), (2, 3, 4, 4), id="images"),
    pytest.param((1,), (3, 2), id="single-element"),
]


def torch_cycle(x, x_rec, y, y_rec, lambda_cyc, reduction):
    """torch's loss on leaf reconstructions and d(sum of outputs)/d(reconstructions)."""
    xr, yr = tensor(x_rec, grad=True), tensor(y_rec, grad=True)
    fwd = lambda_cyc * l1_loss(xr, tensor(x), reduction=reduction)
    bwd = lambda_cyc * l1_loss(yr, tensor(y), reduction=reduction)
    (fwd.sum() + bwd.sum()).backward()
    return fwd, bwd, xr.grad, yr.grad


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("x_shape", "y_shape"), PAIRS)
def test_value_and_gradient_match_torch(x_shape, y_shape, dtype, reduction):
    """Loss and gradients w.r.t. both reconstructions equal torch's l1_loss and autograd."""
    x, x_rec = random_input(x_shape, dtype, seed=1), random_input(x_shape, dtype, seed=2)
    y, y_rec = random_input(y_shape, dtype, seed=3), random_input(y_shape, dtype, seed=4)
    fwd, bwd, gx_ref, gy_ref = torch_cycle(x, x_rec, y, y_rec, 10.0, reduction)
    ours = cycle_consistency_loss(x, x_rec, y, y_rec, 10.0, reduction)
    if reduction == "none":
        assert_matches(ours[0], fwd)
        assert_matches(ours[1], bwd)
    else:
        assert_matches(ours, fwd + bwd)
    gx, gy = cycle_consistency_loss_grad(x, x_rec, y, y_rec, 10.0, reduction)
    assert_matches(gx, gx_ref)
    assert_matches(gy, gy_ref)


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype, reduction):
    """Magnitudes up to 1e4, signed zeros, and exact reconstructions (sign 0) agree with torch."""
    x = HARD_VALUES.astype(dtype)
    x_rec = x[::-1].copy()
    x_rec[:3] = x[:3]  # exact reconstructions: |0| with gradient 0, as torch
    y = np.zeros(4, dtype=dtype)
    y_rec = np.array([0.0, -0.0, 1e4, -1e-8], dtype=dtype)
    fwd, bwd, gx_ref, gy_ref = torch_cycle(x, x_rec, y, y_rec, 2.5, reduction)
    ours = cycle_consistency_loss(x, x_rec, y, y_rec, 2.5, reduction)
    expected = (fwd, bwd) if reduction == "none" else (fwd + bwd,)
    for a, b in zip(ours if reduction == "none" else (ours,), expected, strict=True):
        assert_matches(a, b)
    gx, gy = cycle_consistency_loss_grad(x, x_rec, y, y_rec, 2.5, reduction)
    assert_matches(gx, gx_ref, rtol=0, atol=0)
    assert_matches(gy, gy_ref, rtol=0, atol=0)


@pytest.mark.parametrize("reduction", ["sum", "mean"], ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("N", "M", "Dx", "Dy"), [(8, 5, 3, 2), (1, 1, 1, 1), (16, 9, 4, 6)],
                         ids=["8x3-5x2", "1x1-1x1", "16x4-9x6"])
def test_linear_translators_match_autograd(N, M, Dx, Dy, dtype, reduction):
    """With linear G and F, the loss and the weight gradients equal torch autograd's."""
    rng = np.random.default_rng(N + M)
    x, y = rng.normal(size=(N, Dx)).astype(dtype), rng.normal(size=(M, Dy)).astype(dtype)
    W_G, W_F = rng.normal(size=(Dy, Dx)).astype(dtype), rng.normal(size=(Dx, Dy)).astype(dtype)
    loss, g_wg, g_wf = linear_cycle_loss(x, y, W_G, W_F, 10.0, reduction)
    Gt, Ft = tensor(W_G, grad=True), tensor(W_F, grad=True)
    xt, yt = tensor(x), tensor(y)
    ref = 10.0 * (l1_loss(xt @ Gt.T @ Ft.T, xt, reduction=reduction)
                  + l1_loss(yt @ Ft.T @ Gt.T, yt, reduction=reduction))
    ref.backward()
    assert_matches(loss, ref)
    # Weight gradients are sums of +-lambda terms of size ~|W||x|^2 that largely cancel: their
    # rounding error scales with the largest entry, not with each (possibly small) entry, so
    # the absolute bound is the dtype's relative tolerance times that largest entry (normwise).
    for ours, ref_grad in ((g_wg, Gt.grad), (g_wf, Ft.grad)):
        rtol = 1e-12 if dtype == np.float64 else 2e-6
        assert_matches(ours, ref_grad, atol=rtol * ref_grad.abs().max().item())


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nan_reconstruction_has_gradient_zero_like_torch(dtype, reduction):
    """A NaN in a reconstruction or an input: NaN loss, gradient 0 there (torch's l1_loss)."""
    x = np.array([np.nan, 1.0, np.inf, 0.5], dtype=dtype)
    x_rec = np.array([0.0, np.nan, 1.0, 0.5], dtype=dtype)
    y, y_rec = np.array([2.0], dtype=dtype), np.array([np.nan], dtype=dtype)
    fwd, bwd, gx_ref, gy_ref = torch_cycle(x, x_rec, y, y_rec, 10.0, reduction)
    assert gx_ref.numpy()[0] == gx_ref.numpy()[1] == gy_ref.numpy()[0] == 0
    ours = cycle_consistency_loss(x, x_rec, y, y_rec, 10.0, reduction)
    expected = (fwd, bwd) if reduction == "none" else (fwd + bwd,)
    for a, b in zip(ours if reduction == "none" else (ours,), expected, strict=True):
        assert_matches(a, b)
    gx, gy = cycle_consistency_loss_grad(x, x_rec, y, y_rec, 10.0, reduction)
    assert_matches(gx, gx_ref, rtol=0, atol=0)
    assert_matches(gy, gy_ref, rtol=0, atol=0)


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_zero_d_and_empty_inputs_like_torch(dtype, reduction):
    """0-d inputs match torch; empty ones give l1_loss's NaN mean, 0 sum, empty gradients."""
    x, x_rec = np.array(1.0, dtype=dtype), np.array(3.0, dtype=dtype)
    y, y_rec = np.array(-1.0, dtype=dtype), np.array(-1.5, dtype=dtype)
    fwd, bwd, gx_ref, gy_ref = torch_cycle(x, x_rec, y, y_rec, 2.0, reduction)
    ours = cycle_consistency_loss(x, x_rec, y, y_rec, 2.0, reduction)
    gx, gy = cycle_consistency_loss_grad(x, x_rec, y, y_rec, 2.0, reduction)
    if reduction == "none":
        assert_matches(ours[0], fwd)
        assert_matches(ours[1], bwd)
    else:
        assert_matches(ours, fwd + bwd)
    assert_matches(gx, gx_ref, rtol=0, atol=0)
    assert_matches(gy, gy_ref, rtol=0, atol=0)
    e = np.zeros(0, dtype=dtype)
    fwd, bwd, gx_ref, _ = torch_cycle(e, e, e, e, 2.0, reduction)
    ours = cycle_consistency_loss(e, e, e, e, 2.0, reduction)
    assert_matches(ours[0] if reduction == "none" else ours, fwd if reduction == "none"
                   else fwd + bwd)  # NaN for "mean", 0 for "sum", empty for "none"
    assert_matches(cycle_consistency_loss_grad(e, e, e, e, 2.0, reduction)[0], gx_ref)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_lambda_range_and_dtype(dtype):
    """λ = 0 gives 0; λ < 0 and NaN are refused; a NumPy float64 λ keeps float32 results."""
    x, x_rec = random_input((3,), dtype, seed=1), random_input((3,), dtype, seed=2)
    assert cycle_consistency_loss(x, x_rec, x, x_rec, 0.0) == 0
    assert cycle_consistency_loss(x, x_rec, x, x_rec, np.float64(2.0)).dtype == dtype
    assert cycle_consistency_loss_grad(x, x_rec, x, x_rec, np.float64(2.0))[0].dtype == dtype
    for bad in (-1.0, np.nan):
        with pytest.raises(ValueError, match="lambda"):
            cycle_consistency_loss(x, x_rec, x, x_rec, bad)
        with pytest.raises(ValueError, match="lambda"):
            cycle_consistency_loss_grad(x, x_rec, x, x_rec, bad)


def test_shape_mismatch_and_unknown_reduction_raise():
    """A reconstruction of another shape (which would broadcast) and a bad reduction raise."""
    x = np.zeros((4, 1))
    with pytest.raises(ValueError, match="shape"):
        cycle_consistency_loss(x, np.zeros(4), x, x)
    with pytest.raises(ValueError, match="shape"):
        cycle_consistency_loss_grad(x, x, x, np.zeros(4))
    with pytest.raises(ValueError, match="reduction"):
        cycle_consistency_loss(x, x, x, x, reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        cycle_consistency_loss_grad(x, x, x, x, reduction="avg")


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 4), st.floats(0.1, 3.0))
def test_inverse_translators_give_zero_loss(D, scale):
    """If F is the inverse of G, every round trip is exact: the loss is 0 up to rounding."""
    rng = np.random.default_rng(D)
    W_G = np.eye(D) * scale + rng.normal(size=(D, D)) * 0.1  # well conditioned
    W_F = np.linalg.inv(W_G)
    x, y = rng.normal(size=(6, D)), rng.normal(size=(3, D))
    loss, _, _ = linear_cycle_loss(x, y, W_G, W_F)
    assert loss < 1e-12


@settings(max_examples=50, deadline=None)
@given(st.floats(0.0, 100.0))
def test_loss_is_linear_in_lambda(lambda_cyc):
    """The loss and its gradients scale linearly with lambda (it is only a weight)."""
    x, x_rec, y, y_rec = (random_input((5,), np.float64, seed=s) for s in range(4))
    base = cycle_consistency_loss(x, x_rec, y, y_rec, 1.0)
    np.testing.assert_allclose(cycle_consistency_loss(x, x_rec, y, y_rec, lambda_cyc),
                               lambda_cyc * base, rtol=1e-14, atol=1e-300)
    gx, _ = cycle_consistency_loss_grad(x, x_rec, y, y_rec, lambda_cyc)
    np.testing.assert_allclose(gx, lambda_cyc * np.sign(x_rec - x) / 5, rtol=1e-14)


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
def test_uint8_images_do_not_wrap_around(reduction):
    """uint8 inputs give the float64 result: |3 - 5| is 2, not 254 (torch refuses integers)."""
    x, x_rec = np.array([[3, 5], [0, 255]], np.uint8), np.array([[5, 3], [255, 0]], np.uint8)
    xf, rf = x.astype(np.float64), x_rec.astype(np.float64)
    ours = cycle_consistency_loss(x, x_rec, x, x_rec, 2.5, reduction)
    ref = cycle_consistency_loss(xf, rf, xf, rf, 2.5, reduction)
    np.testing.assert_array_equal(ours, ref)
    for g, g_ref in zip(cycle_consistency_loss_grad(x, x_rec, x, x_rec, 2.5, reduction),
                        cycle_consistency_loss_grad(xf, rf, xf, rf, 2.5, reduction), strict=True):
        assert_matches(g, g_ref, rtol=0, atol=0)
    np.testing.assert_array_equal(cycle_consistency_loss(x, x_rec, x, x_rec, 1.0, "none")[0],
                                  [[2, 2], [255, 255]])
