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
# sigma(-x) = e^-x / (1 + e^-x) is e^-x to within a relative e^-40 at x >= 40: a few ULPs apart
TOL_REL = {np.float64: 1e-14, np.float32: 1e-6}


def _data(shape, dtype, seed=0):
    """Logits, the probabilities they give, soft targets and a per-last-dim weight."""
    rng = np.random.default_rng(seed)
    x = random_input(shape, dtype, seed)
    p = (1 / (1 + np.exp(-x.astype(np.float64)))).astype(dtype)
    y = rng.uniform(size=shape).astype(dtype)
    w = rng.uniform(0.5, 2.0, size=shape[-1:] or ()).astype(dtype)
    return x, p, y, w


def _torch_bce(p, y, reduction, weight=None):
    """torch's binary_cross_entropy and d(sum of it)/dp."""
    pt = tensor(p, grad=True)
    wt = None if weight is None else tensor(np.broadcast_to(weight, p.shape).copy())
    loss = F.binary_cross_entropy(pt, tensor(y), weight=wt, reduction=reduction)
    loss.sum().backward()
    return loss, pt.grad


def _torch_bce_logits(x, y, reduction, weight=None, pos_weight=None):
    """torch's binary_cross_entropy_with_logits and d(sum of it)/dx."""
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


@pytest.mark.parametrize("bad", [1.5, -0.5, np.nan], ids=["1.5", "-0.5", "nan"])
@pytest.mark.parametrize("which", ["input", "target"])
def test_out_of_range_or_nan_is_rejected_like_torch(which, bad):
    """A probability or target outside [0, 1], or NaN, raises in torch and here (ValueError)."""
    p, y = np.array([0.5, 0.5]), np.array([1.0, 0.0])
    (p if which == "input" else y)[0] = bad
    message = f"all elements of {which} should be between 0 and 1"
    with pytest.raises(RuntimeError, match=message):
        F.binary_cross_entropy(tensor(p), tensor(y))
    with pytest.raises(ValueError, match=message):
        binary_cross_entropy(p, y)
    with pytest.raises(ValueError, match=message):
        binary_cross_entropy_grad(p, y)


def test_nan_logits_and_weights_propagate_like_torch():
    """The logits form does not check its input: NaN logits or weights give NaN, as in torch."""
    x, y = np.array([np.nan, 0.5]), np.array([1.0, 0.0])
    ref, grad = _torch_bce_logits(x, y, "none")
    assert_matches(binary_cross_entropy_with_logits(x, y, reduction="none"), ref)
    assert_matches(binary_cross_entropy_with_logits_grad(x, y, reduction="none"), grad)
    assert np.isnan(binary_cross_entropy_with_logits(x, y))
    w = np.array([np.nan, 1.0])
    p = np.array([0.3, 0.6])
    ref, grad = _torch_bce(p, y, "sum", w)
    assert np.isnan(ref.item())
    assert_matches(binary_cross_entropy(p, y, weight=w, reduction="sum"), ref)
    assert_matches(binary_cross_entropy_grad(p, y, weight=w, reduction="sum"), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_logits_target_outside_unit_interval_is_accepted_like_torch(dtype):
    """binary_cross_entropy_with_logits does not refuse y = 2 or y = -1 (nor does torch)."""
    x = np.array([0.3, -1.2, 4.0], dtype)
    y = np.array([2.0, -1.0, 0.5], dtype)
    loss, grad = _torch_bce_logits(x, y, "none")
    assert_matches(binary_cross_entropy_with_logits(x, y, reduction="none"), loss)
    assert_matches(binary_cross_entropy_with_logits_grad(x, y, reduction="none"), grad)


def _stable_reference(x, y, q):
    """The logits loss from torch's log-sigmoid, whose autograd has no cancellation."""
    xt = tensor(x, grad=True)
    yt = tensor(y)
    loss = -(1 - yt) * F.logsigmoid(-xt) - q * yt * F.logsigmoid(xt)
    loss.sum().backward()
    return loss, xt.grad


@pytest.mark.parametrize("q", [1.0, 3.0], ids=["no-pos-weight", "pos-weight-3"])
@pytest.mark.parametrize("target", [0.0, 1.0])
def test_logits_gradient_has_no_cancellation(target, q):
    """x in [-50, 50], y in {0, 1}: value and gradient within 1e-12 relative of a stable
    reference; at y = 1 the gradient is -q sigmoid(-x), never the rounded sigma(x) - 1."""
    x = np.linspace(-50, 50, 1001)
    y = np.full_like(x, target)
    loss, grad = _stable_reference(x, y, q)
    kw = {"reduction": "none", "pos_weight": np.array([q])}
    assert_matches(binary_cross_entropy_with_logits(x, y, **kw), loss, rtol=1e-12, atol=0)
    assert_matches(binary_cross_entropy_with_logits_grad(x, y, **kw), grad,
                   rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_saturated_logit_gradient_differs_from_torch_as_stated(dtype):
    """The page's stated difference: at y = 1 and a large logit torch's gradient sigma(x) - 1
    rounds to exactly 0; ours is -sigma(-x) > 0 in size, below one float epsilon apart."""
    x = np.array([40.0, 80.0], dtype)  # e^-80 is still a normal float32
    y = np.ones(2, dtype)
    _, grad = _torch_bce_logits(x, y, "none")
    np.testing.assert_array_equal(grad.numpy(), 0)
    ours = binary_cross_entropy_with_logits_grad(x, y, reduction="none")
    expected = -np.exp(-x.astype(np.float64))  # sigma(-x) = e^-x (1 - e^-x + ...)
    np.testing.assert_allclose(ours, expected.astype(dtype), rtol=TOL_REL[dtype], atol=0)
    assert np.all(np.abs(ours - grad.numpy()) < np.finfo(dtype).eps)


def test_float32_kept_and_integers_accepted():
    """float32 input with float64 target and weight: float32 out; integer 0/1 input works."""
    p = np.array([0.25, 0.75], np.float32)
    y, w = np.array([1.0, 0.0]), np.array([1.0, 2.0])
    assert binary_cross_entropy(p, y, weight=w).dtype == np.float32
    assert binary_cross_entropy_grad(p, y, weight=w).dtype == np.float32
    assert binary_cross_entropy_with_logits(p, y, weight=w, pos_weight=w).dtype == np.float32
    assert binary_cross_entropy_with_logits_grad(p, y, pos_weight=w).dtype == np.float32
    ints = binary_cross_entropy(np.array([0, 1]), np.array([0, 1]), reduction="none")
    assert ints.dtype == np.float64
    np.testing.assert_array_equal(ints, [0, 0])


def test_unknown_reduction_is_refused():
    """Only 'none', 'mean' and 'sum' exist; anything else is a ValueError in every function."""
    p, y = np.array([0.5]), np.array([1.0])
    for fn in (binary_cross_entropy, binary_cross_entropy_grad,
               binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_grad):
        with pytest.raises(ValueError, match="unknown reduction"):
            fn(p, y, reduction="batchmean")


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


@pytest.mark.parametrize(("dtype", "bits"), [(np.float64, 53), (np.float32, 24)],
                         ids=["float64", "float32"])
def test_torch_gradient_vanishes_where_sigmoid_rounds_to_one(dtype, bits):
    """The page's thresholds: torch's gradient at y = 1 is exactly 0 from x = bits * log 2
    (36.74 in float64, 16.64 in float32) on, where sigma(x) rounds to 1, and not before."""
    edge = bits * np.log(2)
    x = np.array([edge - 0.01, edge + 0.01], dtype)
    _, grad = _torch_bce_logits(x, np.ones(2, dtype), "none")
    assert grad[0] != 0
    assert grad[1] == 0
    assert torch.sigmoid(tensor(x))[1] == 1
    assert np.all(binary_cross_entropy_with_logits_grad(x, np.ones(2, dtype), reduction="none")
                  < 0)


def test_dtypes_differ_from_torch_as_stated():
    """torch refuses integer inputs and targets and, on probabilities, a target of another
    dtype; it promotes float32 logits with float64 targets. Here everything takes the
    input's dtype (integers become float64)."""
    p32, y64 = np.array([0.3, 0.6], np.float32), np.array([1.0, 0.0])
    with pytest.raises(RuntimeError, match="Found dtype Double but expected Float"):
        F.binary_cross_entropy(tensor(p32), tensor(y64))
    with pytest.raises(RuntimeError):
        F.binary_cross_entropy(tensor(y64), torch.tensor([1, 0]))
    with pytest.raises(RuntimeError):
        F.binary_cross_entropy_with_logits(tensor(y64), torch.tensor([1, 0]))
    with pytest.raises((RuntimeError, NotImplementedError)):
        F.binary_cross_entropy_with_logits(torch.tensor([1, 0]), tensor(y64))
    assert F.binary_cross_entropy_with_logits(tensor(p32), tensor(y64)).dtype == torch.float64
    ref = F.binary_cross_entropy(tensor(p32), tensor(y64.astype(np.float32)))
    assert_matches(binary_cross_entropy(p32, y64), ref)
    ref = F.binary_cross_entropy_with_logits(tensor(p32), tensor(y64.astype(np.float32)))
    assert_matches(binary_cross_entropy_with_logits(p32, y64), ref)
    x_int, y_int = np.array([2, -1]), np.array([1, 0])
    ref = F.binary_cross_entropy_with_logits(tensor(x_int.astype(np.float64)),
                                             tensor(y_int.astype(np.float64)))
    assert_matches(binary_cross_entropy_with_logits(x_int, y_int), ref)


def test_infinite_logits_differ_from_torch_as_stated():
    """x = -inf with y > 0: +inf here, NaN in torch; 0 * inf cases are NaN in both, and the
    other infinite cases and every gradient agree with torch."""
    x = np.array([-np.inf, -np.inf, np.inf, np.inf, np.inf, -np.inf])
    y = np.array([1.0, 0.5, 0.0, 0.5, 1.0, 0.0])
    loss, grad = _torch_bce_logits(x, y, "none")
    with np.errstate(invalid="ignore"):
        ours = binary_cross_entropy_with_logits(x, y, reduction="none")
        ours_grad = binary_cross_entropy_with_logits_grad(x, y, reduction="none")
    assert torch.isnan(loss[:2]).all()
    np.testing.assert_array_equal(ours[:2], np.inf)
    assert_matches(ours[2:], loss[2:])  # inf, inf, NaN, NaN in both
    assert np.isnan(ours[4:]).all()
    assert_matches(ours_grad, grad)
