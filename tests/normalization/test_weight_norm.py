"""Weight normalization and its hand-written gradients match torch's weight_norm parametrization."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.normalization.weight_norm import (
    norm_axes,
    weight_norm,
    weight_norm_grad,
    weight_norm_init,
)
from tests.helpers import DTYPES, TOLERANCE, assert_matches, dtype_id

TORCH_DTYPE = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}
MODULES = {
    "linear": lambda: torch.nn.Linear(3, 4),
    "conv2d": lambda: torch.nn.Conv2d(2, 5, 3),
    "conv1d": lambda: torch.nn.Conv1d(3, 2, 4),
}
DIMS = [0, 1, -2, None, -1]


def torch_weight_norm(module, dim=0):
    """torch's weight-normalized `module`, with (g, v) = (original0, original1)."""
    module = torch.nn.utils.parametrizations.weight_norm(module, dim=dim)
    p = module.parametrizations.weight
    return module, p.original0, p.original1


def _torch_case(make, dim, dtype, grad_w, scale=1.0):
    """torch's w, dL/dg and dL/dv for the loss sum(w * grad_w), and the (g, v) it used."""
    torch.manual_seed(0)
    module = make().to(TORCH_DTYPE[np.dtype(dtype)])
    with torch.no_grad():
        module.weight.mul_(scale)
    module, g_t, v_t = torch_weight_norm(module, dim=dim)
    (module.weight * torch.tensor(grad_w)).sum().backward()
    return module.weight, g_t.grad, v_t.grad, g_t.detach().numpy(), v_t.detach().numpy()


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("name", MODULES)
def test_value_and_gradients_match_torch(name, dim, dtype):
    """w, dL/dg (original0) and dL/dv (original1) agree with torch for every module and dim."""
    shape = tuple(MODULES[name]().weight.shape)
    grad_w = np.random.default_rng(1).normal(size=shape).astype(dtype)
    w, grad_g_t, grad_v_t, g, v = _torch_case(MODULES[name], dim, dtype, grad_w)
    grad_g, grad_v = weight_norm_grad(g, v, grad_w, dim=dim)
    assert_matches(weight_norm(g, v, dim), w)
    assert_matches(grad_g, grad_g_t)
    assert_matches(grad_v, grad_v_t)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("scale", [1e-4, 1e4], ids=str)
def test_tiny_and_huge_weights_match_torch(scale, dtype):
    """Weights scaled by 1e-4 or 1e4: values and gradients still match torch (relative)."""
    make = MODULES["conv2d"]
    grad_w = np.random.default_rng(2).normal(size=(5, 2, 3, 3)).astype(dtype)
    w, grad_g_t, grad_v_t, g, v = _torch_case(make, 0, dtype, grad_w, scale=scale)
    grad_g, grad_v = weight_norm_grad(g, v, grad_w)
    assert_matches(weight_norm(g, v), w)
    assert_matches(grad_g, grad_g_t)
    # dL/dv = (g/|v|)(...) does not depend on the scale: g and |v| grow together
    assert_matches(grad_v, grad_v_t)


def test_dim_minus_one_means_whole_tensor_like_torch():
    """dim=-1 gives one length for the whole tensor (as None does), not one per last-axis slice."""
    assert norm_axes(4, -1) == (0, 1, 2, 3)
    assert norm_axes(4, -2) == (0, 1, 3)
    module, g_t, _ = torch_weight_norm(torch.nn.Conv2d(2, 5, 3).double(), dim=-1)
    assert g_t.shape == ()
    g, _ = weight_norm_init(module.weight.detach().numpy(), dim=-1)
    assert g.shape == ()


@pytest.mark.parametrize("dim", DIMS, ids=str)
def test_init_matches_torch_right_inverse(dim):
    """weight_norm_init gives torch's original0 and original1 and reproduces the weight."""
    torch.manual_seed(3)
    module = torch.nn.Conv2d(2, 5, 3).double()
    w0 = module.weight.detach().numpy().copy()
    _, g_t, v_t = torch_weight_norm(module, dim=dim)
    g, v = weight_norm_init(w0, dim=dim)
    assert_matches(g, g_t)
    assert_matches(v, v_t)
    assert_matches(weight_norm(g, v, dim), w0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_vector_weight_per_element(dtype):
    """A 1-d v with dim=0 has one length per element: w = g * sign(v), as in torch."""
    v = np.array([-2.0, 0.5, 3.0], dtype=dtype)
    g = np.array([1.5, 2.0, -1.0], dtype=dtype)
    w_t = torch._weight_norm(torch.tensor(v), torch.tensor(g), 0)
    assert_matches(weight_norm(g, v), w_t)
    assert_matches(weight_norm(g, v), g * np.sign(v), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_zero_slice_gives_nan_like_torch(dtype):
    """A row of v that is all zero gives a NaN row of w, in ours and in torch; others are fine."""
    v = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]], dtype=dtype)
    g = np.array([[1.0], [3.0]], dtype=dtype)
    w_t = torch._weight_norm(torch.tensor(v), torch.tensor(g), 0).numpy()
    with np.errstate(invalid="ignore"):
        w = weight_norm(g, v)
    assert np.isnan(w[0]).all()
    assert np.isnan(w_t[0]).all()
    assert_matches(w[1], w_t[1])
    assert_matches(w[1], np.array([1.0, 2.0, 2.0], dtype=dtype))


def test_out_of_range_dim_refused():
    """A dim outside the weight's axes is refused with a ValueError (torch raises IndexError)."""
    with pytest.raises(ValueError, match="out of range"):
        weight_norm(np.ones(()), np.ones((4, 3)), dim=2)
    with pytest.raises(IndexError):
        torch_weight_norm(torch.nn.Linear(3, 4), dim=2)


def test_empty_weight():
    """A weight with no output rows gives an empty w and empty gradients, without warnings."""
    v = np.ones((0, 3))
    g = np.ones((0, 1))
    with np.errstate(all="raise"):
        assert weight_norm(g, v).shape == (0, 3)
        grad_g, grad_v = weight_norm_grad(g, v, v)
    assert grad_g.shape == (0, 1)
    assert grad_v.shape == (0, 3)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_gradient_along_v_cancels_like_torch(dtype):
    """G parallel to v: dL/dv = G - u(G.u) cancels to rounding size, as torch's does."""
    rng = np.random.default_rng(4)
    v = rng.normal(size=(4, 3)).astype(dtype)
    g = np.linalg.norm(v, axis=1, keepdims=True).astype(dtype)
    grad_w = (5.0 * v + 1e-3 * rng.normal(size=v.shape)).astype(dtype)  # mostly along v
    v_t, g_t = torch.tensor(v, requires_grad=True), torch.tensor(g, requires_grad=True)
    (torch._weight_norm(v_t, g_t, 0) * torch.tensor(grad_w)).sum().backward()
    _, grad_v = weight_norm_grad(g, v, grad_w)
    # the result is ~1e-3 but is the difference of terms of size |G| ~ 5|v|: the error of
    # either side is a few eps times |G|, so the bound is the dtype's rtol times max |G|
    bound = TOLERANCE[np.dtype(dtype)]["rtol"] * np.abs(grad_w).max()
    np.testing.assert_allclose(grad_v, v_t.grad.numpy(), rtol=0, atol=bound)


@settings(max_examples=50, deadline=None)
@given(
    hnp.arrays(np.float64, (3, 4), elements=st.floats(-10, 10)).filter(
        lambda a: (np.linalg.norm(a, axis=1) > 1e-3).all()),
    st.floats(1e-3, 1e3),
)
def test_scale_invariance_and_orthogonal_gradient(v, c):
    """w(g, c v) = w(g, v); dL/dv is orthogonal to v; and dL/d(c v) = dL/dv / c."""
    rng = np.random.default_rng(5)
    g = rng.uniform(0.5, 2.0, size=(3, 1))
    G = rng.normal(size=v.shape)
    np.testing.assert_allclose(weight_norm(g, c * v), weight_norm(g, v), rtol=1e-12, atol=1e-15)
    _, grad_v = weight_norm_grad(g, v, G)
    _, grad_cv = weight_norm_grad(g, c * v, G)
    dots = np.abs(np.sum(v * grad_v, axis=1))
    # each dot is a sum of products of size |v| |dL/dv|: zero up to a few eps of that size
    sizes = np.linalg.norm(v, axis=1) * np.linalg.norm(grad_v, axis=1) + 1e-300
    assert (dots <= 1e-13 * sizes).all()
    np.testing.assert_allclose(grad_cv, grad_v / c, rtol=1e-12, atol=1e-12 * np.abs(grad_v).max())
    # each row's length is g: w's norm per row
    np.testing.assert_allclose(np.linalg.norm(weight_norm(g, v), axis=1), np.abs(g[:, 0]),
                               rtol=1e-12)


def test_float32_overflow_gives_zero_like_torch():
    """float32 v of 1e20: |v|^2 overflows to inf and w becomes 0, in ours and in torch alike."""
    v = np.array([[1e20, 1e20], [3.0, 4.0]], dtype=np.float32)
    g = np.ones((2, 1), dtype=np.float32)
    w_t = torch._weight_norm(torch.tensor(v), torch.tensor(g), 0)
    with np.errstate(over="ignore"):
        w = weight_norm(g, v)
    assert_matches(w, w_t, rtol=0, atol=0)
    np.testing.assert_array_equal(w[0], [0.0, 0.0])
