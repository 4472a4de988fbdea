"""Categorical and sparse categorical cross-entropy match torch.nn.functional.cross_entropy."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.losses.cross_entropy import (
    categorical_cross_entropy,
    categorical_cross_entropy_grad,
    sparse_categorical_cross_entropy,
    sparse_categorical_cross_entropy_grad,
)
from tests.helpers import DTYPES, assert_matches, dtype_id, random_input, tensor

F = torch.nn.functional
C = 5
# logits shapes: one unbatched sample, a batch, a batch with an extra dim, an empty batch
SHAPES = [(C,), (6, C), (3, C, 4), (0, C)]
REDUCTIONS = ["none", "mean", "sum"]


def _labels(shape, seed=0, ignore=None):
    """Integer labels for logits of `shape` (class dim removed), some set to `ignore`."""
    target_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    y = np.random.default_rng(seed).integers(0, C, size=target_shape)
    if ignore is not None and y.size:
        y.flat[:: 2] = ignore  # every other sample is ignored
    return y


def _soft(shape, dtype, seed=0):
    """Probability targets with the shape of the logits (classes on dim 1, or 0 if 1-D)."""
    dim = 0 if len(shape) == 1 else 1
    t = np.random.default_rng(seed).dirichlet(np.ones(C), size=shape[:dim] + shape[dim + 1:])
    return np.moveaxis(t, -1, dim).astype(dtype)


def _torch_ce(x, target, **kwargs):
    xt = tensor(x, grad=True)
    loss = F.cross_entropy(xt, torch.tensor(target), **kwargs)
    loss.sum().backward()
    return loss, xt.grad


def _weight(dtype, weighted):
    return np.linspace(0.5, 2.0, C).astype(dtype) if weighted else None


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_sparse_matches_torch(shape, dtype, reduction, weighted):
    """Class-index targets: values and gradients agree with torch, weights included."""
    x, y, w = random_input(shape, dtype), _labels(shape), _weight(dtype, weighted)
    wt = None if w is None else tensor(w)
    loss, grad = _torch_ce(x, y, weight=wt, reduction=reduction)
    assert_matches(sparse_categorical_cross_entropy(x, y, weight=w, reduction=reduction), loss)
    assert_matches(sparse_categorical_cross_entropy_grad(x, y, weight=w, reduction=reduction),
                   grad)


@pytest.mark.parametrize("ignore_index", [-100, 2], ids=["ignore--100", "ignore-class-2"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", [(6, C), (3, C, 4)], ids=str)
def test_sparse_ignore_index_matches_torch(shape, dtype, reduction, weighted, ignore_index):
    """Ignored samples add 0 and leave the mean's denominator; gradients there are 0."""
    x, w = random_input(shape, dtype, seed=2), _weight(dtype, weighted)
    y = _labels(shape, seed=3, ignore=ignore_index)
    wt = None if w is None else tensor(w)
    loss, grad = _torch_ce(x, y, weight=wt, reduction=reduction, ignore_index=ignore_index)
    kw = {"weight": w, "reduction": reduction, "ignore_index": ignore_index}
    assert_matches(sparse_categorical_cross_entropy(x, y, **kw), loss)
    assert_matches(sparse_categorical_cross_entropy_grad(x, y, **kw), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_all_ignored_gives_nan_mean_and_zero_gradient(dtype):
    """Every label ignored: 'mean' is 0/0 = NaN and the gradient is exactly 0, as in torch."""
    x = random_input((3, C), dtype)
    y = np.full(3, -100)
    loss, grad = _torch_ce(x, y)
    assert np.isnan(loss.item())
    assert_matches(sparse_categorical_cross_entropy(x, y), loss)
    assert_matches(sparse_categorical_cross_entropy_grad(x, y), grad, rtol=0, atol=0)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_categorical_matches_torch(shape, dtype, reduction, weighted):
    """Probability targets (soft): values and gradients agree with torch, weights included."""
    x, t, w = random_input(shape, dtype, seed=4), _soft(shape, dtype), _weight(dtype, weighted)
    wt = None if w is None else tensor(w)
    loss, grad = _torch_ce(x, t, weight=wt, reduction=reduction)
    assert_matches(categorical_cross_entropy(x, t, weight=w, reduction=reduction), loss)
    assert_matches(categorical_cross_entropy_grad(x, t, weight=w, reduction=reduction), grad)


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_logits_of_huge_magnitude(dtype, reduction):
    """Logits of +-1e4 (exp overflows): finite losses, equal to torch for both target kinds."""
    x = np.array([[1e4, -1e4, 0, 0, 0], [-1e4, -1e4, -1e4, -1e4, 1e4],
                  [1e4, 1e4, -1e4, 0, 0]], dtype)
    y = np.array([1, 4, 0])
    t = np.eye(C, dtype=dtype)[[0, 1, 2]]  # one-hot, with a zero term at every 1e4 logit
    for target, ours, ours_grad in [
        (y, sparse_categorical_cross_entropy, sparse_categorical_cross_entropy_grad),
        (t, categorical_cross_entropy, categorical_cross_entropy_grad),
    ]:
        loss, grad = _torch_ce(x, target, reduction=reduction)
        value = ours(x, target, reduction=reduction)
        assert np.all(np.isfinite(value))
        assert_matches(value, loss)
        assert_matches(ours_grad(x, target, reduction=reduction), grad)


def test_weighted_mean_divides_by_the_labels_weights():
    """Index targets: torch's weighted 'mean' is sum(w_y * loss) / sum(w_y), not / N."""
    x = np.zeros((2, 3))  # uniform predictions: every -log p is log 3
    y = np.array([0, 1])
    w = np.array([1.0, 3.0, 5.0])
    ours = sparse_categorical_cross_entropy(x, y, weight=w)
    assert ours == pytest.approx(np.log(3))  # (1 + 3) log 3 / (1 + 3)
    assert_matches(ours, F.cross_entropy(tensor(x), torch.tensor(y), weight=tensor(w)))
    one_hot = np.eye(3)[y]
    dense = categorical_cross_entropy(x, one_hot, weight=w)
    assert dense == pytest.approx(4 * np.log(3) / 2)  # probability targets divide by N = 2
    assert_matches(dense, F.cross_entropy(tensor(x), tensor(one_hot), weight=tensor(w)))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6), st.integers(2, 6), st.integers(0, 2**32 - 1),
    st.sampled_from(REDUCTIONS), st.booleans(),
)
def test_sparse_equals_one_hot(n, c, seed, reduction, weighted):
    """Sparse CE on labels equals categorical CE on their one-hot vectors (weighted 'mean' aside).

    With class weights, 'mean' differs by design: sum(w_y) vs N in the denominator.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, c)) * 5
    y = rng.integers(0, c, size=n)
    w = rng.uniform(0.5, 2, size=c) if weighted else None
    sparse = sparse_categorical_cross_entropy(x, y, weight=w, reduction=reduction)
    dense = categorical_cross_entropy(x, np.eye(c)[y], weight=w, reduction=reduction)
    sparse_grad = sparse_categorical_cross_entropy_grad(x, y, weight=w, reduction=reduction)
    dense_grad = categorical_cross_entropy_grad(x, np.eye(c)[y], weight=w, reduction=reduction)
    if weighted and reduction == "mean":
        factor = w[y].sum() / n
        np.testing.assert_allclose(sparse * factor, dense, rtol=1e-12)
        np.testing.assert_allclose(sparse_grad * factor, dense_grad, rtol=1e-12, atol=1e-15)
    else:
        np.testing.assert_allclose(sparse, dense, rtol=1e-12)
        np.testing.assert_allclose(sparse_grad, dense_grad, rtol=1e-12, atol=1e-15)
