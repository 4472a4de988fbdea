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
    """torch's cross_entropy and d(sum of it)/d logits."""
    xt = tensor(x, grad=True)
    loss = F.cross_entropy(xt, torch.tensor(target), **kwargs)
    loss.sum().backward()
    return loss, xt.grad


def _weight(dtype, weighted):
    """Class weights from 0.5 to 2, or None."""
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


def test_torch_decides_by_shape_and_so_do_we():
    """Targets with the input's shape are probabilities, others indices; wrong dtypes raise."""
    x = np.zeros((2, 3))
    int_probs = np.array([[1, 0, 0], [0, 0, 1]])
    float_labels = np.array([0.0, 2.0])
    with pytest.raises(RuntimeError, match="Expected floating point type for target"):
        F.cross_entropy(tensor(x), torch.tensor(int_probs))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long"):
        F.cross_entropy(tensor(x), torch.tensor(float_labels))
    with pytest.raises(ValueError, match="must be floating point"):
        categorical_cross_entropy(x, int_probs)
    with pytest.raises(ValueError, match="must be integers"):
        sparse_categorical_cross_entropy(x, float_labels)
    with pytest.raises(ValueError, match="need the input's shape"):
        categorical_cross_entropy(x, np.ones((2, 4)) / 4)
    with pytest.raises(ValueError, match="need shape"):
        sparse_categorical_cross_entropy(x, np.array([[0, 1, 2]]))


@pytest.mark.parametrize("label", [3, -1], ids=["label-C", "label--1"])
def test_out_of_range_labels_raise_like_torch(label):
    """A label outside [0, C) that is not ignore_index raises (numpy would wrap -1 silently)."""
    x, y = np.zeros((2, 3)), np.array([0, label])
    with pytest.raises(IndexError, match="out of bounds"):  # torch: an IndexError
        F.cross_entropy(tensor(x), torch.tensor(y))
    for fn in (sparse_categorical_cross_entropy, sparse_categorical_cross_entropy_grad):
        with pytest.raises(ValueError, match="out of bounds"):
            fn(x, y)


def test_int32_labels_accepted_unlike_torch():
    """The documented difference: torch takes int64 (or uint8) labels only, ours any integer."""
    x, y = random_input((4, C), np.float64), np.array([0, 3, 1, 4])
    with pytest.raises(RuntimeError, match="Long or Byte"):
        F.cross_entropy(tensor(x), torch.tensor(y.astype(np.int32)))
    loss, grad = _torch_ce(x, y)
    assert_matches(sparse_categorical_cross_entropy(x, y.astype(np.int32)), loss)
    assert_matches(sparse_categorical_cross_entropy_grad(x, y.astype(np.int32)), grad)


def test_inputs_without_classes_are_refused():
    """A 0-d input, or a class dimension of size 0, has no class to score: ValueError."""
    for x in (np.array(5.0), np.zeros((2, 0))):
        with pytest.raises(ValueError, match="class dimension"):
            sparse_categorical_cross_entropy(x, np.zeros(x.shape[:1], int))
        with pytest.raises(ValueError, match="class dimension"):
            categorical_cross_entropy(x, x)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("with_ignored", [False, True], ids=["all-zero-weight", "one-ignored"])
def test_labels_of_zero_weight_give_nan_mean_like_torch(dtype, with_ignored):
    """Every kept label of weight 0: 'mean' is 0/0 = NaN; kept rows' gradients NaN, ignored 0."""
    x = random_input((3, C), dtype)
    y = np.array([0, -100 if with_ignored else 0, 0])
    w = np.linspace(0.0, 2.0, C).astype(dtype)  # class 0 has weight 0
    loss, grad = _torch_ce(x, y, weight=tensor(w))
    assert np.isnan(loss.item())
    assert np.isnan(sparse_categorical_cross_entropy(x, y, weight=w))
    ours = sparse_categorical_cross_entropy_grad(x, y, weight=w)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(grad.numpy()))
    np.testing.assert_array_equal(ours[1] == 0, with_ignored)


def test_nan_logits_propagate_like_torch():
    """A NaN logit makes its sample's loss and gradient NaN and leaves the others alone."""
    x = np.array([[np.nan, 0.0, 1.0], [0.5, -0.5, 2.0]])
    y = np.array([1, 2])
    t = np.eye(3)[y]
    for target, ours, ours_grad in [
        (y, sparse_categorical_cross_entropy, sparse_categorical_cross_entropy_grad),
        (t, categorical_cross_entropy, categorical_cross_entropy_grad),
    ]:
        loss, grad = _torch_ce(x, target, reduction="none")
        assert np.isnan(loss[0].item())
        assert_matches(ours(x, target, reduction="none"), loss)
        assert_matches(ours_grad(x, target, reduction="none"), grad)


def _stable_reference(x, y):
    """-log p_y = softplus(r), r = logsumexp_{k != y}(x_k - x_y): no rounding to 0 as p_y -> 1."""
    xt = tensor(x, grad=True)
    yt = torch.tensor(y)
    d = xt - xt.gather(1, yt[:, None])
    mask = torch.nn.functional.one_hot(yt, x.shape[1]).bool()
    r = torch.logsumexp(d.masked_fill(mask, -torch.inf), dim=1)
    loss = -F.logsigmoid(-r)
    loss.sum().backward()
    return loss, xt.grad


def test_confident_right_predictions_have_no_cancellation():
    """Logits (z, 0, 0), z in [-50, 50], label 0: loss and gradient within 1e-12 relative of a
    stable reference, including where p_0 rounds to 1 and torch's gradient p_0 - 1 is 0."""
    z = np.linspace(-50, 50, 1001)
    x = np.stack([z, 0 * z, 0.5 + 0 * z], axis=1)
    y = np.zeros(z.size, dtype=int)
    loss, grad = _stable_reference(x, y)
    tight = {"rtol": 1e-12, "atol": 0}
    for target, ours, ours_grad in [
        (y, sparse_categorical_cross_entropy, sparse_categorical_cross_entropy_grad),
        (np.eye(3)[y], categorical_cross_entropy, categorical_cross_entropy_grad),
    ]:
        assert_matches(ours(x, target, reduction="none"), loss, **tight)
        assert_matches(ours_grad(x, target, reduction="none"), grad, **tight)
    _, torch_grad = _torch_ce(x[-1:], y[-1:], reduction="sum")
    assert torch_grad[0, 0] == 0  # the stated difference: torch rounds p - 1 to 0 at z = 50


def test_float32_kept_with_float64_weights():
    """float32 logits with float64 weights and targets: every result is float32."""
    x = random_input((4, C), np.float32)
    y, w = np.array([0, 1, 2, 3]), np.linspace(0.5, 2, C)
    t = np.eye(C)[y]
    assert sparse_categorical_cross_entropy(x, y, weight=w).dtype == np.float32
    assert sparse_categorical_cross_entropy_grad(x, y, weight=w).dtype == np.float32
    assert categorical_cross_entropy(x, t, weight=w).dtype == np.float32
    assert categorical_cross_entropy_grad(x, t, weight=w).dtype == np.float32


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


def test_integer_logits_are_refused_like_torch():
    """Integer logits raise in torch and here (a ValueError): cast to the logits' integer
    dtype, soft targets such as 0.5 would otherwise silently become 0."""
    x = np.array([[1, 2, 0], [0, 1, 1]])
    y, t = np.array([0, 2]), np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    for target in (y, t):
        with pytest.raises(RuntimeError):
            F.cross_entropy(torch.tensor(x), torch.tensor(target))
    for fn, target in [(sparse_categorical_cross_entropy, y),
                       (sparse_categorical_cross_entropy_grad, y),
                       (categorical_cross_entropy, t), (categorical_cross_entropy_grad, t)]:
        with pytest.raises(ValueError, match="logits must be floating point"):
            fn(x, target)


def test_mixed_dtypes_differ_from_torch_as_stated():
    """float32 logits with float64 weights: torch refuses them for index targets and promotes
    to float64 for probability targets; here both give float32 and torch's float32 values."""
    x = random_input((4, C), np.float32)
    y, w = np.array([0, 3, 1, 4]), np.linspace(0.5, 2, C)
    t = np.eye(C)[y]  # float64 probabilities
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        F.cross_entropy(tensor(x), torch.tensor(y), weight=tensor(w))
    promoted = F.cross_entropy(tensor(x), tensor(t), weight=tensor(w))
    assert promoted.dtype == torch.float64
    w32 = tensor(w.astype(np.float32))
    assert_matches(sparse_categorical_cross_entropy(x, y, weight=w),
                   F.cross_entropy(tensor(x), torch.tensor(y), weight=w32))
    assert_matches(categorical_cross_entropy(x, t, weight=w),
                   F.cross_entropy(tensor(x), tensor(t.astype(np.float32)), weight=w32))
