"""The neuron of snippets/fundamentals/perceptron.py against torch.nn.Linear + torch.sigmoid,
what its bias does to the decision boundary, and the perceptron rule's convergence bound."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from snippets.fundamentals.perceptron import (
    neuron,
    neuron_backward,
    separable_data,
    sigmoid,
    train_perceptron,
)
from tests.helpers import DTYPES, TOLERANCE, dtype_id

finite = st.floats(-1e3, 1e3, allow_nan=False)


def torch_neuron(x, w, b, g):
    """torch's value and gradients (w, b, x) of sigmoid(Linear(D, 1)(x)), weights copied."""
    layer = torch.nn.Linear(len(w), 1, dtype=torch.from_numpy(w).dtype)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w)[None, :])  # (1, D): torch stores (out, in)
        layer.bias.fill_(float(b))
    xt = torch.tensor(x, requires_grad=True)
    out = torch.sigmoid(layer(xt)).squeeze(-1)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), layer.weight.grad[0].numpy(), layer.bias.grad[0], xt.grad


def assert_like_torch(x, w, b, g, **tol):
    y, dw_t, db_t, dx_t = torch_neuron(x, w, b, g)
    dw, db, dx = neuron_backward(x, w, b, g)
    tol = tol or TOLERANCE[x.dtype]
    for name, ours, theirs in [("value", neuron(x, w, b), y), ("dw", dw, dw_t),
                               ("db", db, db_t.numpy()), ("dx", dx, dx_t.numpy())]:
        ours = np.asarray(ours)
        assert ours.dtype == x.dtype, name
        assert ours.shape == theirs.shape, name
        np.testing.assert_allclose(ours, theirs, err_msg=name, **tol)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("batch", [(), (0,), (1,), (7,), (3, 4)], ids=str)
@pytest.mark.parametrize("D", [1, 5])
def test_neuron_matches_linear_and_sigmoid(batch, D, dtype):
    """Value and gradients for w, b and x equal torch's, for a single example, an empty
    batch and batches of one and two dimensions, in both precisions."""
    rng = np.random.default_rng(D)
    x = rng.normal(size=(*batch, D)).astype(dtype)
    w, b = rng.normal(size=D).astype(dtype), dtype(rng.normal())
    g = rng.normal(size=batch).astype(dtype)
    assert_like_torch(x, w, b, g)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_huge_pre_activations(dtype):
    """Pre-activations of +-1e4 and +-30 give outputs in [0, 1] without NaN or overflow,
    and values and gradients equal torch's."""
    z = np.array([-1e4, -30.0, -1.0, 0.0, 1.0, 30.0, 1e4], dtype=dtype)
    x, w, b = z[:, None], np.ones(1, dtype=dtype), dtype(0)
    with np.errstate(over="raise"):
        y = neuron(x, w, b)
    assert np.all((y >= 0) & (y <= 1))
    assert_like_torch(x, w, b, np.ones_like(z))


def test_derivative_has_no_cancellation():
    """sigma'(z) is within 4 ulps of exp(-|z|)/(1+exp(-|z|))^2 even at z = 30, 35 and 37,
    where 1 - sigma(z), as torch computes it, loses 3 digits, loses all but about one, or
    is exactly 0."""
    z = np.array([-37.0, -30.0, -5.0, 0.0, 5.0, 30.0, 35.0, 37.0])
    _, db, _ = zip(*(neuron_backward(np.array([v]), np.ones(1), 0.0, 1.0) for v in z),
                   strict=True)
    e = np.exp(-np.abs(z))
    exact = e / (1 + e) ** 2  # no cancellation: a few roundings, each within half an ulp
    np.testing.assert_allclose(np.array(db), exact, rtol=4 * 2.3e-16, atol=0)
    # The page's stated difference: torch's sigmoid backward uses y (1 - y), whose relative
    # error is about 1e-3 at z = 30, 5.6 % at z = 35 and 100 % from z = 53 ln 2 = 36.7 on
    # (1 - y rounds to 0), while its absolute error stays below 1e-15 everywhere.
    zt = torch.tensor(z, requires_grad=True)
    torch.sigmoid(zt).sum().backward()
    rel = np.abs(zt.grad.numpy() / exact - 1)
    assert 5e-4 < rel[5] < 2e-3
    assert 0.05 < rel[6] < 0.06
    assert zt.grad[7] == 0
    assert db[7] > 0
    assert np.all(rel[:4] < 1e-15)  # for z <= 0, 1 - y has no cancellation
    assert np.abs(zt.grad.numpy() - exact).max() < 1e-15  # a few ulps of 1


def test_nan_input_gives_nan_like_torch():
    """A NaN input makes the output and the gradients NaN, as in torch."""
    x = np.array([[np.nan, 1.0]])
    w, b = np.array([0.5, 0.5]), 0.1
    y, dw_t, _, _ = torch_neuron(x, w, b, np.ones(1))
    assert np.isnan(neuron(x, w, b)[0])
    assert np.isnan(y[0])
    assert np.isnan(neuron_backward(x, w, b, np.ones(1))[0]).all()
    assert np.isnan(dw_t).all()


@given(st.lists(finite, min_size=1, max_size=6))
def test_without_bias_the_boundary_passes_through_the_origin(w):
    """Whatever the weights, w.0 + 0 = 0: the origin is on the boundary, and sigmoid gives 0.5."""
    w = np.array(w)
    assert neuron(np.zeros_like(w), w, 0.0) == 0.5


@given(st.lists(finite.filter(lambda v: abs(v) > 1e-3), min_size=2, max_size=2), finite)
def test_bias_sets_the_distance_of_the_boundary_from_the_origin(w, b):
    """The point -b w/|w|^2, at distance |b|/|w| from 0, lies on the boundary w.x + b = 0."""
    w = np.array(w)
    x = -b * w / (w @ w)
    assert np.linalg.norm(x) == pytest.approx(abs(b) / np.linalg.norm(w), rel=1e-12)
    assert abs(x @ w + b) <= 1e-12 * (abs(b) + 1)  # zero up to rounding


@given(st.floats(-1e6, 1e6))
def test_no_weight_alone_solves_a_threshold_away_from_zero(w):
    """On x = 1, 1.5 (label -1) and 2.5, 3 (label +1), sign(w x) is the same for every
    example, so without a bias the accuracy is exactly 1/2 for every w."""
    x, y = np.array([1.0, 1.5, 2.5, 3.0]), np.array([-1, -1, 1, 1])
    pred = np.where(w * x > 0, 1, -1)
    assert len(set(pred)) == 1
    assert np.mean(pred == y) == 0.5
    assert np.all(np.where(x - 2 > 0, 1, -1) == y)  # w = 1, b = -2 does it


@pytest.mark.parametrize("margin", [0.02, 0.1, 0.3])
@pytest.mark.parametrize("seed", range(10))
def test_novikoff_bound(seed, margin):
    """On separable data the rule stops with every example right, after at most (R/gamma)^2
    updates, R the largest |(x, 1)| and gamma the margin of the labelling line."""
    X, y, u = separable_data(300, seed, margin)
    assert len(X) > 20
    w, b, mistakes = train_perceptron(X, y, max_epochs=10_000)
    assert mistakes[-1] == 0
    assert np.all(np.sign(X @ w + b) == y)
    Xa = np.hstack([X, np.ones((len(X), 1))])
    R = np.linalg.norm(Xa, axis=1).max()
    gamma = (y * (Xa @ u)).min()
    assert gamma >= margin
    assert sum(mistakes) <= (R / gamma) ** 2


def test_xor_never_converges():
    """On XOR every one of 1000 epochs makes updates (4 each, from w = 0: the weights return
    to 0 after every epoch)."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([-1, 1, 1, -1])
    w, b, mistakes = train_perceptron(X, y, max_epochs=1000)
    assert len(mistakes) == 1000
    assert min(mistakes) >= 1
    assert mistakes == [4] * 1000
    assert np.all(w == 0)
    assert b == 0


@given(finite, finite, finite)
def test_no_line_separates_xor(w1, w2, b):
    """Every (w1, w2, b) puts at least one XOR point on the wrong side or on the boundary."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([-1, 1, 1, -1])
    assert np.any(y * (X @ [w1, w2] + b) <= 0)


@pytest.mark.parametrize("bad", [0, 2, 0.5])
def test_labels_must_be_plus_or_minus_one(bad):
    """Labels other than -1 and +1 are refused with a ValueError."""
    with pytest.raises(ValueError, match="-1 or \\+1"):
        train_perceptron(np.zeros((2, 1)), np.array([1, bad]))


def test_sigmoid_is_symmetric():
    """sigma(z) + sigma(-z) = 1 over a wide range, a check of the two-branch formula."""
    z = np.linspace(-50, 50, 1001)
    np.testing.assert_allclose(sigmoid(z) + sigmoid(-z), 1.0, rtol=0, atol=2.3e-16)


def test_learned_line_needs_its_bias():
    """On the data of the convergence demo and figure (seed 1), the learned weights with the
    bias dropped misclassify some points, as the figure's caption says."""
    X, y, _ = separable_data(200, seed=1)
    w, b, mistakes = train_perceptron(X, y)
    assert mistakes[-1] == 0
    assert b != 0
    assert np.any(np.sign(X @ w) != y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_inputs_are_refused(bad):
    """A NaN or infinite input is refused with a ValueError: y (w.x + b) <= 0 is False for
    NaN, so the rule would silently skip that example and report convergence."""
    X = np.array([[1.0, 0.0], [bad, 1.0]])
    with pytest.raises(ValueError, match="finite"):
        train_perceptron(X, np.array([1, -1]))
