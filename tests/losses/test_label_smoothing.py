"""Cross-entropy with label smoothing matches torch's cross_entropy(label_smoothing=...)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.losses.label_smoothing import (
    cross_entropy_label_smoothing,
    cross_entropy_label_smoothing_grad,
    smooth_targets,
)
from tests.helpers import DTYPES, assert_matches, dtype_id, random_input, tensor

F = torch.nn.functional
C = 5
SHAPES = [(C,), (6, C), (3, C, 4), (0, C)]
REDUCTIONS = ["none", "mean", "sum"]
EPSILONS = [0.0, 0.1, 1.0]


def _labels(shape, seed=0, ignore=None):
    target_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    y = np.random.default_rng(seed).integers(0, C, size=target_shape)
    if ignore is not None and y.size:
        y.flat[::3] = ignore
    return y


def _soft(shape, dtype, seed=0):
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


def test_smoothed_targets_are_distributions():
    """Smoothed one-hot vectors sum to 1 and put eps/C on every wrong class."""
    t = smooth_targets(np.array([0, 3]), 4, 0.2)
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
    plain = F.cross_entropy(tensor(x), tensor(smooth_targets(y, c, eps)), reduction=reduction)
    assert_matches(ours, plain)
