"""Focal loss: the torchvision formula (binary), the softmax formula, and cross-entropy at γ=0."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch.nn import functional

from snippets.losses.focal import (
    focal_loss,
    focal_loss_grad,
    sigmoid_focal_loss,
    sigmoid_focal_loss_grad,
)
from tests.helpers import DTYPES, HARD_VALUES, SHAPES, assert_matches, random_input, tensor
from tests.losses import _ranking_refs as refs

REDUCTIONS = [pytest.param(r, id=f"reduction-{r}") for r in ("mean", "sum", "none")]
GAMMAS = [pytest.param(g, id=f"gamma-{g}") for g in (0.0, 0.5, 1.0, 2.0, 5.0)]
DTYPE_IDS = {"ids": lambda d: np.dtype(d).name}


def _check_binary(x, t, alpha, gamma, reduction, **tol):
    xt = tensor(x, grad=True)
    ref = refs.sigmoid_focal(xt, tensor(t), alpha, gamma, reduction)
    ref.sum().backward()
    assert_matches(sigmoid_focal_loss(x, t, alpha, gamma, reduction), ref, **tol)
    assert_matches(sigmoid_focal_loss_grad(x, t, alpha, gamma, reduction), xt.grad, **tol)


def _check_multi(x, y, alpha, gamma, reduction, **tol):
    xt = tensor(x, grad=True)
    at = None if alpha is None else tensor(alpha)
    ref = refs.softmax_focal(xt, torch.tensor(y), at, gamma, reduction)
    ref.sum().backward()
    assert_matches(focal_loss(x, y, alpha, gamma, reduction), ref, **tol)
    assert_matches(focal_loss_grad(x, y, alpha, gamma, reduction), xt.grad, **tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("alpha", [0.25, None], ids=["alpha-0.25", "no-alpha"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
def test_binary_matches_torchvision_formula(dtype, shape, alpha, gamma, reduction):
    """Values and gradients equal autograd of torchvision's sigmoid_focal_loss formula."""
    x = random_input(shape, dtype)
    t = (np.random.default_rng(1).random(shape) < 0.3).astype(dtype)
    _check_binary(x, t, alpha, gamma, reduction)


@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
def test_binary_soft_targets(dtype):
    """Targets strictly between 0 and 1 (label smoothing) also match the formula."""
    x = random_input((6, 5), dtype)
    t = np.random.default_rng(1).random((6, 5)).astype(dtype)
    _check_binary(x, t, 0.25, 2.0, "sum")


@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
def test_binary_hard_logits(dtype):
    """Logits of +-1e4 with targets 0 and 1: finite and equal to the formula (gamma = 2)."""
    x = np.concatenate([HARD_VALUES, HARD_VALUES]).astype(dtype)
    t = np.repeat([0.0, 1.0], HARD_VALUES.size).astype(dtype)
    _check_binary(x, t, 0.25, 2.0, "none")
    assert np.isfinite(sigmoid_focal_loss_grad(x, t, 0.25, 0.5)).all()


def test_binary_gamma_below_one_at_saturation():
    """For gamma < 1, (1 - p_t)^gamma has an infinite slope at p_t = 1: autograd of the formula
    gives NaN there, our gradient gives the limit (0 when right, -alpha_t when wrong)."""
    x = np.array([1e4, -1e4, 1e4, -1e4])
    t = np.array([1.0, 1.0, 0.0, 0.0])
    xt = tensor(x, grad=True)
    refs.sigmoid_focal(xt, tensor(t), 0.25, 0.5, "sum").backward()
    assert torch.isnan(xt.grad[[0, 3]]).all()
    np.testing.assert_array_equal(sigmoid_focal_loss_grad(x, t, 0.25, 0.5, "sum"),
                                  [0.0, -0.25, 0.75, 0.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("weighted", [False, True], ids=["no-alpha", "alpha"])
@pytest.mark.parametrize("shape", [(8, 5), (1, 3), (2, 4, 3, 3), (6,), (0, 4)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
def test_multiclass_matches_formula(dtype, shape, weighted, gamma, reduction):
    """Values and gradients equal autograd of -alpha_y (1 - p_y)^gamma log p_y (softmax)."""
    x = random_input(shape, dtype)
    C = shape[0] if len(shape) == 1 else shape[1]
    target_shape = () if len(shape) == 1 else (shape[0], *shape[2:])
    y = np.random.default_rng(1).integers(0, C, size=target_shape)
    alpha = np.linspace(0.5, 1.5, C).astype(dtype) if weighted else None
    _check_multi(x, y, alpha, gamma, reduction)


@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
def test_multiclass_hard_logits(dtype):
    """Logits of +-1e4 (p_y exactly 0 or 1): finite, equal to the formula and to CE at gamma 0."""
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [0.0, 0.0, 0.0]], dtype=dtype)
    y = np.array([0, 0, 2])
    _check_multi(x, y, None, 2.0, "none")
    xt = tensor(x, grad=True)
    ce = functional.cross_entropy(xt, torch.tensor(y), reduction="sum")
    ce.backward()
    assert_matches(focal_loss(x, y, gamma=0.0, reduction="sum"), ce)
    assert_matches(focal_loss_grad(x, y, gamma=0.0, reduction="sum"), xt.grad)
    assert np.isfinite(focal_loss_grad(x, y, gamma=0.5)).all()


LOGITS = arrays(np.float64, (4, 3), elements=st.floats(-1e4, 1e4))


@settings(max_examples=80, deadline=None)
@given(x=LOGITS, t=arrays(np.float64, (4, 3), elements=st.sampled_from([0.0, 1.0])))
def test_binary_gamma_zero_is_bce(x, t):
    """focal(gamma=0, alpha=None) equals binary_cross_entropy_with_logits, value and gradient."""
    xt = tensor(x, grad=True)
    ref = functional.binary_cross_entropy_with_logits(xt, tensor(t))
    ref.backward()
    assert_matches(sigmoid_focal_loss(x, t, None, 0.0), ref)
    assert_matches(sigmoid_focal_loss_grad(x, t, None, 0.0), xt.grad)


@settings(max_examples=80, deadline=None)
@given(x=LOGITS, y=arrays(np.int64, (4,), elements=st.integers(0, 2)))
def test_multiclass_gamma_zero_is_cross_entropy(x, y):
    """focal(gamma=0, alpha=None) equals cross_entropy with class indices, value and gradient."""
    xt = tensor(x, grad=True)
    ref = functional.cross_entropy(xt, torch.tensor(y))
    ref.backward()
    assert_matches(focal_loss(x, y, None, 0.0), ref)
    assert_matches(focal_loss_grad(x, y, None, 0.0), xt.grad)


@settings(max_examples=60, deadline=None)
@given(x=LOGITS, gamma=st.floats(0.1, 5))
def test_focal_never_exceeds_cross_entropy(x, gamma):
    """(1 - p_y)^gamma <= 1, so every focal term is at most the cross-entropy term."""
    y = np.zeros(4, dtype=np.int64)
    focal = focal_loss(x, y, gamma=gamma, reduction="none")
    ce = focal_loss(x, y, gamma=0.0, reduction="none")
    assert np.all(focal <= ce)
