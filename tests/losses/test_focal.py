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
    """Value and gradient against autograd of torchvision's formula, written out in torch."""
    xt = tensor(x, grad=True)
    ref = refs.sigmoid_focal(xt, tensor(t), alpha, gamma, reduction)
    ref.sum().backward()
    assert_matches(sigmoid_focal_loss(x, t, alpha, gamma, reduction), ref, **tol)
    assert_matches(sigmoid_focal_loss_grad(x, t, alpha, gamma, reduction), xt.grad, **tol)


def _check_multi(x, y, alpha, gamma, reduction, **tol):
    """Value and gradient against autograd of -alpha_y (1 - p_y)^gamma log p_y in torch."""
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
    """For 0 < gamma < 1, (1 - p_t)^gamma has an infinite slope at p_t = 1: autograd of the formula
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


def _stable_binary(x, t, alpha, gamma):
    """The binary loss for hard targets from log-sigmoids of the margin z = (2t - 1) x:
    alpha_t exp(gamma logsigmoid(-z)) (-logsigmoid(z)); its autograd has no cancellation."""
    xt, tt = tensor(x, grad=True), tensor(t)
    z = (2 * tt - 1) * xt
    loss = torch.exp(gamma * functional.logsigmoid(-z)) * -functional.logsigmoid(z)
    if alpha is not None:
        loss = (alpha * tt + (1 - alpha) * (1 - tt)) * loss
    loss.sum().backward()
    return loss, xt.grad


def _stable_multi(x, y, alpha, gamma):
    """The multi-class loss as alpha_y sigma(r)^gamma softplus(r) with r = logsumexp over
    k != y of x_k - x_y, from log-sigmoids: no 1 - p_y or log p_y rounded to 0."""
    xt, yt = tensor(x, grad=True), torch.tensor(y)
    d = xt - xt.gather(1, yt[:, None])
    mask = functional.one_hot(yt, x.shape[1]).bool()
    r = torch.logsumexp(d.masked_fill(mask, -torch.inf), dim=1)
    loss = torch.exp(gamma * functional.logsigmoid(r)) * -functional.logsigmoid(-r)
    if alpha is not None:
        loss = tensor(alpha)[yt] * loss
    loss.sum().backward()
    return loss, xt.grad


SWEEP = np.linspace(-50, 50, 2001)


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("alpha", [0.25, None], ids=["alpha-0.25", "no-alpha"])
@pytest.mark.parametrize("target", [0.0, 1.0], ids=["t-0", "t-1"])
def test_binary_has_no_cancellation(target, alpha, gamma):
    """x in [-50, 50]: float64 value and gradient within 1e-12 relative of the log-sigmoid
    reference (the old p - t gave 0 at x = 40, t = 1, gamma = 1 instead of -3.6e-35)."""
    t = np.full_like(SWEEP, target)
    loss, grad = _stable_binary(SWEEP, t, alpha, gamma)
    tight = {"rtol": 1e-12, "atol": 0}
    assert_matches(sigmoid_focal_loss(SWEEP, t, alpha, gamma, "none"), loss, **tight)
    assert_matches(sigmoid_focal_loss_grad(SWEEP, t, alpha, gamma, "none"), grad, **tight)


def test_binary_finding_at_x_40():
    """The reported case: t = 1, x = 40, gamma = 1, no alpha gives -2 e^-80 = -3.61e-35."""
    grad = sigmoid_focal_loss_grad(np.array([40.0]), np.array([1.0]), None, 1.0, "none")
    np.testing.assert_allclose(grad, [-2 * np.exp(-80.0)], rtol=1e-15)


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("target", [0.0, 1.0], ids=["t-0", "t-1"])
def test_binary_float32_has_no_cancellation(target, gamma):
    """float32, x in [-50, 50]: within the float32 tolerance of the float64 reference, to
    the last normal float32 (below 1.2e-38 results are subnormal and keep fewer digits)."""
    x, t = SWEEP.astype(np.float32), np.full(SWEEP.size, target, np.float32)
    loss, grad = _stable_binary(x.astype(np.float64), t.astype(np.float64), 0.25, gamma)
    tol = {"rtol": 2e-6, "atol": float(np.finfo(np.float32).tiny)}
    assert_matches(sigmoid_focal_loss(x, t, 0.25, gamma, "none"),
                   loss.detach().numpy().astype(np.float32), **tol)
    assert_matches(sigmoid_focal_loss_grad(x, t, 0.25, gamma, "none"),
                   grad.numpy().astype(np.float32), **tol)


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("weighted", [False, True], ids=["no-alpha", "alpha"])
@pytest.mark.parametrize("label", [0, 1], ids=["label-0", "label-1"])
def test_multiclass_has_no_cancellation(label, weighted, gamma):
    """Logits (z, 0, 0.5), z in [-50, 50]: value and gradient within 1e-12 relative of the
    log-sigmoid reference, whether the label's p_y goes to 1 or to 0."""
    x = np.stack([SWEEP, 0 * SWEEP, 0.5 + 0 * SWEEP], axis=1)
    y = np.full(SWEEP.size, label)
    alpha = np.array([0.5, 1.0, 1.5]) if weighted else None
    loss, grad = _stable_multi(x, y, alpha, gamma)
    tight = {"rtol": 1e-12, "atol": 0}
    assert_matches(focal_loss(x, y, alpha, gamma, "none"), loss, **tight)
    assert_matches(focal_loss_grad(x, y, alpha, gamma, "none"), grad, **tight)


def test_single_class_is_zero_like_cross_entropy():
    """C = 1: p_y = 1, so loss and gradient are 0, as torch's cross_entropy says at gamma 0."""
    x, y = np.array([[3.0], [-2.0]]), np.array([0, 0])
    _check_multi(x, y, None, 2.0, "sum")
    xt = tensor(x, grad=True)
    ce = functional.cross_entropy(xt, torch.tensor(y), reduction="sum")
    ce.backward()
    assert ce.item() == 0
    assert_matches(focal_loss(x, y, gamma=0.0, reduction="sum"), ce)
    assert_matches(focal_loss_grad(x, y, gamma=0.0, reduction="sum"), xt.grad)


@pytest.mark.parametrize("alpha", [0.0, 1.0], ids=["alpha-0", "alpha-1"])
def test_binary_alpha_at_the_ends_of_its_range(alpha):
    """alpha = 0 (only negatives count) and alpha = 1 (only positives) are accepted."""
    x = random_input((5, 4), np.float64)
    t = (np.random.default_rng(2).random((5, 4)) < 0.5).astype(np.float64)
    _check_binary(x, t, alpha, 2.0, "sum")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"gamma": -0.5}, "gamma must be >= 0"),
    ({"gamma": np.nan}, "gamma must be >= 0"),
    ({"alpha": -1.0}, "alpha must be in"),
    ({"alpha": 1.5}, "alpha must be in"),
], ids=["gamma--0.5", "gamma-nan", "alpha--1", "alpha-1.5"])
def test_binary_parameters_out_of_range_are_refused(kwargs, message):
    """gamma < 0 or NaN, alpha outside [0, 1]: a ValueError (torchvision's alpha = -1 means
    no weighting; here that is alpha=None)."""
    x, t = np.array([0.5, -1.0]), np.array([1.0, 0.0])
    for fn in (sigmoid_focal_loss, sigmoid_focal_loss_grad):
        with pytest.raises(ValueError, match=message):
            fn(x, t, **kwargs)


@pytest.mark.parametrize("bad", [1.5, -0.5, np.nan], ids=["1.5", "-0.5", "nan"])
def test_binary_targets_out_of_range_are_refused(bad):
    """A target outside [0, 1], or NaN, is refused (1 - p_t could turn negative)."""
    for fn in (sigmoid_focal_loss, sigmoid_focal_loss_grad):
        with pytest.raises(ValueError, match="targets must be in"):
            fn(np.array([0.5, 2.0]), np.array([1.0, bad]))


def test_multiclass_bad_targets_and_gamma_are_refused():
    """Float labels, labels outside [0, C), a 0-d input, gamma < 0: each a ValueError."""
    x = np.zeros((2, 3))
    for fn in (focal_loss, focal_loss_grad):
        with pytest.raises(ValueError, match="integer class indices"):
            fn(x, np.array([0.0, 1.0]))
        with pytest.raises(ValueError, match="out of bounds"):
            fn(x, np.array([0, 3]))
        with pytest.raises(ValueError, match="out of bounds"):
            fn(x, np.array([0, -1]))
        with pytest.raises(ValueError, match="class dimension"):
            fn(np.array(5.0), np.array(0))
        with pytest.raises(ValueError, match="gamma must be >= 0"):
            fn(x, np.array([0, 1]), gamma=-1.0)


def test_nan_logits_propagate():
    """A NaN logit gives NaN loss and gradient for its own element or sample only, as the
    torch formulas do."""
    x = np.array([np.nan, 1.0])
    t = np.array([1.0, 0.0])
    _check_binary(x, t, 0.25, 2.0, "none")
    assert np.isnan(sigmoid_focal_loss_grad(x, t, 0.25, 2.0, "none")[0])
    z = np.array([[np.nan, 0.0, 1.0], [0.5, -0.5, 2.0]])
    y = np.array([1, 2])
    _check_multi(z, y, None, 2.0, "none")
    grad = focal_loss_grad(z, y, None, 2.0, "none")
    assert np.isnan(grad[0]).all()
    assert np.isfinite(grad[1]).all()


def test_float32_kept_with_float64_targets_and_alpha():
    """float32 logits with float64 targets and class weights: float32 results."""
    x = random_input((4, 3), np.float32)
    t = np.ones((4, 3))
    assert sigmoid_focal_loss(x, t).dtype == np.float32
    assert sigmoid_focal_loss_grad(x, t).dtype == np.float32
    y, alpha = np.array([0, 1, 2, 0]), np.array([0.5, 1.0, 2.0])
    assert focal_loss(x, y, alpha).dtype == np.float32
    assert focal_loss_grad(x, y, alpha).dtype == np.float32


def test_unknown_reduction_is_refused():
    """Only 'none', 'mean' and 'sum' exist; anything else is a ValueError in every function."""
    x, t, y = np.zeros((2, 3)), np.ones((2, 3)), np.array([0, 1])
    for fn, target in [(sigmoid_focal_loss, t), (sigmoid_focal_loss_grad, t),
                       (focal_loss, y), (focal_loss_grad, y)]:
        with pytest.raises(ValueError, match="unknown reduction"):
            fn(x, target, reduction="batchmean")


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


def test_integer_logits_are_refused():
    """Integer logits raise a ValueError (torch's formulas refuse them too): the targets take
    the logits' dtype, so a soft target of 0.5 would otherwise silently become 0."""
    with pytest.raises(NotImplementedError):
        functional.binary_cross_entropy_with_logits(torch.tensor([1, 2]),
                                                    torch.tensor([0.5, 0.5]))
    for fn in (sigmoid_focal_loss, sigmoid_focal_loss_grad):
        with pytest.raises(ValueError, match="logits must be floating point"):
            fn(np.array([1, 2]), np.array([0.5, 0.5]))
    for fn in (focal_loss, focal_loss_grad):
        with pytest.raises(ValueError, match="logits must be floating point"):
            fn(np.array([[1, 2, 0]]), np.array([0]))


@pytest.mark.parametrize("gamma", GAMMAS)
def test_multiclass_masked_logits(gamma):
    """Logits of -inf (masked classes), even every class but the label's: loss and gradient
    are finite and equal the formula's limit (cross_entropy's at gamma = 0), not NaN."""
    x = np.array([[0.0, -np.inf, -np.inf], [1.0, -np.inf, 0.5], [-np.inf, 2.0, 0.0]])
    y = np.array([0, 0, 1])
    loss = focal_loss(x, y, None, gamma, "none")
    grad = focal_loss_grad(x, y, None, gamma, "none")
    assert np.isfinite(loss).all()
    assert np.isfinite(grad).all()
    np.testing.assert_array_equal(grad[0], 0)  # p_y = 1: nothing left to learn
    _check_multi(x[1:], y[1:], None, gamma, "none")
    xt = tensor(x, grad=True)
    functional.cross_entropy(xt, torch.tensor(y), reduction="sum").backward()
    if gamma == 0:
        assert_matches(grad, xt.grad)
