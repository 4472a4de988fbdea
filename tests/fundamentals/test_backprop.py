"""The scalar autodiff engine and the matrix-form MLP gradients of
snippets/fundamentals/backprop.py, against torch.autograd."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.fundamentals.backprop import Value, mlp_backward, mlp_forward
from tests.helpers import DTYPES, TOLERANCE, dtype_id

# Expressions written once and evaluated both on Values and on float64 torch tensors; each
# uses its inputs more than once or in more than one operation.
EXPRESSIONS = {
    "product and sum": lambda a, b, c: a * b + b * c + c * a,
    "reuse through tanh": lambda a, b, c: (a * b + a).tanh() * a,
    "division and power": lambda a, b, c: (a**2 + 1) / (b**2 + 1) - c**3,
    "exp and log": lambda a, b, c: (a.exp() + b.exp() + c.exp()).log(),
    "relu chain": lambda a, b, c: (a - b).relu() * (b - c).relu() + (c * 2).relu(),
    "reflected operators": lambda a, b, c: 3 - a / 2 + 1 / (1 + b * b) * (2 * c),
}


def torch_grads(fn, inputs):
    xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in inputs]
    out = fn(*xs)
    out.backward()
    return out.item(), [0.0 if x.grad is None else x.grad.item() for x in xs]  # unused: 0


@settings(max_examples=40)
@given(inputs=st.lists(st.floats(-3, 3), min_size=3, max_size=3),
       name=st.sampled_from(sorted(EXPRESSIONS)))
def test_expressions_match_autograd(inputs, name):
    """Value and gradient of each expression equal torch's in float64 (both use the same
    formulas in double precision; 1e-12 relative covers a different order of operations)."""
    fn = EXPRESSIONS[name]
    values = [Value(v) for v in inputs]
    out = fn(*values)
    out.backward()
    expected, grads = torch_grads(fn, inputs)
    assert math.isclose(out.data, expected, rel_tol=1e-12, abs_tol=1e-12)
    for v, g in zip(values, grads, strict=True):
        assert math.isclose(v.grad, g, rel_tol=1e-12, abs_tol=1e-12), (name, inputs)


def test_gradients_accumulate_over_every_use():
    """x*x + x*x*x has derivative 2x + 3x^2: both uses of x add into x.grad."""
    x = Value(1.5)
    (x * x + x * x * x).backward()
    assert x.grad == pytest.approx(2 * 1.5 + 3 * 1.5**2, rel=1e-15)


def test_shared_subexpression_is_visited_once():
    """A node reached by two paths passes its gradient back once, after both paths added in."""
    a = Value(2.0)
    c = a * 3  # used twice below
    d = c * c + c
    d.backward()
    assert c.grad == 2 * 6.0 + 1
    assert a.grad == 3 * (2 * 6.0 + 1)


def test_backward_twice_gives_the_same_gradients():
    """backward() resets the gradients it fills in, so a second call does not double them."""
    a, b = Value(0.3), Value(-1.2)
    out = (a * b).tanh() + a
    out.backward()
    first = (a.grad, b.grad)
    out.backward()
    assert (a.grad, b.grad) == first


def test_deep_chain_without_recursion():
    """A chain of 200,000 multiplications (far beyond Python's recursion limit) backpropagates
    to the exact derivative, 1.00001**200000, up to rounding in the products: at most
    n * 2**-53 = 2.2e-11 relative for n = 200,000 roundings, plus that of the reference."""
    x = Value(0.5)
    y = x
    for _ in range(200_000):
        y = y * 1.00001
    y.backward()
    assert x.grad == pytest.approx(1.00001**200_000, rel=3e-11)


def test_each_node_is_visited_once_however_many_paths():
    """y = y + y repeated 1000 times has 2**1000 paths from x to the output; the backward
    pass follows each of the 1001 nodes once and still gets dy/dx = 2**1000 exactly."""
    x = Value(1.0)
    y = x
    for _ in range(1000):
        y = y + y
    y.backward()
    assert x.grad == 2.0**1000


def test_value_used_twice_by_one_operation():
    """In a * a the same Value is both parents: both local derivatives add into its grad,
    as in torch."""
    a = Value(-1.5)
    (a * a * a).backward()
    t = torch.tensor(-1.5, dtype=torch.float64, requires_grad=True)
    (t * t * t).backward()
    assert a.grad == t.grad.item() == 3 * 1.5**2


def test_relu_derivative_at_zero_is_zero():
    """As in torch, ReLU's derivative at exactly 0 is taken to be 0."""
    x = Value(0.0)
    x.relu().backward()
    t = torch.tensor(0.0, requires_grad=True)
    torch.relu(t).backward()
    assert x.grad == t.grad.item() == 0.0


# Inputs where the engine and torch both give a number (finite or not): they must agree,
# value and gradient, including NaN where torch has NaN.
NON_FINITE = [
    ("relu at NaN passes the gradient", lambda v: v.relu(), math.nan),
    ("relu at +inf", lambda v: v.relu(), math.inf),
    ("relu at -0.0", lambda v: v.relu(), -0.0),
    ("tanh at +inf", lambda v: v.tanh(), math.inf),
    ("tanh at NaN", lambda v: v.tanh(), math.nan),
    ("exp at -inf", lambda v: v.exp(), -math.inf),
    ("exp underflow", lambda v: v.exp(), -1000.0),
    ("log at +inf", lambda v: v.log(), math.inf),
    ("x * 0 at inf", lambda v: v * 0.0, math.inf),
    ("x - x at inf", lambda v: v - v, math.inf),
    ("x ** 0 at 0", lambda v: v**0, 0.0),
    ("x ** 0 at NaN", lambda v: v**0, math.nan),
    ("x ** 2 at -inf", lambda v: v**2, -math.inf),
    ("x * x overflows to inf", lambda v: v * v, 1e200),
]


@pytest.mark.parametrize(("name", "fn", "x"), NON_FINITE, ids=[c[0] for c in NON_FINITE])
def test_non_finite_and_edge_inputs_match_torch(name, fn, x):
    """Where neither raises, value and gradient equal torch's float64 ones bit for bit (NaN
    where torch has NaN)."""
    v = Value(x)
    out = fn(v)
    out.backward()
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tout = fn(t)
    tout.backward()
    np.testing.assert_array_equal([out.data, v.grad], [tout.item(), t.grad.item()], name)


# Where Python's math raises and torch returns inf or NaN (the page's "Python floats are not
# torch" pitfall): the exception, and torch's (value, gradient).
RAISES = [
    ("log(0)", lambda v: v.log(), 0.0, ValueError, (-math.inf, math.inf)),
    ("log(-1)", lambda v: v.log(), -1.0, ValueError, (math.nan, -1.0)),
    ("1 / 0", lambda v: 1 / v, 0.0, ValueError, (math.inf, -math.inf)),
    ("0 ** -2", lambda v: v**-2, 0.0, ValueError, (math.inf, -math.inf)),
    ("(-2) ** 0.5", lambda v: v**0.5, -2.0, ValueError, (math.nan, math.nan)),
    ("0 ** 0.5 (infinite slope)", lambda v: v**0.5, 0.0, ValueError, (0.0, math.inf)),
    ("exp(710)", lambda v: v.exp(), 710.0, OverflowError, (math.inf, math.inf)),
    ("10 ** 400", lambda v: v**400, 10.0, OverflowError, (math.inf, math.inf)),
]


@pytest.mark.parametrize(("name", "fn", "x", "error", "in_torch"), RAISES,
                         ids=[c[0] for c in RAISES])
def test_python_math_raises_where_torch_returns_inf_or_nan(name, fn, x, error, in_torch):
    """The engine raises ValueError outside a function's domain and OverflowError past the
    largest float, where torch returns the (value, gradient) listed."""
    with pytest.raises(error):
        fn(Value(x)).backward()
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = fn(t)
    out.backward()
    np.testing.assert_array_equal([out.item(), t.grad.item()], in_torch, name)


def test_tanh_slope_from_its_output_loses_digits_at_large_x():
    """1 - tanh(x)**2 cancels for large x, as the page says: at x = 10 the relative error
    against sech(x)**2 = 4 / (e**x + e**-x)**2 is between 1e-10 and 1e-7 (about 8 digits;
    torch's is too), and from x = 19.1 on the slope is exactly 0 (in torch too)."""
    def slopes(x):
        v = Value(x)
        v.tanh().backward()
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        t.tanh().backward()
        return v.grad, t.grad.item()

    exact = 4 / (math.exp(10.0) + math.exp(-10.0)) ** 2
    for slope in slopes(10.0):
        assert 1e-10 < abs(slope / exact - 1) < 1e-7
    assert slopes(19.1) == (0.0, 0.0)


def test_scalar_mlp_matches_torch():
    """A 3-4-1 MLP built from Values gives torch's loss and weight gradients."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(5, 3)), rng.normal(size=5)
    W1, b1, W2 = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(1, 4))
    w1 = [[Value(v) for v in row] for row in W1]
    bv = [Value(v) for v in b1]
    w2 = [Value(v) for v in W2[0]]
    loss = Value(0.0)
    for xi, yi in zip(X, y, strict=True):
        hidden = [(sum((w * xj for w, xj in zip(row, xi, strict=True)), Value(0.0)) + b).tanh()
                  for row, b in zip(w1, bv, strict=True)]
        pred = sum((w * h for w, h in zip(w2, hidden, strict=True)), Value(0.0))
        loss = loss + (pred - yi) ** 2
    loss = loss / len(y)
    loss.backward()
    tw1, tb1, tw2 = (torch.tensor(a, requires_grad=True) for a in (W1, b1, W2))
    tloss = (((torch.tensor(X) @ tw1.T + tb1).tanh() @ tw2.T).squeeze(1) - torch.tensor(y))
    tloss = tloss.square().mean()
    tloss.backward()
    assert loss.data == pytest.approx(tloss.item(), rel=1e-12)
    np.testing.assert_allclose([[v.grad for v in row] for row in w1], tw1.grad, rtol=1e-11)
    np.testing.assert_allclose([v.grad for v in bv], tb1.grad, rtol=1e-11)
    np.testing.assert_allclose([v.grad for v in w2], tw2.grad[0], rtol=1e-11)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("B", "D", "H", "K"), [(8, 3, 5, 2), (1, 1, 1, 1), (16, 7, 1, 3),
                                                (4, 2, 9, 1)])
def test_matrix_formulas_match_autograd(dtype, B, D, H, K):
    """Every gradient of the matrix-form backward pass equals torch's for mse_loss, including
    hidden units whose pre-activation is exactly 0 (derivative 0, as in torch)."""
    rng = np.random.default_rng(B * 100 + H)
    X, Y = rng.normal(size=(B, D)), rng.normal(size=(B, K))
    W1, b1 = rng.normal(size=(H, D)), rng.normal(size=H)
    W2, b2 = rng.normal(size=(K, H)), rng.normal(size=K)
    X[0] = 0.0
    b1[0] = 0.0  # Z1[0, 0] == 0 exactly
    arrays = [a.astype(dtype) for a in (X, Y, W1, b1, W2, b2)]
    Xd, Yd, W1d, b1d, W2d, b2d = arrays
    Y_hat, Z1, A1 = mlp_forward(Xd, W1d, b1d, W2d, b2d)
    assert Z1[0, 0] == 0
    ours = mlp_backward(Xd, Yd, W1d, W2d, Z1, A1, Y_hat)
    x, y, w1, bb1, w2, bb2 = (torch.tensor(a, requires_grad=True) for a in arrays)
    out = torch.relu(x @ w1.T + bb1) @ w2.T + bb2
    theirs = torch.autograd.grad(torch.nn.functional.mse_loss(out, y), [w1, bb1, w2, bb2, x])
    np.testing.assert_allclose(Y_hat, out.detach().numpy(), **TOLERANCE[np.dtype(dtype)])
    for name, o, t in zip(["dW1", "db1", "dW2", "db2", "dX"], ours, theirs, strict=True):
        assert o.dtype == dtype, name
        assert o.shape == tuple(t.shape), name
        np.testing.assert_allclose(o, t.numpy(), err_msg=name, **TOLERANCE[np.dtype(dtype)])
