"""Group and instance normalization and their backward passes match torch's."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.normalization.group_norm import (
    group_norm,
    group_norm_backward,
    instance_norm,
    instance_norm_backward,
)
from snippets.normalization.layer_norm import layer_norm, layer_norm_backward
from tests.helpers import DTYPES, HARD_VALUES, assert_matches, dtype_id, random_input, tensor


def torch_grads(fn, x, g, *params):
    """torch's fn(x, *params) and the gradients of sum(y * g) for x and each param."""
    ts = [None if p is None else tensor(p, grad=True) for p in (x, *params)]
    y = fn(*ts)
    y.backward(tensor(g))
    return y, [None if t is None else t.grad for t in ts]


def check_group_norm(x, groups, w, b, g, eps=1e-5, **tol):
    y, (dx, dw, db) = torch_grads(lambda x, w, b: F.group_norm(x, groups, w, b, eps), x, g, w, b)
    assert_matches(group_norm(x, groups, w, b, eps), y, **tol)
    ours_dx, ours_dw, ours_db = group_norm_backward(g, x, groups, w, eps)
    assert_matches(ours_dx, dx, **tol)
    if dw is not None:
        assert_matches(ours_dw, dw, **tol)
    if db is not None:
        assert_matches(ours_db, db, **tol)


GROUP_CASES = [  # (shape, groups); every group holds at least 3 numbers
    ((4, 6), 1), ((4, 6), 2),
    ((2, 6, 5), 1), ((2, 6, 5), 2), ((2, 6, 5), 3), ((2, 6, 5), 6),
    ((2, 6, 3, 4), 1), ((2, 6, 3, 4), 3), ((2, 6, 3, 4), 6),
    ((1, 4, 2, 2, 3), 2),  # 3-D positions
    ((0, 6, 5), 3),  # an empty batch
]


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("affine", ["none", "weight", "both"])
@pytest.mark.parametrize(("shape", "groups"), GROUP_CASES, ids=str)
def test_group_norm_matches_torch(shape, groups, affine, dtype):
    """y, dx, dweight and dbias agree with F.group_norm for 1 to C groups, 2-5 dims."""
    rng = np.random.default_rng(1)
    x = random_input(shape, dtype) + dtype(1)
    g = rng.normal(size=shape).astype(dtype)
    w = None if affine == "none" else rng.normal(size=shape[1]).astype(dtype)
    b = rng.normal(size=shape[1]).astype(dtype) if affine == "both" else None
    check_group_norm(x, groups, w, b, g)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_group_norm_hard_values(dtype):
    """Channels holding +-1e4 next to +-1e-8 and signed zeros agree with torch."""
    x = np.stack([HARD_VALUES.reshape(2, 7), HARD_VALUES[::-1].reshape(2, 7)]).astype(dtype)
    x = np.concatenate([x, x * 0.5], axis=1)  # (2, 4, 7)
    g = np.random.default_rng(2).normal(size=x.shape).astype(dtype)
    w = np.array([1.0, -2.0, 0.5, 3.0], dtype=dtype)
    check_group_norm(x, 2, w, w[::-1].copy(), g)


def test_group_norm_large_mean():
    """Mean 1e6, spread 1 in float64: values and gradients agree with torch to the rounding of
    the mean, about eps * 1e6 = 2e-10 relative to the spread (times |dx| ~ 10)."""
    rng = np.random.default_rng(3)
    x = 1e6 + rng.normal(size=(2, 4, 16))
    g = rng.normal(size=x.shape)
    check_group_norm(x, 2, None, None, g, rtol=1e-8, atol=1e-8)


def test_integer_input_keeps_eps():
    """An integer array is normalized like its float64 copy: eps is not rounded to an integer 0
    (a constant group then gives 0, not 0/0)."""
    x = np.array([[[1, 2], [3, 5], [7, 7], [7, 7]]])
    with np.errstate(all="raise"):
        assert_matches(group_norm(x, 2), group_norm(x.astype(np.float64), 2))


@pytest.mark.parametrize("groups", [4, 5, 0])
def test_channels_not_divisible_is_refused(groups):
    """C not divisible by num_groups: ValueError with torch's message (torch: RuntimeError)."""
    x = np.zeros((2, 6, 3))
    message = "Expected number of channels in input to be divisible by num_groups"
    with pytest.raises(ValueError, match=message):
        group_norm(x, groups)
    if groups:  # torch divides by zero groups
        with pytest.raises(RuntimeError, match=message):
            F.group_norm(tensor(x), groups)


def test_one_value_per_channel_is_refused():
    """One example whose groups hold one number each is refused with torch's ValueError message;
    two numbers per group are accepted by both."""
    message = "Expected more than 1 value per channel when training"
    with pytest.raises(ValueError, match=message):
        group_norm(np.ones((1, 2)), 2)
    with pytest.raises(ValueError, match=message):
        F.group_norm(torch.ones(1, 2), 2)
    x = np.array([[1.0, 2.0, 4.0, 3.0]])
    assert_matches(group_norm(x, 2), F.group_norm(tensor(x), 2))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_groups_of_one_number(dtype):
    """Groups of one number: ours gives x_hat = 0 exactly (y = beta, dx = 0); torch's affine output
    is off by rounding noise of at most 4 eps |x gamma| / sqrt(1e-5), as the page says."""
    rng = np.random.default_rng(4)
    x = random_input((3, 4), dtype)
    w, b, g = (rng.normal(size=s).astype(dtype) for s in (4, 4, (3, 4)))
    y, (dx, dw, db) = torch_grads(lambda x, w, b: F.group_norm(x, 4, w, b), x, g, w, b)
    ours_dx, ours_dw, ours_db = group_norm_backward(g, x, 4, w)
    np.testing.assert_array_equal(group_norm(x, 4, w, b), np.broadcast_to(b, x.shape))
    np.testing.assert_array_equal(ours_dx, 0)
    noise = 4 * np.finfo(dtype).eps * np.abs(x * w).max() / np.sqrt(1e-5)
    assert_matches(group_norm(x, 4, w, b), y, rtol=0, atol=noise)
    assert_matches(ours_dw, dw, rtol=0, atol=np.abs(g).sum() * noise / np.abs(w).min())
    assert_matches(ours_db, db)
    assert np.abs(dx.numpy()).max() <= noise * np.abs(g).max() / np.sqrt(1e-5)


@pytest.mark.parametrize(("pair", "torch_off"), [([2.0, 2.02], True), ([0.0, 0.02], False)])
def test_pair_gradient_torch_loses_digits_at_large_mean(pair, torch_off):
    """A group of two numbers 0.02 apart (variance 1e-4, comparable to eps): our float32 dx is
    within 1e-6 relative of float64 at mean 2.01 and at mean 0.01; torch's is off by more than
    1e-4 relative at mean 2.01 (its backward cancels in terms of x and the mean), and within
    1e-5 at mean 0.01 (page claim)."""
    x = np.array([[pair]], dtype=np.float32)
    g = np.array([[[1.0, -1.0]]], dtype=np.float32)
    exact, _, _ = group_norm_backward(g.astype(np.float64), x.astype(np.float64), 1)
    ours, _, _ = group_norm_backward(g, x, 1)
    _, (dx,) = torch_grads(lambda x: F.group_norm(x, 1), x, g)
    scale = np.abs(exact).max()
    assert np.abs(ours - exact).max() < 1e-6 * scale
    if torch_off:
        assert np.abs(dx.numpy() - exact).max() > 1e-4 * scale
    else:
        assert np.abs(dx.numpy() - exact).max() < 1e-5 * scale


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 4), (1, 2, 2, 3, 2)], ids=str)
@pytest.mark.parametrize("use_input_stats", [True, False])
@pytest.mark.parametrize("affine", [False, True])
def test_instance_norm_matches_torch(affine, use_input_stats, shape, dtype):
    """Values, running-stat updates and gradients agree with F.instance_norm, with the
    instance's own statistics (stats updated) and with running statistics (eval)."""
    rng = np.random.default_rng(5)
    x = random_input(shape, dtype) + dtype(1)
    g = rng.normal(size=shape).astype(dtype)
    c = shape[1]
    w = rng.normal(size=c).astype(dtype) if affine else None
    b = rng.normal(size=c).astype(dtype) if affine else None
    mean, var = rng.normal(size=c).astype(dtype), rng.uniform(0.5, 2, c).astype(dtype)
    ours_stats = [mean.copy(), var.copy()]
    stats = [tensor(mean), tensor(var)]
    y, (dx, dw, db) = torch_grads(
        lambda x, w, b: F.instance_norm(x, *stats, w, b, use_input_stats, 0.3), x, g, w, b)
    assert_matches(instance_norm(x, *ours_stats, w, b, use_input_stats, 0.3), y)
    assert_matches(ours_stats[0], stats[0])
    assert_matches(ours_stats[1], stats[1])
    ours_dx, ours_dw, ours_db = instance_norm_backward(g, x, mean, var, w, use_input_stats)
    assert_matches(ours_dx, dx)
    if affine:
        assert_matches(ours_dw, dw)
        assert_matches(ours_db, db)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_instance_norm_without_running_stats(dtype):
    """No running statistics: the plain per-instance normalization, as in torch."""
    x = random_input((3, 2, 6), dtype)
    g = np.random.default_rng(6).normal(size=x.shape).astype(dtype)
    y, (dx,) = torch_grads(F.instance_norm, x, g)
    assert_matches(instance_norm(x), y)
    assert_matches(instance_norm_backward(g, x)[0], dx)


def test_instance_norm_empty_batch():
    """An empty batch of (3, 5) instances is accepted, as by torch, with values and gradients of
    shape (0, 3, 5)."""
    x = np.zeros((0, 3, 5))
    y, (dx,) = torch_grads(F.instance_norm, x, x)
    assert_matches(instance_norm(x), y)
    assert_matches(instance_norm_backward(x, x)[0], dx)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_instance_norm_module_train_then_eval(dtype):
    """InstanceNorm2d(affine=True, track_running_stats=True): three training steps update the
    running statistics as ours do, and eval mode then normalizes with them."""
    rng = np.random.default_rng(7)
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    layer = torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True, dtype=tdtype)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
        layer.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
    w, b = (p.detach().numpy().copy() for p in (layer.weight, layer.bias))
    mean, var = np.zeros(3, dtype), np.ones(3, dtype)
    for step in range(4):
        x = (rng.normal(size=(2, 3, 4, 5)) * 2 + step).astype(dtype)
        layer.train(step < 3)
        y = layer(tensor(x))
        assert_matches(instance_norm(x, mean, var, w, b, use_input_stats=step < 3), y)
        assert_matches(mean, layer.running_mean)
        assert_matches(var, layer.running_var)
    assert not np.allclose(var, 1)  # the statistics did move


def test_instance_norm_refusals():
    """Like torch: one position per channel in training, or no running stats in eval, raise."""
    x = np.ones((2, 3, 1))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        instance_norm(x)
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(tensor(x))
    with pytest.raises(ValueError, match="more than 1 spatial element"):  # eval mode too
        torch.nn.InstanceNorm2d(3).eval()(torch.ones(2, 3, 1, 1, dtype=torch.float64))
    with pytest.raises(ValueError, match="running_mean and running_var"):
        instance_norm(np.ones((2, 3, 4)), use_input_stats=False)
    with pytest.raises(RuntimeError, match="running_mean and running_var"):
        F.instance_norm(torch.ones(2, 3, 4), use_input_stats=False)


inputs = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3),
                   st.integers(2, 4)).flatmap(
    lambda s: st.tuples(hnp.arrays(np.float64, s, elements=st.floats(-100, 100)),
                        hnp.arrays(np.float64, (2, s[1]), elements=st.floats(-3, 3))))


@given(inputs)
def test_one_group_is_layer_norm_over_chw(data):
    """group_norm(x, 1, w, b) = layer_norm over (C, H, W) with w, b repeated over (H, W), for
    values and for all gradients (dweight summed over the positions)."""
    x, wb = data
    w, b = wb.reshape(2, -1)
    full = (w[:, None, None] * np.ones(x.shape[1:]), b[:, None, None] * np.ones(x.shape[1:]))
    np.testing.assert_allclose(group_norm(x, 1, w, b), layer_norm(x, x.shape[1:], *full),
                               atol=1e-12)
    g = np.cos(x)  # any upstream gradient
    dx, dw, db = group_norm_backward(g, x, 1, w)
    ldx, ldw, ldb = layer_norm_backward(g, x, x.shape[1:], full[0])
    np.testing.assert_allclose(dx, ldx, atol=1e-9)
    np.testing.assert_allclose(dw, ldw.sum(axis=(1, 2)), atol=1e-9)
    np.testing.assert_allclose(db, ldb.sum(axis=(1, 2)), atol=1e-9)


@given(inputs)
def test_c_groups_is_instance_norm(data):
    """group_norm(x, C, w, b) equals torch's instance_norm(x, weight=w, bias=b), values and all
    gradients, and our instance_norm equals torch's group_norm with C groups (channels whose
    spread is below 1e-3 of the largest |x| skipped: there both codes only round noise)."""
    x, wb = data
    x = x + np.arange(x[0, 0].size).reshape(x.shape[2:])  # a ramp: few constant channels
    w, b = wb.reshape(2, -1)
    c = x.shape[1]
    spread = x.reshape(*x.shape[:2], -1).std(-1)
    if spread.min() < 1e-3 * max(1.0, np.abs(x).max()):
        return
    g = np.sin(x)  # any upstream gradient
    # |x| <= 112 and spread >= 0.1: errors of a few eps * 112 / 0.1 ~ 1e-13 in x_hat and dx
    tol = {"rtol": 1e-10, "atol": 1e-10}
    y, grads = torch_grads(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), x, g, w, b)
    assert_matches(group_norm(x, c, w, b), y, **tol)
    for ours, theirs in zip(group_norm_backward(g, x, c, w), grads, strict=True):
        assert_matches(ours, theirs, **tol)
    y, grads = torch_grads(lambda x, w, b: F.group_norm(x, c, w, b), x, g, w, b)
    assert_matches(instance_norm(x, weight=w, bias=b), y, **tol)
    for ours, theirs in zip(instance_norm_backward(g, x, weight=w), grads, strict=True):
        assert_matches(ours, theirs, **tol)
