"""The forward and backward pass of snippets/fundamentals/mlp.py against
torch.nn.Sequential(Linear, ReLU, ..., Linear) holding the same weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.fundamentals.mlp import init_mlp, mlp_backward, mlp_forward
from tests.helpers import DTYPES, TOLERANCE, dtype_id

DEPTHS = {"1 layer": [3, 2], "2 layers": [3, 16, 2], "3 layers": [3, 16, 8, 2],
          "5 layers": [1, 4, 4, 4, 4, 1]}
BATCHES = [(), (0,), (1,), (8,), (2, 3)]


def torch_mlp(layers):
    """Sequential(Linear, ReLU, ..., Linear) with copies of `layers` ((out, in) weights)."""
    mods = []
    for W, b in layers:
        lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.from_numpy(W).dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
        mods += [lin, torch.nn.ReLU()]
    return torch.nn.Sequential(*mods[:-1])


def compare(x, layers, g, **tol):
    """Assert outputs, input gradient and every weight and bias gradient equal torch's."""
    tol = tol or TOLERANCE[x.dtype]
    out, acts = mlp_forward(x, layers)
    grads, dx = mlp_backward(layers, acts, g)
    net = torch_mlp(layers)
    xt = torch.tensor(x, requires_grad=True)
    ref = net(xt)
    ref.backward(torch.from_numpy(g))
    pairs = [("out", out, ref.detach()), ("dx", dx, xt.grad)]
    lins = [m for m in net if isinstance(m, torch.nn.Linear)]
    for i, ((dw, db), lin) in enumerate(zip(grads, lins, strict=True)):
        pairs += [(f"dW{i + 1}", dw, lin.weight.grad), (f"db{i + 1}", db, lin.bias.grad)]
    for name, ours, theirs in pairs:
        assert ours.dtype == x.dtype, name
        assert ours.shape == tuple(theirs.shape), name
        np.testing.assert_allclose(ours, theirs.numpy(), err_msg=name, **tol)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("batch", BATCHES, ids=str)
@pytest.mark.parametrize("depth", DEPTHS)
def test_matches_sequential(depth, batch, dtype):
    """Values and all gradients equal torch's for 1 to 5 layers, a single example, an empty
    batch and batches of one and two dimensions, in both precisions."""
    sizes = DEPTHS[depth]
    rng = np.random.default_rng(len(sizes))
    layers = [(W.astype(dtype), b.astype(dtype)) for W, b in init_mlp(sizes, seed=len(batch))]
    x = rng.normal(size=(*batch, sizes[0])).astype(dtype)
    g = rng.normal(size=(*batch, sizes[-1])).astype(dtype)
    compare(x, layers, g)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_zero_pre_activation_has_zero_slope(dtype):
    """A hidden unit whose pre-activation is exactly 0 passes no gradient back, as in torch."""
    layers = [(W.astype(dtype), b.astype(dtype)) for W, b in init_mlp([2, 3, 1])]
    layers[0][1][0] = 0  # unit 0 of the hidden layer: z = W[0] . 0 + 0 = 0 at x = 0
    x = np.zeros((2, 2), dtype=dtype)
    _, acts = mlp_forward(x, layers)
    assert np.all(acts[1][:, 0] == 0)
    compare(x, layers, np.ones((2, 1), dtype=dtype))
    grads, _ = mlp_backward(layers, acts, np.ones((2, 1), dtype=dtype))
    assert grads[1][0][0, 0] == 0  # the output weight of the silent unit gets nothing


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_huge_inputs(dtype):
    """Inputs of +-1e4 give torch's values and gradients (relative tolerance: the outputs are
    of order 1e4, so the absolute floor is scaled by it)."""
    layers = [(W.astype(dtype), b.astype(dtype)) for W, b in init_mlp([3, 8, 8, 2], seed=3)]
    x = np.array([[1e4, -1e4, 5e3], [-1e4, 1e4, 0.0]], dtype=dtype)
    g = np.ones((2, 2), dtype=dtype)
    tol = TOLERANCE[np.dtype(dtype)]
    compare(x, layers, g, rtol=tol["rtol"], atol=tol["atol"] * 1e4)


def test_single_example_is_a_row_of_the_batch():
    """Running one example of shape (D,) gives row i of the batch result (to rounding: NumPy
    multiplies a vector and a matrix by different routines, summing in a different order)."""
    layers = init_mlp([4, 6, 3])
    x = np.random.default_rng(0).normal(size=(5, 4))
    batch, _ = mlp_forward(x, layers)
    for i in range(5):
        np.testing.assert_allclose(mlp_forward(x[i], layers)[0], batch[i], rtol=1e-14,
                                   atol=1e-15)


def test_xor_with_hand_set_weights():
    """ReLU(x1 + x2) - 2 ReLU(x1 + x2 - 1) is XOR on {0, 1}^2, exactly."""
    W1, b1 = np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([0.0, -1.0])
    W2, b2 = np.array([[1.0, -2.0]]), np.array([0.0])
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    out, _ = mlp_forward(X, [(W1, b1), (W2, b2)])
    np.testing.assert_array_equal(out[:, 0], [0.0, 1.0, 1.0, 0.0])


@settings(max_examples=50)
@given(st.floats(1e-3, 1e3), st.integers(0, 100))
def test_positive_homogeneity_without_biases(c, seed):
    """With zero biases, f(c x) = c f(x) for c > 0: ReLU(c z) = c ReLU(z)."""
    layers = [(W, np.zeros_like(b)) for W, b in init_mlp([3, 5, 5, 2], seed=seed)]
    x = np.random.default_rng(seed).normal(size=(4, 3))
    np.testing.assert_allclose(mlp_forward(c * x, layers)[0], c * mlp_forward(x, layers)[0],
                               rtol=1e-12, atol=1e-12 * c)


def test_all_units_active_collapses_to_one_linear_map():
    """Where every hidden unit is active, the network equals the single linear map
    x W1^T W2^T W3^T + (b1 W2^T + b2) W3^T + b3: the nonlinearity is what adds power."""
    (W1, b1), (W2, b2), (W3, b3) = init_mlp([3, 5, 4, 2], seed=1)
    b1, b2 = b1 + 100, b2 + 100  # large positive biases: every unit on for small inputs
    x = np.random.default_rng(1).normal(size=(6, 3))
    out, acts = mlp_forward(x, [(W1, b1), (W2, b2), (W3, b3)])
    assert all(np.all(a > 0) for a in acts[1:])
    W = W3 @ W2 @ W1  # (2, 3)
    b = (b1 @ W2.T + b2) @ W3.T + b3
    np.testing.assert_allclose(out, x @ W.T + b, rtol=1e-12, atol=1e-10)


def test_parameter_count():
    """init_mlp gives (out, in) weights and (out,) biases: sum of in*out + out parameters."""
    sizes = [3, 16, 8, 2]
    layers = init_mlp(sizes)
    assert [W.shape for W, _ in layers] == [(16, 3), (8, 16), (2, 8)]
    assert [b.shape for _, b in layers] == [(16,), (8,), (2,)]
    assert sum(W.size + b.size for W, b in layers) == 3 * 16 + 16 + 16 * 8 + 8 + 8 * 2 + 2
    net = torch_mlp(layers)
    assert sum(p.numel() for p in net.parameters()) == 218


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nan_input_and_infinite_gradient_like_torch(dtype):
    """A NaN input and an infinite output gradient give torch's values and gradients: torch's
    ReLU backward zeroes the gradient only where the output is <= 0, so a NaN activation passes
    it on and an inactive unit blocks even an infinite one."""
    layers = [(W.astype(dtype), b.astype(dtype)) for W, b in init_mlp([3, 4, 2], seed=5)]
    x = np.array([[np.nan, 1.0, 2.0], [0.5, 1.0, 2.0], [-3.0, 0.2, -1.0]], dtype=dtype)
    g = np.ones((3, 2), dtype=dtype)
    with np.errstate(invalid="ignore"):  # NaN and inf - inf are the point here
        compare(x, layers, g)
        g[2, 0] = np.inf
        compare(x[1:], layers, g[1:])
