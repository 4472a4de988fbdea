"""Binary cross-entropy on probabilities and on logits match torch, values and gradients."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.losses.bce import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
)
from tests.helpers import DTYPES, HARD_VALUES, assert_matches, dtype_id, random_input, tensor

F = torch.nn.functional
SHAPES = [(), (0,), (7,), (4, 5), (2, 3, 4)]
REDUCTIONS = ["none", "mean", "sum"]


def _data(shape, dtype, seed=0):
    """Logits, the probabilities they give, soft targets and a per-last-dim weight."""
    rng = np.random.default_rng(seed)
    x = random_input(shape, dtype, seed)
    p = (1 / (1 + np.exp(-x.astype(np.float64)))).astype(dtype)
    y = rng.uniform(size=shape).astype(dtype)
    w = rng.uniform(0.5, 2.0, size=shape[-1:] or ()).astype(dtype)
    return x, p, y, w


def _torch_bce(p, y, reduction, weight=None):
    pt = tensor(p, grad=True)
    wt = None if weight is None else tensor(np.broadcast_to(weight, p.shape).copy())
    loss = F.binary_cross_entropy(pt, tensor(y), weight=wt, reduction=reduction)
    loss.sum().backward()
    return loss, pt.grad


def _torch_bce_logits(x, y, reduction, weight=None, pos_weight=None):
    xt = tensor(x, grad=True)
    wt = None if weight is None else tensor(weight)
    qt = None if pos_weight is None else tensor(pos_weight)
    loss = F.binary_cross_entropy_with_logits(xt, tensor(y), weight=wt, reduction=reduction,
                                              pos_weight=qt)
    loss.sum().backward()
    return loss, xt.grad


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_probabilities_match_torch(shape, dtype, reduction, weighted):
    """binary_cross_entropy and its gradient agree with torch (NaN mean for an empty batch)."""
    _, p, y, w = _data(shape, dtype)
    w = w if weighted else None
    loss, grad = _torch_bce(p, y, reduction, w)
    assert_matches(binary_cross_entropy(p, y, weight=w, reduction=reduction), loss)
    assert_matches(binary_cross_entropy_grad(p, y, weight=w, reduction=reduction), grad)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("pos_weighted", [False, True], ids=["no-pos-weight", "pos-weight"])
@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_logits_match_torch(shape, dtype, reduction, pos_weighted, weighted):
    """binary_cross_entropy_with_logits (weight, pos_weight) and its gradient agree with torch."""
    x, _, y, w = _data(shape, dtype, seed=1)
    q = (np.flip(w) * 1.5).astype(dtype) if pos_weighted else None
    w = w if weighted else None
    loss, grad = _torch_bce_logits(x, y, reduction, w, q)
    ours = binary_cross_entropy_with_logits(x, y, weight=w, reduction=reduction, pos_weight=q)
    ours_grad = binary_cross_entropy_with_logits_grad(x, y, weight=w, reduction=reduction,
                                                      pos_weight=q)
    assert_matches(ours, loss)
    assert_matches(ours_grad, grad)


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_probabilities_exactly_zero_and_one(dtype, reduction):
    """p in {0, 1}: the log is clamped at -100 and the gradient is +-1e12, exactly as torch."""
    p = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0], dtype)
    y = np.array([0.0, 1.0, 0.5, 0.0, 1.0, 0.5], dtype)
    loss, grad = _torch_bce(p, y, reduction)
    assert_matches(binary_cross_entropy(p, y, reduction=reduction), loss)
    assert_matches(binary_cross_entropy_grad(p, y, reduction=reduction), grad)
    per_element = binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_array_equal(per_element, [0, 100, 50, 100, 0, 50])


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_logits_of_huge_magnitude(dtype, reduction):
    """Logits up to +-1e4 with targets 0, 1 and 0.3: finite, and equal to torch."""
    x = np.tile(HARD_VALUES.astype(dtype), 3)
    y = np.repeat(np.array([0.0, 1.0, 0.3], dtype), HARD_VALUES.size)
    loss, grad = _torch_bce_logits(x, y, reduction)
    ours = binary_cross_entropy_with_logits(x, y, reduction=reduction)
    assert np.all(np.isfinite(ours))
    assert_matches(ours, loss)
    assert_matches(binary_cross_entropy_with_logits_grad(x, y, reduction=reduction), grad)


def test_out_of_range_probability_is_rejected():
    """A 'probability' of 1.5 raises, as torch refuses it too."""
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(tensor(np.array([1.5])), tensor(np.array([1.0])))
    with pytest.raises(ValueError, match="between 0 and 1"):
        binary_cross_entropy(np.array([1.5]), np.array([1.0]))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-15, 15), min_size=1, max_size=20), st.floats(0, 1))
def test_logits_form_equals_probability_form(logits, y):
    """BCE(sigmoid(x), y) equals BCE-with-logits(x, y) wherever sigmoid(x) is not rounded."""
    x = np.array(logits)
    p = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(
        binary_cross_entropy(p, np.full_like(p, y), reduction="none"),
        binary_cross_entropy_with_logits(x, np.full_like(x, y), reduction="none"),
        # 1 - sigmoid(15) = 3e-7 loses ~7 of float64's 16 digits to cancellation in the
        # probability form (the reason the logits form exists), hence 1e-8, not 1e-12
        rtol=1e-8, atol=1e-12,
    )
