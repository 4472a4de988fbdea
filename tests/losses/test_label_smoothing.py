"""Cross-entropy with label smoothing matches torch's cross_entropy(label_smoothing=...)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.losses.label_smoothing import (
    cross_entropy_label_smoothing,
    cross_entropy_label_smoothing_grad,
    smooth_labels,
)
from tests.helpers import DTYPES, assert_matches, dtype_id, random_input, tensor

F = torch.nn.functional
C = 5
SHAPES = [(C,), (6, C), (3, C, 4), (0, C)]
REDUCTIONS = ["none", "mean", "sum"]
EPSILONS = [0.0, 0.1, 1.0]


def _labels(shape, seed=0, ignore=None):
    """Integer labels for logits of `shape` (class dim removed), every third one ignored."""
    target_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    y = np.random.default_rng(seed).integers(0, C, size=target_shape)
    if ignore is not None and y.size:
        y.flat[::3] = ignore
    return y


def _soft(shape, dtype, seed=0):
    """Probability targets with the shape of the logits (classes on dim 1, or 0 if 1-D)."""
    dim = 0 if len(shape) == 1 else 1
    t = np.random.default_rng(seed).dirichlet(np.ones(C), size=shape[:dim] + shape[dim + 1:])
    return np.moveaxis(t, -1, dim).astype(dtype)


def _check(x, target, **kw):
    """Compare value and gradient with torch for the same keyword arguments."""
    xt = tensor(x, grad=True)
    wt = None if kw.get("weight") is None else tensor(kw["weight"])
    loss = F.cross_entropy(xt, torch.tensor(target), **{**kw, "weight": wt})
    loss.sum().backward()
    assert_matches(cross_entropy_label_smoothing(x, target, **kw), loss)
    assert_matches(cross_entropy_label_smoothing_grad(x, target, **kw), xt.grad)


@pytest.mark.parametrize("eps", EPSILONS, ids=lambda e: f"eps-{e}")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_index_targets_match_torch(shape, dtype, reduction, weighted, eps):
    """Class-index targets with ignored samples: values and gradients agree with torch."""
    x = random_input(shape, dtype)
    y = _labels(shape, ignore=-100 if len(shape) > 1 else None)
    w = np.linspace(0.5, 2.0, C).astype(dtype) if weighted else None
    _check(x, y, weight=w, reduction=reduction, label_smoothing=eps)


@pytest.mark.parametrize("eps", EPSILONS, ids=lambda e: f"eps-{e}")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_probability_targets_match_torch(shape, dtype, reduction, weighted, eps):
    """Soft probability targets: values and gradients agree with torch."""
    x, t = random_input(shape, dtype, seed=1), _soft(shape, dtype, seed=2)
    w = np.linspace(2.0, 0.5, C).astype(dtype) if weighted else None
    _check(x, t, weight=w, reduction=reduction, label_smoothing=eps)


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_logits_of_huge_magnitude(dtype, reduction):
    """Logits of +-1e4: the smoothing term sees log p = -2e4 and stays finite, as in torch."""
    x = np.array([[1e4, -1e4, 0, 0, 0], [-1e4, -1e4, -1e4, -1e4, 1e4]], dtype)
    _check(x, np.array([0, 4]), reduction=reduction, label_smoothing=0.1)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_all_ignored(dtype):
    """Every label ignored: NaN mean and an exactly zero gradient, as in torch."""
    x = random_input((3, C), dtype)
    _check(x, np.full(3, 7), ignore_index=7, label_smoothing=0.2)
    assert np.isnan(cross_entropy_label_smoothing(x, np.full(3, 7), ignore_index=7,
                                                  label_smoothing=0.2))


@pytest.mark.parametrize("eps", [0.0, 0.1], ids=lambda e: f"eps-{e}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("with_ignored", [False, True], ids=["all-zero-weight", "one-ignored"])
def test_labels_of_zero_weight_give_nan_like_torch(with_ignored, dtype, eps):
    """Every kept label of weight 0: 'mean' is NaN (not inf), kept rows' gradients NaN and
    ignored rows' 0, as in torch; 'sum' and 'none' stay finite and match torch."""
    x = random_input((3, C), dtype)
    y = np.array([0, -100 if with_ignored else 0, 0])
    w = np.linspace(0.0, 2.0, C).astype(dtype)  # the label's class 0 has weight 0
    kw = {"weight": w, "label_smoothing": eps}
    xt = tensor(x, grad=True)
    ref = F.cross_entropy(xt, torch.tensor(y), weight=tensor(w), label_smoothing=eps)
    ref.backward()
    assert np.isnan(ref.item())
    assert np.isnan(cross_entropy_label_smoothing(x, y, **kw))
    ours = cross_entropy_label_smoothing_grad(x, y, **kw)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(xt.grad.numpy()))
    np.testing.assert_array_equal(np.isnan(ours).all(axis=1), [True, not with_ignored, True])
    np.testing.assert_array_equal(ours[1] == 0, with_ignored)
    for reduction in ("sum", "none"):
        _check(x, y, reduction=reduction, **kw)


def test_torch_decides_by_shape_and_so_do_we():
    """A target with the input's shape is read as probabilities, any other as labels; a dtype
    that does not fit that reading raises in torch and here."""
    x = np.zeros((2, 3))
    int_probs = np.array([[1, 0, 0], [0, 0, 1]])
    float_labels = np.array([0.0, 2.0])
    with pytest.raises(RuntimeError, match="Expected floating point type for target"):
        F.cross_entropy(tensor(x), torch.tensor(int_probs), label_smoothing=0.1)
    with pytest.raises(RuntimeError, match="expected target dtype to be Long"):
        F.cross_entropy(tensor(x), torch.tensor(float_labels), label_smoothing=0.1)
    for fn in (cross_entropy_label_smoothing, cross_entropy_label_smoothing_grad):
        with pytest.raises(ValueError, match="must be floating"):
            fn(x, int_probs, label_smoothing=0.1)
        with pytest.raises(ValueError, match="must be integers"):
            fn(x, float_labels, label_smoothing=0.1)
        with pytest.raises(ValueError, match="neither probabilities"):
            fn(x, np.zeros((2, 4)), label_smoothing=0.1)
        with pytest.raises(ValueError, match="out of bounds"):
            fn(x, np.array([0, 3]), label_smoothing=0.1)
    with pytest.raises(ValueError, match="must be integers"):
        smooth_labels(float_labels, 3, 0.1)


@pytest.mark.parametrize("eps", [1.5, -0.3, np.nan], ids=["1.5", "-0.3", "nan"])
def test_smoothing_outside_unit_interval_is_refused(eps):
    """eps outside [0, 1] raises a ValueError here. torch also refuses 1.5, but treats any
    negative eps as 0 (the difference the page states)."""
    x, y = random_input((4, C), np.float64), np.array([0, 1, 2, 3])
    for fn in (cross_entropy_label_smoothing, cross_entropy_label_smoothing_grad):
        with pytest.raises(ValueError, match="label_smoothing must be in"):
            fn(x, y, label_smoothing=eps)
    if eps > 1:
        with pytest.raises(RuntimeError, match="label_smoothing must be between"):
            F.cross_entropy(tensor(x), torch.tensor(y), label_smoothing=eps)
    elif eps < 0:
        as_zero = F.cross_entropy(tensor(x), torch.tensor(y), label_smoothing=0.0)
        assert F.cross_entropy(tensor(x), torch.tensor(y), label_smoothing=eps) == as_zero


def test_inputs_without_classes_are_refused():
    """A 0-d input, or a class dimension of size 0, has no class to score: ValueError."""
    for x in (np.array(5.0), np.zeros((2, 0))):
        with pytest.raises(ValueError, match="class dimension"):
            cross_entropy_label_smoothing(x, np.zeros(x.shape[:1], int), label_smoothing=0.1)


@pytest.mark.parametrize("eps", [0.0, 0.1], ids=lambda e: f"eps-{e}")
def test_nan_logits_propagate_like_torch(eps):
    """A NaN logit makes its own sample's loss and gradient NaN, and no other's."""
    x = np.array([[np.nan, 0.0, 1.0, 0, 0], [0.5, -0.5, 2.0, 0, 0]])
    _check(x, np.array([1, 2]), reduction="none", label_smoothing=eps)
    _check(x, _soft((2, C), np.float64), reduction="none", label_smoothing=eps)
    grad = cross_entropy_label_smoothing_grad(x, np.array([1, 2]), reduction="none",
                                              label_smoothing=eps)
    assert np.isnan(grad[0]).all()
    assert np.isfinite(grad[1]).all()


def _stable_reference(x, y, eps):
    """Smoothed CE as (1 - eps) softplus(r) + eps/C sum_c (-log p_c), r = logsumexp over
    k != y of x_k - x_y: log p_y never rounds to 0 as p_y -> 1."""
    xt = tensor(x, grad=True)
    yt = torch.tensor(y)
    d = xt - xt.gather(1, yt[:, None])
    mask = F.one_hot(yt, x.shape[1]).bool()
    r = torch.logsumexp(d.masked_fill(mask, -torch.inf), dim=1)
    nll = -F.logsigmoid(-r)
    smooth = -torch.log_softmax(xt, dim=1).sum(dim=1) / x.shape[1]
    loss = (1 - eps) * nll + eps * smooth
    loss.sum().backward()
    return loss, xt.grad


def test_confident_right_predictions_have_no_cancellation():
    """eps = 0, logits (z, 0, 0.5), z in [-50, 50], label 0: loss and gradient within 1e-12
    relative of a stable reference, also where torch's own p - 1 rounds to 0."""
    z = np.linspace(-50, 50, 1001)
    x = np.stack([z, 0 * z, 0.5 + 0 * z], axis=1)
    y = np.zeros(z.size, dtype=int)
    loss, grad = _stable_reference(x, y, 0.0)
    kw = {"reduction": "none", "label_smoothing": 0.0}
    for target in (y, np.eye(3)[y]):
        assert_matches(cross_entropy_label_smoothing(x, target, **kw), loss, rtol=1e-12,
                       atol=0)
        assert_matches(cross_entropy_label_smoothing_grad(x, target, **kw), grad,
                       rtol=1e-12, atol=0)


def test_float32_kept_with_float64_weights():
    """float32 logits with float64 weights and targets: every result is float32."""
    x = random_input((4, C), np.float32)
    y, w = np.array([0, 1, 2, 3]), np.linspace(0.5, 2, C)
    for target in (y, np.eye(C)[y]):
        kw = {"weight": w, "label_smoothing": 0.1}
        assert cross_entropy_label_smoothing(x, target, **kw).dtype == np.float32
        assert cross_entropy_label_smoothing_grad(x, target, **kw).dtype == np.float32


def test_smoothed_labels_are_distributions():
    """Smoothed one-hot vectors sum to 1 and put eps/C on every wrong class."""
    t = smooth_labels(np.array([0, 3]), 4, 0.2)
    np.testing.assert_allclose(t.sum(axis=-1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(t[0], [0.85, 0.05, 0.05, 0.05], rtol=1e-15)


def test_minimum_is_at_a_finite_logit_gap():
    """With eps > 0 the loss of logits (z, 0, 0, 0) is least where softmax = smoothed target."""
    eps, c = 0.1, 4
    t = 1 - eps + eps / c
    best = np.log(t * (c - 1) / (1 - t))
    z = best + np.array([-0.01, 0.0, 0.01])
    x = np.stack([z, 0 * z, 0 * z, 0 * z], axis=1)
    loss = cross_entropy_label_smoothing(x, np.zeros(3, int), reduction="none",
                                         label_smoothing=eps)
    assert loss[1] < loss[0]
    assert loss[1] < loss[2]
    grad = cross_entropy_label_smoothing_grad(x[1:2], np.zeros(1, int), label_smoothing=eps)
    np.testing.assert_allclose(grad, 0, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6), st.integers(2, 6), st.floats(0, 1), st.integers(0, 2**32 - 1),
    st.sampled_from(REDUCTIONS),
)
def test_equals_cross_entropy_on_smoothed_targets(n, c, eps, seed, reduction):
    """label_smoothing=eps equals plain cross-entropy (torch) against the smoothed targets."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, c)) * 4
    y = rng.integers(0, c, size=n)
    ours = cross_entropy_label_smoothing(x, y, reduction=reduction, label_smoothing=eps)
    plain = F.cross_entropy(tensor(x), tensor(smooth_labels(y, c, eps)), reduction=reduction)
    assert_matches(ours, plain)


def test_integer_logits_are_refused_like_torch():
    """Integer logits raise in torch and here (a ValueError): cast to the logits' integer
    dtype, a soft or smoothed target would otherwise silently become 0."""
    x, t = np.array([[1, 2, 0]]), np.array([[0.5, 0.5, 0.0]])
    with pytest.raises(RuntimeError):
        F.cross_entropy(torch.tensor(x), torch.tensor(t), label_smoothing=0.1)
    for fn in (cross_entropy_label_smoothing, cross_entropy_label_smoothing_grad):
        for target in (t, np.array([0])):
            with pytest.raises(ValueError, match="logits must be floating point"):
                fn(x, target, label_smoothing=0.1)


@pytest.mark.parametrize("ignore_index", [0, 2, -1, -100], ids=str)
def test_ignore_index_with_probability_targets_like_torch(ignore_index):
    """With probability targets torch refuses an ignore_index >= 0 and disregards a negative
    one; so does this implementation (a ValueError)."""
    x, t = random_input((4, C), np.float64), _soft((4, C), np.float64)
    kw = {"ignore_index": ignore_index, "label_smoothing": 0.1}
    if ignore_index >= 0:
        with pytest.raises(RuntimeError, match="ignore_index is not supported"):
            F.cross_entropy(tensor(x), tensor(t), **kw)
        for fn in (cross_entropy_label_smoothing, cross_entropy_label_smoothing_grad):
            with pytest.raises(ValueError, match="ignore_index"):
                fn(x, t, **kw)
    else:
        _check(x, t, **kw)


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("eps", [0.0, 0.1], ids=lambda e: f"eps-{e}")
def test_masked_logits_match_torch(eps, reduction):
    """Logits of -inf (masked classes), one sample ignored: with eps = 0 the loss is finite
    as in torch (no 0 * -inf); with eps > 0 the masked class's target eps/C makes it +inf,
    in torch and here. Gradients agree in both cases."""
    x = np.array([[1.0, -np.inf, 0.5, 0, 0], [0.3, -np.inf, 0, 2, 0], [0.2, 1, -np.inf, 0, 0]])
    y = np.array([0, -100, 4])
    xt = tensor(x, grad=True)
    ref = F.cross_entropy(xt, torch.tensor(y), reduction=reduction, label_smoothing=eps)
    ref.sum().backward()
    kw = {"reduction": reduction, "label_smoothing": eps}
    ours = cross_entropy_label_smoothing(x, y, **kw)
    assert_matches(ours, ref)
    assert np.all(np.isfinite(ours)) == (eps == 0)
    assert_matches(cross_entropy_label_smoothing_grad(x, y, **kw), xt.grad)


def test_label_dtypes_differ_from_torch_as_stated():
    """torch refuses int32 labels, and uint8 labels with weights, smoothing and 'mean' (its
    gather needs int64); here any integer dtype gives torch's int64 result."""
    x, y = random_input((4, C), np.float64), np.array([0, 3, 1, 4])
    w = np.linspace(0.5, 2, C)
    kw = {"label_smoothing": 0.1}
    with pytest.raises(RuntimeError, match="Long or Byte"):
        F.cross_entropy(tensor(x), torch.tensor(y.astype(np.int32)), **kw)
    with pytest.raises(RuntimeError, match="gather"):
        F.cross_entropy(tensor(x), torch.tensor(y.astype(np.uint8)), weight=tensor(w), **kw)
    for dtype in (np.int32, np.uint8, np.int16):
        _check(x, y, weight=w, **kw)  # int64, torch's reference
        ours = cross_entropy_label_smoothing(x, y.astype(dtype), weight=w, **kw)
        assert ours == cross_entropy_label_smoothing(x, y, weight=w, **kw)


def test_mixed_dtypes_differ_from_torch_as_stated():
    """float32 logits with float64 weights: torch refuses them for index targets and promotes
    to float64 for probability targets; here both give float32 and torch's float32 values."""
    x = random_input((4, C), np.float32)
    y, w = np.array([0, 3, 1, 4]), np.linspace(0.5, 2, C)
    t = _soft((4, C), np.float64)
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        F.cross_entropy(tensor(x), torch.tensor(y), weight=tensor(w), label_smoothing=0.1)
    assert F.cross_entropy(tensor(x), tensor(t), weight=tensor(w),
                           label_smoothing=0.1).dtype == torch.float64
    w32 = w.astype(np.float32)
    for target, target32 in [(y, y), (t, t.astype(np.float32))]:
        ref = F.cross_entropy(tensor(x), torch.tensor(target32), weight=tensor(w32),
                              label_smoothing=0.1)
        assert_matches(cross_entropy_label_smoothing(x, target, weight=w, label_smoothing=0.1),
                       ref)


def test_smoothing_over_allowed_classes_with_a_finite_mask():
    """The page's advice: a finite mask of -1e9 with label_smoothing costs about 1e9 eps / C;
    smoothed targets that are 0 on the masked class, as probabilities, give a finite loss
    (torch and here agree on both)."""
    x = np.array([[2.0, -1e9, 0.5, 0.0]])
    kw = {"label_smoothing": 0.1}
    ours = cross_entropy_label_smoothing(x, np.array([0]), **kw)
    assert 0.9 * 1e9 * 0.1 / 4 < ours < 1.1 * 1e9 * 0.1 / 4
    _check(x, np.array([0]), **kw)
    t = np.array([[0.9, 0.0, 0.05, 0.05]])  # a soft target, 0 on the masked class
    _check(x, t)
    assert np.isfinite(cross_entropy_label_smoothing(x, t))
