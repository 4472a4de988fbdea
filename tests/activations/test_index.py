"""The hand-written deep stack matches torch.autograd; sigmoid gradients vanish, ReLU's do not."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.activations.index import (
    ACTIVATIONS,
    forward,
    init_stack,
    loss_and_grads,
    weight_grad_norms,
)
from tests.helpers import DTYPES, TOLERANCE, assert_matches, dtype_id, tensor

NAMES = ["sigmoid", "relu"]
CONFIGS = [
    pytest.param(1, 4, 3, id="depth1-width4-batch3"),
    pytest.param(5, 16, 8, id="depth5-width16-batch8"),
    pytest.param(20, 64, 128, id="depth20-width64-batch128"),
]


def torch_loss_and_grads(x, params, activation):
    """Reference: the same stack and loss built from torch ops, differentiated by autograd."""
    f = torch.sigmoid if activation == "sigmoid" else torch.relu
    ws = [(tensor(W, grad=True), tensor(b, grad=True)) for W, b in params]
    h = tensor(x)
    for W, b in ws:
        h = f(torch.nn.functional.linear(h, W, b))
    loss = 0.5 * (h**2).sum() / x.shape[0]
    loss.backward()
    return loss, [(W.grad, b.grad) for W, b in ws]


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("activation", NAMES)
@pytest.mark.parametrize(("depth", "width", "batch"), CONFIGS)
def test_loss_and_every_layer_gradient_match_autograd(depth, width, batch, activation, dtype):
    """Loss and dL/dW, dL/db of every layer agree with torch.autograd in both precisions."""
    params = init_stack(depth, width, seed=depth, dtype=dtype)
    x = np.random.default_rng(1).normal(size=(batch, width)).astype(dtype)
    loss, grads = loss_and_grads(x, params, activation)
    t_loss, t_grads = torch_loss_and_grads(x, params, activation)
    assert_matches(np.asarray(loss, dtype=dtype), t_loss)
    rtol = TOLERANCE[np.dtype(dtype)]["rtol"]
    for (dW, db), (tW, tb) in zip(grads, t_grads, strict=True):
        for ours, ref in ((dW, tW), (db, tb)):
            # A sigmoid layer's gradient can be 1e-10 in total, so a fixed atol would accept
            # anything; scale the absolute bound to the layer's own largest entry instead.
            scale = float(ref.abs().max())
            assert_matches(ours, ref, atol=rtol * scale)


def test_empty_batch():
    """A batch of zero rows: torch gives a NaN loss (0/0) and zero gradients; so do we."""
    params = init_stack(3, 4)
    x = np.zeros((0, 4))
    with np.errstate(invalid="ignore"):  # 0 / 0 for the mean over no rows is the answer
        loss, grads = loss_and_grads(x, params, "relu")
    t_loss, t_grads = torch_loss_and_grads(x, params, "relu")
    assert np.isnan(loss)
    assert torch.isnan(t_loss)
    for (dW, db), (tW, tb) in zip(grads, t_grads, strict=True):
        assert_matches(dW, tW)
        assert_matches(db, tb)


def test_forward_shapes():
    """forward returns L pre-activations and L + 1 activations, all (B, n)."""
    params = init_stack(4, 6)
    zs, hs = forward(np.ones((5, 6)), params, "relu")
    assert len(zs) == 4
    assert len(hs) == 5
    assert all(a.shape == (5, 6) for a in zs + hs)


def test_sigmoid_derivative_is_at_most_a_quarter():
    """sigma'(z) <= 1/4 with equality at 0: the factor that shrinks each layer's gradient."""
    _, f_prime = ACTIVATIONS["sigmoid"]
    z = np.linspace(-20, 20, 40001)
    assert f_prime(z).max() == 0.25
    assert f_prime(np.array([0.0]))[0] == 0.25


def test_sigmoid_gradient_vanishes_relu_does_not():
    """The page's demo: sigmoid's first-layer gradient is about 1e-10 of its last; ReLU's is not."""
    params = init_stack(20, 64)
    x = np.random.default_rng(1).normal(size=(128, 64))
    sigmoid_norms = weight_grad_norms(x, params, "sigmoid")
    relu_norms = weight_grad_norms(x, params, "relu")
    assert 9.5 < -np.log10(sigmoid_norms[0] / sigmoid_norms[-1]) < 10.5  # "about ten orders"
    assert 0.1 < relu_norms[0] / relu_norms[-1] < 10
    assert relu_norms.max() / relu_norms.min() < 10  # the figure: "within a factor of a few"
    assert (np.diff(np.log(sigmoid_norms)) > 0).mean() > 0.8  # shrinks layer after layer


@settings(deadline=None, max_examples=30)
@given(st.floats(0.01, 100), st.integers(0, 1000))
def test_relu_stack_is_positively_homogeneous(c, seed):
    """Identity: zero biases, so scaling a ReLU stack's input by c > 0 scales dL/dW by c^2."""
    params = init_stack(6, 8, seed=seed)
    x = np.random.default_rng(seed).normal(size=(4, 8))
    _, base = loss_and_grads(x, params, "relu")
    _, scaled = loss_and_grads(c * x, params, "relu")
    for (dW, _), (sW, _) in zip(base, scaled, strict=True):
        np.testing.assert_allclose(sW, c**2 * dW, rtol=1e-12, atol=1e-12 * c**2)


@settings(deadline=None, max_examples=20)
@given(st.integers(1, 6), st.integers(0, 1000))
def test_loss_is_averaged_over_the_batch_only(batch, seed):
    """L = (1/2B) sum_i ||h_d^(i)||^2: the mean over inputs of each input's own loss, which is
    half its squared output norm (a sum over the output's n entries, not a mean)."""
    params = init_stack(3, 5, seed=seed)
    x = np.random.default_rng(seed).normal(size=(batch, 5))
    loss, _ = loss_and_grads(x, params, "relu")
    singles = [loss_and_grads(x[i : i + 1], params, "relu")[0] for i in range(batch)]
    np.testing.assert_allclose(loss, np.mean(singles), rtol=1e-14)
    _, hs = forward(x[:1], params, "relu")
    np.testing.assert_allclose(singles[0], 0.5 * (hs[-1] ** 2).sum(), rtol=1e-14)


def test_demo_weights_make_every_sigmoid_factor_shrink():
    """The page's bound: the demo's weights have largest singular values below 3, so each
    Jacobian factor of the sigmoid stack stretches a vector by at most 3/4 < 1."""
    s_max = [np.linalg.norm(W, 2) for W, _ in init_stack(20, 64)]
    assert min(s_max) > 2.5
    assert max(s_max) < 3
    _, f_prime = ACTIVATIONS["sigmoid"]
    assert f_prime(np.linspace(-20, 20, 4001)).max() * max(s_max) < 1


def test_sigmoid_derivative_has_no_cancellation():
    """sigma(z) sigma(-z) keeps its relative accuracy at z = 30, where 1 - sigma(z) would not."""
    _, f_prime = ACTIVATIONS["sigmoid"]
    z = np.array([30.0, -30.0])
    exact = np.exp(-30.0) / (1 + np.exp(-30.0)) ** 2  # no subtraction: accurate to an ULP
    np.testing.assert_allclose(f_prime(z), exact, rtol=4 * np.finfo(np.float64).eps)


def test_demo_sigmoid_shrink_per_layer_is_as_the_page_says():
    """The page's account of the demo: most sigma' in [0.2, 1/4], W^T stretches the backward
    signal by about sqrt(2) (not by its largest singular value), the gradient shrinks ~3.5x per
    layer."""
    params = init_stack(20, 64)
    x = np.random.default_rng(1).normal(size=(128, 64))
    zs, hs = forward(x, params, "sigmoid")
    _, f_prime = ACTIVATIONS["sigmoid"]
    slopes = np.concatenate([f_prime(z).ravel() for z in zs])
    assert (slopes >= 0.2).mean() > 0.7
    dh, stretch = hs[-1] / x.shape[0], []
    for (W, _), z in zip(params[::-1], zs[::-1], strict=True):
        dz = dh * f_prime(z)
        dh = dz @ W
        stretch.append(np.linalg.norm(dh) / np.linalg.norm(dz))
    assert 1.3 < np.exp(np.log(stretch).mean()) < 1.5  # geometric mean, sqrt(2) = 1.41
    norms = weight_grad_norms(x, params, "sigmoid")
    assert 3.3 < (norms[-1] / norms[0]) ** (1 / 19) < 3.7


def test_overview_table_numbers_match_torch():
    """The overview's rounded minima (SiLU -0.28, GELU -0.17, Mish -0.31) and SELU's constants
    (1.0507 x on the right, floor -1.7581) are torch's to the digits shown."""
    x = torch.linspace(-3, 0, 300001, dtype=torch.float64)
    F = torch.nn.functional
    for fn, minimum in ((F.silu, -0.28), (F.gelu, -0.17), (F.mish, -0.31)):
        assert round(fn(x).min().item(), 2) == minimum
    assert round(F.selu(torch.tensor(1.0, dtype=torch.float64)).item(), 4) == 1.0507
    assert round(F.selu(torch.tensor(-1e3, dtype=torch.float64)).item(), 4) == -1.7581
    assert F.elu(torch.tensor(-1e3, dtype=torch.float64)).item() == -1.0  # floor -alpha, alpha=1
