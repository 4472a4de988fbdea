"""Batch normalization, its hand-written backward pass and running statistics match torch."""


import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.normalization.batch_norm import (
    batch_norm,
    batch_norm_backward,
    batch_norm_layer,
    channel_stats,
    init_buffers,
    naive_var,
)
from tests.helpers import DTYPES, TOLERANCE, assert_matches, dtype_id

SHAPES = [(8, 3), (2, 3), (8, 3, 5), (2, 3, 1), (4, 3, 5, 6), (1, 2, 3, 3)]
EPS32 = float(np.finfo(np.float32).eps)


def torch_batch_norm(x, rm, rv, w, b, dy, **kwargs):
    """torch's output, updated running statistics and gradients (x, weight, bias) for `dy`."""
    xt = torch.tensor(x, requires_grad=True)
    wt = None if w is None else torch.tensor(w, requires_grad=True)
    bt = None if b is None else torch.tensor(b, requires_grad=True)
    rmt = None if rm is None else torch.tensor(rm)
    rvt = None if rv is None else torch.tensor(rv)
    yt = F.batch_norm(xt, rmt, rvt, wt, bt, **kwargs)
    (yt * torch.tensor(dy)).sum().backward()
    grads = [None if t is None else t.grad for t in (xt, wt, bt)]
    return yt, rmt, rvt, grads


def torch_affine_atol(x, w, b, mean, var, eps=1e-5):
    """An absolute tolerance for comparing y with torch's: torch forms y = x * a + c with
    a = w / sqrt(var + eps) and c = b - mean * a in x's dtype, so its y carries a rounding error
    of a few ulps of the largest of |x a|, |c|, which exceeds the default tolerance where those
    terms nearly cancel (e.g. two close values per channel, or a large mean)."""
    a = w / np.sqrt(np.asarray(var, np.float64) + eps)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    terms = max(np.abs(x * a.reshape(shape)).max(initial=0), np.abs(b - mean * a).max())
    return max(4 * np.finfo(x.dtype).eps * terms, TOLERANCE[x.dtype]["atol"])


def torch_grad_atols(x, w, dy, var, eps=1e-5):
    """Absolute tolerances for dx and dweight against torch's: torch forms x - mean in x's dtype,
    so its x_hat is off by up to delta = ulp * |x| / sqrt(var + eps); that error reaches dx through
    w / sqrt(var + eps) * (g - mean(g) - x_hat mean(g x_hat)), whose terms can nearly cancel
    (e.g. two values per channel), and dweight = sum(g x_hat) through M terms."""
    invstd = 1 / np.sqrt(np.asarray(var, np.float64) + eps)
    delta = np.finfo(x.dtype).eps * np.abs(x).max(initial=0) * invstd.max()
    g, m = np.abs(dy).max(initial=0), x.size // x.shape[1]
    floor = TOLERANCE[x.dtype]["atol"]
    return (max(4 * np.abs(w * invstd).max() * g * delta, floor),
            max(2 * m * g * delta, floor))


def inputs(shape, dtype, seed=0, offset=1.0, scale=3.0):
    """x, weight, bias, running mean, running variance and an upstream gradient."""
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = (rng.normal(size=shape) * scale + offset).astype(dtype)
    w, b = rng.normal(size=c).astype(dtype), rng.normal(size=c).astype(dtype)
    rm, rv = rng.normal(size=c).astype(dtype), rng.uniform(0.5, 2, c).astype(dtype)
    return x, w, b, rm, rv, rng.normal(size=shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_functional_matches_torch(shape, dtype, training):
    """Output, running statistics and dx, dweight, dbias agree with F.batch_norm."""
    x, w, b, rm, rv, dy = inputs(shape, dtype)
    y, rm2, rv2, cache = batch_norm(x, rm, rv, w, b, training, momentum=0.1, eps=1e-5)
    yt, rmt, rvt, grads_t = torch_batch_norm(x, rm, rv, w, b, dy, training=training)
    mean, var, _ = channel_stats(x) if training else (rm, rv, None)
    assert_matches(y, yt, atol=torch_affine_atol(x, w, b, mean, var))
    assert_matches(rm2, rmt)
    assert_matches(rv2, rvt)
    dx, dw, db = batch_norm_backward(dy, cache, w)
    atol_dx, atol_dw = torch_grad_atols(x, w, dy, var)
    assert_matches(dx, grads_t[0], atol=atol_dx)
    assert_matches(dw, grads_t[1], atol=atol_dw)
    assert_matches(db, grads_t[2])


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("momentum", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("eps", [1e-5, 1e-3, 0.5])
def test_momentum_and_eps_range(dtype, momentum, eps):
    """momentum 0 (frozen), 0.1 and 1 (the last batch only) and several eps agree with torch."""
    x, w, b, rm, rv, dy = inputs((6, 4, 3), dtype, seed=3)
    y, rm2, rv2, cache = batch_norm(x, rm, rv, w, b, True, momentum=momentum, eps=eps)
    yt, rmt, rvt, grads_t = torch_batch_norm(x, rm, rv, w, b, dy, training=True,
                                             momentum=momentum, eps=eps)
    for ours, ref in [(y, yt), (rm2, rmt), (rv2, rvt)]:
        assert_matches(ours, ref)
    for ours, ref in zip(batch_norm_backward(dy, cache, w), grads_t, strict=True):
        assert_matches(ours, ref)
    if momentum == 0.0:
        np.testing.assert_array_equal(rm2, rm)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_without_affine_parameters(dtype, training):
    """weight = bias = None means gamma = 1, beta = 0; only dx is returned, as torch gives."""
    x, _, _, rm, rv, dy = inputs((5, 3, 4), dtype, seed=1)
    y, _, _, cache = batch_norm(x, rm, rv, None, None, training)
    yt, _, _, grads_t = torch_batch_norm(x, rm, rv, None, None, dy, training=training)
    assert_matches(y, yt)
    dx, dw, db = batch_norm_backward(dy, cache, None)
    assert dw is None
    assert db is None
    assert_matches(dx, grads_t[0])


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_without_running_statistics(dtype):
    """With no running buffers, training uses the batch statistics and returns None for them."""
    x, w, b, _, _, dy = inputs((7, 2, 3, 2), dtype, seed=2)
    y, rm, rv, cache = batch_norm(x, None, None, w, b, training=True)
    assert rm is None
    assert rv is None
    yt, _, _, grads_t = torch_batch_norm(x, None, None, w, b, dy, training=True)
    assert_matches(y, yt)
    for ours, ref in zip(batch_norm_backward(dy, cache, w), grads_t, strict=True):
        assert_matches(ours, ref)


def test_evaluation_needs_running_statistics():
    """Evaluation without running statistics is refused (torch raises a RuntimeError)."""
    x = np.ones((4, 3))
    with pytest.raises(ValueError, match="running_mean must be defined"):
        batch_norm(x, None, None, training=False)
    with pytest.raises(RuntimeError, match="running_mean must be defined"):
        F.batch_norm(torch.tensor(x), None, None, training=False)


def test_input_needs_a_channel_axis():
    """A 0-d or 1-D input has no channel axis and is refused with a ValueError."""
    for x in (np.float64(1.0), np.ones(3)):
        with pytest.raises(ValueError, match="shape"):
            batch_norm(x, None, None, training=True)


def test_running_variance_is_unbiased_and_normalization_biased():
    """running_var receives the M/(M-1)-corrected variance; y is scaled by the biased one."""
    x = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [6.0, 60.0]])
    y, rm, rv, _ = batch_norm(x, np.zeros(2), np.zeros(2), training=True, momentum=1.0)
    np.testing.assert_allclose(rm, [3.0, 30.0], rtol=1e-15)
    np.testing.assert_allclose(rv, [14 / 3, 1400 / 3], rtol=1e-15)  # sum of squares / 3
    biased = np.array([3.5, 350.0])  # sum of squares / 4: y's variance is biased / (it + eps)
    np.testing.assert_allclose(y.var(axis=0), biased / (biased + 1e-5), rtol=1e-14)
    rmt, rvt = torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    F.batch_norm(torch.tensor(x), rmt, rvt, training=True, momentum=1.0)
    np.testing.assert_allclose(rvt.numpy(), [14 / 3, 1400 / 3], rtol=1e-15)


LAYER_CASES = [(torch.nn.BatchNorm1d, (6, 4)), (torch.nn.BatchNorm1d, (3, 4, 5)),
               (torch.nn.BatchNorm2d, (2, 3, 4, 4)), (torch.nn.BatchNorm2d, (1, 2, 3, 2))]


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("module", "shape"), LAYER_CASES, ids=lambda v: getattr(v, "__name__", v))
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_layer_matches_torch_over_steps(module, shape, momentum, dtype):
    """Six training steps then two evaluation steps: outputs, gradients, every buffer agree."""
    rng = np.random.default_rng(4)
    c = shape[1]
    layer = module(c, momentum=momentum).to(torch.float64 if dtype == np.float64
                                            else torch.float32)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(rng.normal(size=c)))
        layer.bias.copy_(torch.tensor(rng.normal(size=c)))
    w, b = layer.weight.detach().numpy().copy(), layer.bias.detach().numpy().copy()
    buffers = init_buffers(c, dtype)
    for step in range(8):
        training = step < 6
        layer.train(training)
        x = (rng.normal(size=shape) * 2 + step).astype(dtype)  # the mean drifts
        dy = rng.normal(size=shape).astype(dtype)
        y, buffers, cache = batch_norm_layer(x, w, b, buffers, training=training,
                                             momentum=momentum)
        xt = torch.tensor(x, requires_grad=True)
        layer.zero_grad()
        yt = layer(xt)
        (yt * torch.tensor(dy)).sum().backward()
        assert buffers["num_batches_tracked"] == layer.num_batches_tracked.item() == min(
            step + 1, 6)
        assert_matches(y, yt)
        assert_matches(buffers["running_mean"], layer.running_mean)
        assert_matches(buffers["running_var"], layer.running_var)
        refs = (xt.grad, layer.weight.grad, layer.bias.grad)
        for ours, ref in zip(batch_norm_backward(dy, cache, w), refs, strict=True):
            assert_matches(ours, ref)


def test_momentum_none_is_the_plain_average_of_the_batches():
    """momentum=None: after T batches the running mean is the mean of the T batch means and
    the running variance the mean of their unbiased variances (the initial 0 and 1 are gone)."""
    rng = np.random.default_rng(5)
    batches = [rng.normal(loc=3.0, scale=2.0, size=(10, 2)) for _ in range(7)]
    buffers = init_buffers(2)
    for x in batches:
        _, buffers, _ = batch_norm_layer(x, None, None, buffers, training=True, momentum=None)
    np.testing.assert_allclose(buffers["running_mean"],
                               np.mean([x.mean(0) for x in batches], axis=0), rtol=1e-13)
    np.testing.assert_allclose(buffers["running_var"],
                               np.mean([x.var(0, ddof=1) for x in batches], axis=0),
                               rtol=1e-13)
    assert buffers["num_batches_tracked"] == 7


@pytest.mark.parametrize("offset", [1e4, 1e8])
def test_large_mean_float64(offset):
    """A mean of 1e4 or 1e8 with spread 1: the two-pass variance matches torch (and numpy's);
    E[x^2] - E[x]^2 is off by more than half of it at 1e8, where x^2 has ulps of 2."""
    x, w, b, rm, rv, dy = inputs((64, 3, 2), np.float64, seed=6, offset=offset, scale=1.0)
    y, rm2, rv2, cache = batch_norm(x, rm, rv, w, b, True)
    yt, rmt, rvt, grads_t = torch_batch_norm(x, rm, rv, w, b, dy, training=True)
    _, var, _ = channel_stats(x)
    np.testing.assert_allclose(var, x.var(axis=(0, 2)), rtol=1e-9)
    # torch forms y as x * a + c with a = w / std and c = b - mean * a: rounding of terms of
    # size |x * a| ~ offset, so the error bound scales with the offset, not with y.
    a_x = np.abs(x * (w / np.sqrt(var + 1e-5))[None, :, None]).max()
    assert_matches(y, yt, atol=8 * np.finfo(np.float64).eps * a_x)
    assert_matches(rv2, rvt)
    assert_matches(rm2, rmt)
    scale = a_x / np.abs(w).max() * np.abs(w / np.sqrt(var)).max() * np.abs(dy).max() * 4
    for ours, ref in zip(batch_norm_backward(dy, cache, w), grads_t, strict=True):
        assert_matches(ours, ref, atol=8 * np.finfo(np.float64).eps * scale * x.shape[0])
    if offset == 1e8:
        assert np.all(np.abs(naive_var(x) - var) > 0.5 * var)


def test_large_mean_float32():
    """float32 with mean 1e4 and spread 1: agreement within float32 rounding of x * a
    (torch's affine form), while E[x^2] - E[x]^2 in float32 is off by more than the variance."""
    x, w, b, rm, rv, dy = inputs((64, 3, 2), np.float32, seed=7, offset=1e4, scale=1.0)
    y, rm2, rv2, cache = batch_norm(x, rm, rv, w, b, True)
    yt, rmt, rvt, grads_t = torch_batch_norm(x, rm, rv, w, b, dy, training=True)
    _, var, _ = channel_stats(x)
    invstd = 1 / np.sqrt(var + 1e-5)
    a_x = np.abs(x * (w * invstd)[None, :, None]).max()  # ~1e4: torch's y is x * a + c
    assert_matches(y, yt, atol=4 * EPS32 * a_x)
    assert_matches(rm2, rmt)
    assert_matches(rv2, rvt)
    # torch's backward forms x - mean in float32: x_hat is off by up to eps32 * |x| * invstd,
    # which enters dx through the x_hat * mean(g x_hat) term.
    x_hat_err = EPS32 * np.abs(x).max() * invstd.max()
    bound = 4 * x_hat_err * np.abs(w * invstd).max() * np.abs(dy).max() * 4
    dx, dw, db = batch_norm_backward(dy, cache, w)
    assert_matches(dx, grads_t[0], atol=bound)
    assert_matches(dw, grads_t[1], atol=4 * x_hat_err * np.abs(dy).sum(axis=(0, 2)).max())
    assert_matches(db, grads_t[2])
    assert np.all(np.abs(naive_var(x) - var) > var)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_constant_channel(dtype):
    """A channel of equal values: variance 0, output = bias, dx = w (g - mean g) / sqrt(eps)."""
    x, w, b, rm, rv, dy = inputs((5, 3, 2), dtype, seed=8)
    x[:, 1] = dtype(0.1)
    y, _, _, cache = batch_norm(x, rm, rv, w, b, True)
    yt, _, _, grads_t = torch_batch_norm(x, rm, rv, w, b, dy, training=True)
    assert_matches(y, yt)
    np.testing.assert_allclose(y[:, 1], b[1], **TOLERANCE[np.dtype(dtype)])
    dx, dw, db = batch_norm_backward(dy, cache, w)
    # dx reaches |w| / sqrt(1e-5) ~ 300 times |g|: relative tolerance on that scale.
    big = np.abs(grads_t[0].numpy()).max()
    assert_matches(dx, grads_t[0], atol=TOLERANCE[np.dtype(dtype)]["rtol"] * big)
    assert_matches(dw, grads_t[1])
    assert_matches(db, grads_t[2])
    g = dy[:, 1].astype(np.float64)
    np.testing.assert_allclose(dx[:, 1], w[1] * (g - g.mean()) / np.sqrt(1e-5),
                               rtol=TOLERANCE[np.dtype(dtype)]["rtol"] * 10,
                               atol=TOLERANCE[np.dtype(dtype)]["rtol"] * big)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nan_spreads_over_its_channel_only(dtype):
    """One NaN makes its whole channel (output and running statistics) NaN, as in torch;
    the other channels are untouched and still agree."""
    x, w, b, rm, rv, dy = inputs((4, 3, 2), dtype, seed=9)
    x[1, 1, 0] = np.nan
    y, rm2, rv2, _ = batch_norm(x, rm, rv, w, b, True)
    yt, rmt, rvt, _ = torch_batch_norm(x, rm, rv, w, b, dy, training=True)
    for ours, ref in [(y, yt), (rm2, rmt), (rv2, rvt)]:
        ref = ref.detach().numpy()
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
        assert np.all(np.isnan(ours[:, 1] if ours.ndim > 1 else ours[1]))
        keep = [0, 2]
        assert_matches(ours[:, keep] if ours.ndim > 1 else ours[keep],
                       ref[:, keep] if ref.ndim > 1 else ref[keep])


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1), (1, 3, 1, 1)], ids=str)
def test_one_value_per_channel_is_refused_in_training(shape):
    """M = 1 raises the ValueError torch raises, in both; evaluation mode still works."""
    x = np.arange(3.0).reshape(shape)
    message = "Expected more than 1 value per channel when training"
    with pytest.raises(ValueError, match=message):
        batch_norm(x, np.zeros(3), np.ones(3), training=True)
    with pytest.raises(ValueError, match=message):
        F.batch_norm(torch.tensor(x), torch.zeros(3, dtype=torch.float64),
                     torch.ones(3, dtype=torch.float64), training=True)
    rm, rv = np.array([0.5, 1.0, 1.5]), np.array([1.0, 2.0, 4.0])
    y, _, _, _ = batch_norm(x, rm, rv, training=False)
    yt = F.batch_norm(torch.tensor(x), torch.tensor(rm), torch.tensor(rv), training=False)
    assert_matches(y, yt)


def test_one_image_with_several_pixels_trains():
    """(1, C, H, W) with H W > 1 trains in both: each channel normalized over its H W values."""
    x, _, _, rm, rv, dy = inputs((1, 3, 2, 2), np.float64, seed=10)
    y, rm2, rv2, cache = batch_norm(x, rm, rv, None, None, True)
    yt, rmt, rvt, grads_t = torch_batch_norm(x, rm, rv, None, None, dy, training=True)
    assert_matches(y, yt)
    assert_matches(rm2, rmt)
    assert_matches(rv2, rvt)
    assert_matches(batch_norm_backward(dy, cache)[0], grads_t[0])
    var = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-15)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), var / (var + 1e-5), rtol=1e-14)


def test_eps_must_be_positive_in_training():
    """eps <= 0 is refused in training, as torch refuses it (it divides by sqrt(var + eps))."""
    x = np.ones((4, 3))
    with pytest.raises(ValueError, match="eps must be positive"):
        batch_norm(x, None, None, training=True, eps=0.0)
    with pytest.raises(ValueError, match="eps must be positive"):
        F.batch_norm(torch.tensor(x), None, None, training=True, eps=0.0)


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4)], ids=str)
def test_empty_batch(shape):
    """An empty batch gives an empty output, zero gradients, and leaves the running statistics
    unchanged, as in torch; the layer still counts it in num_batches_tracked."""
    x = np.zeros(shape)
    rm, rv, w, b = np.full(3, 5.0), np.full(3, 3.0), np.ones(3), np.zeros(3)
    y, rm2, rv2, cache = batch_norm(x, rm, rv, w, b, training=True)
    yt, rmt, rvt, grads_t = torch_batch_norm(x, rm, rv, w, b, x, training=True)
    assert_matches(y, yt)
    assert_matches(rm2, rmt)
    assert_matches(rv2, rvt)
    np.testing.assert_array_equal(rm2, rm)
    for ours, ref in zip(batch_norm_backward(x, cache, w), grads_t, strict=True):
        assert_matches(ours, ref)
    layer = torch.nn.BatchNorm1d(3).double()
    layer(torch.tensor(x))
    _, buffers, _ = batch_norm_layer(x, w, b, init_buffers(3), training=True)
    assert buffers["num_batches_tracked"] == layer.num_batches_tracked.item() == 1


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(2, 6), st.integers(1, 3), st.integers(1, 4)),
                  elements=st.floats(-100, 100)),
       st.floats(-1e3, 1e3))
def test_shift_invariance_and_gradient_identities(x, shift):
    """Adding a constant to the input does not change y; in training, dx sums to 0 over each
    channel, and sum(dx x_hat) = invstd sum(g x_hat) eps / (var + eps), which is 0 for eps = 0
    (y can move neither its mean nor, but for eps, its spread)."""
    y, _, _, cache = batch_norm(x, None, None, training=True)
    y_shifted, _, _, _ = batch_norm(x + shift, None, None, training=True)
    invstd = cache["invstd"]  # an error of eps * |shift| in x - mean, scaled by 1 / std
    atol = 64 * np.finfo(np.float64).eps * (np.abs(x).max() + abs(shift)) * invstd.max()
    np.testing.assert_allclose(y_shifted, y, atol=atol)
    dy = np.random.default_rng(0).normal(size=x.shape)
    dx, _, _ = batch_norm_backward(dy, cache)
    scale = np.abs(dy).max() * invstd.max() * x.size * 16 * np.finfo(np.float64).eps
    np.testing.assert_allclose(dx.sum(axis=(0, 2)), 0, atol=scale)
    x_hat = cache["x_hat"]
    var = channel_stats(x)[1]
    expected = invstd * (dy * x_hat).sum(axis=(0, 2)) * 1e-5 / (var + 1e-5)
    # x - mean is off by up to eps * |x| (the rounded mean), which breaks sum(x_hat) = 0 by that
    # much times invstd per value: the tolerance covers |x_hat| and that absolute error.
    x_hat_scale = np.abs(x_hat).max() + np.abs(x).max() * invstd.max()
    np.testing.assert_allclose((dx * x_hat).sum(axis=(0, 2)), expected,
                               rtol=1e-9, atol=scale * x_hat_scale)


# Keras 3 facts the page states, run on the torch backend.


def test_keras_defaults_and_update_rule():
    """Keras BatchNormalization: momentum 0.99 weighs the OLD average, epsilon 1e-3, and its
    moving variance takes the biased batch variance; its training output uses epsilon."""
    import keras
    layer = keras.layers.BatchNormalization()
    assert layer.momentum == 0.99
    assert layer.epsilon == 1e-3
    assert layer.axis == -1  # channels last
    x = np.random.default_rng(11).normal(size=(6, 3)).astype(np.float32) * 2 + 1
    y = layer(x, training=True).detach().cpu().numpy()  # a torch tensor on this backend
    moving_mean = layer.moving_mean.value.detach().cpu().numpy()
    moving_var = layer.moving_variance.value.detach().cpu().numpy()
    np.testing.assert_allclose(moving_mean, 0.99 * 0 + 0.01 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(moving_var, 0.99 * 1 + 0.01 * x.var(0), rtol=1e-6)
    assert np.all(np.abs(moving_var - (0.99 + 0.01 * x.var(0, ddof=1))) > 1e-4)
    ours, _, _, _ = batch_norm(x, None, None, training=True, eps=1e-3)
    np.testing.assert_allclose(y, ours, rtol=1e-5, atol=1e-5)


def test_keras_accepts_a_batch_of_one():
    """Keras does not refuse one value per channel: x - mean is 0, so the output is beta (0)."""
    import keras
    layer = keras.layers.BatchNormalization()
    y = layer(np.array([[1.0, 2.0, 3.0]], np.float32), training=True).detach().cpu().numpy()
    np.testing.assert_array_equal(y, np.zeros((1, 3)))


def test_float32_statistics_are_rounded_float64_ones_like_torch():
    """torch's float32 batch mean and variance (read from running buffers with momentum 1) are
    within 1 ulp of ours, the float64 statistics rounded, where float32 sums could be farther."""
    x = (np.random.default_rng(12).normal(size=(256, 4, 7)) * 0.1 + 300).astype(np.float32)
    rmt, rvt = torch.zeros(4), torch.zeros(4)
    F.batch_norm(torch.tensor(x), rmt, rvt, training=True, momentum=1.0)
    _, rm, rv, _ = batch_norm(x, np.zeros(4, np.float32), np.zeros(4, np.float32),
                              training=True, momentum=1.0)
    np.testing.assert_array_max_ulp(rm, rmt.numpy(), maxulp=1)
    np.testing.assert_array_max_ulp(rv, rvt.numpy(), maxulp=1)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_two_values_per_channel_gradient(dtype):
    """M = 2: x_hat = +-sqrt(var / (var + eps)) and dx = w (g - mean g) / sqrt(var + eps) times
    eps / (var + eps), both in ours and in torch (which rounds the cancelling terms)."""
    x, w, b, rm, rv, dy = inputs((2, 3), dtype, seed=13)
    _, _, _, cache = batch_norm(x, rm, rv, w, b, True)
    _, var, _ = channel_stats(x)
    magnitude = np.sqrt(var / (var + 1e-5))
    np.testing.assert_allclose(np.abs(cache["x_hat"]), np.tile(magnitude, (2, 1)), rtol=1e-14)
    g = dy.astype(np.float64)
    expected = w * (g - g.mean(0)) / np.sqrt(var + 1e-5) * 1e-5 / (var + 1e-5)
    dx, _, _ = batch_norm_backward(dy, cache, w)
    np.testing.assert_allclose(dx, expected, rtol=TOLERANCE[np.dtype(dtype)]["rtol"] * 10,
                               atol=TOLERANCE[np.dtype(dtype)]["atol"] * 1e-3)
    _, _, _, grads_t = torch_batch_norm(x, rm, rv, w, b, dy, training=True)
    assert_matches(dx, grads_t[0], atol=torch_grad_atols(x, w, dy, var)[0])
    assert np.abs(expected).max() < 1e-3 * np.abs(w * g / np.sqrt(var + 1e-5)).max()


def test_keras_variance_is_one_pass_and_fails_for_a_large_float32_mean():
    """Keras 3 on its torch backend computes the batch variance as E[x^2] - E[x]^2 in float32:
    for 64 values of spread 1 around 1e4 both terms lie in [2^26, 2^27), where float32 values
    are 8 apart, so its variance is a multiple of 8 and misses the true one (here in [0.5, 4])
    by at least 0.5; ours matches the float64 variance."""
    import keras
    x = (np.random.default_rng(14).normal(size=(64, 1)) + 1e4).astype(np.float32)
    true_var = x.astype(np.float64).var(axis=0)
    assert np.all((true_var >= 0.5) & (true_var <= 4))
    layer = keras.layers.BatchNormalization(momentum=0.0)  # moving variance = batch variance
    layer(x, training=True)
    keras_var = layer.moving_variance.value.detach().cpu().numpy().astype(np.float64)
    np.testing.assert_array_equal(keras_var % 8, 0)
    assert np.all(np.abs(keras_var - true_var) >= 0.5)
    _, var, _ = channel_stats(x)
    np.testing.assert_allclose(var, true_var, rtol=1e-12)


def test_without_running_statistics_the_layer_uses_batch_statistics_in_eval():
    """nn.BatchNorm1d(track_running_stats=False) normalizes with the batch statistics even in
    eval mode (ours: running statistics None and training=True), and so refuses a batch of one
    there too."""
    x, w, b, _, _, _ = inputs((5, 3), np.float64, seed=15)
    layer = torch.nn.BatchNorm1d(3, track_running_stats=False).double().eval()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(w))
        layer.bias.copy_(torch.tensor(b))
    y, _, _, _ = batch_norm(x, None, None, w, b, training=True)
    assert_matches(y, layer(torch.tensor(x)))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        layer(torch.tensor(x[:1]))


def test_float32_variance_overflow_differs_from_torch():
    """float32 values of size 1e20: the variance (1e40) overflows float32 in torch, whose output
    is then beta and whose dx is 0; ours keeps the statistics in float64 and normalizes."""
    x = np.array([[1e20, 1.0], [-1e20, 2.0], [3.0, 4.0]], np.float32)
    w, b = np.array([2.0, 1.0], np.float32), np.array([0.5, 0.0], np.float32)
    dy = np.array([[1.0, 1.0], [0.0, 2.0], [0.0, 3.0]], np.float32)
    y, _, _, cache = batch_norm(x, None, None, w, b, training=True)
    yt, _, _, grads_t = torch_batch_norm(x, None, None, w, b, dy, training=True)
    np.testing.assert_array_equal(yt.detach().numpy()[:, 0], b[0])
    np.testing.assert_array_equal(grads_t[0].numpy()[:, 0], 0)
    x64 = x[:, 0].astype(np.float64)
    expected = w[0] * (x64 - x64.mean()) / np.sqrt(x64.var() + 1e-5) + b[0]
    np.testing.assert_allclose(y[:, 0], expected, rtol=TOLERANCE[np.dtype(np.float32)]["rtol"])
    assert_matches(y[:, 1], yt[:, 1])  # the ordinary channel still agrees
    dx, _, _ = batch_norm_backward(dy, cache, w)
    assert np.all(dx[:, 0] != 0)


def test_two_values_per_channel_float32_torch_loses_digits():
    """M = 2 in float32: torch's dx carries a relative error up to about
    eps32 (var + eps) / eps (the cancellation in g - mean g - x_hat mean(g x_hat)), ~3e-3 for
    var = 0.25, while ours (float64 inside) is within float32 rounding of the exact value."""
    x = np.array([[1.0], [2.0]], np.float32)  # var = 0.25
    dy = np.array([[0.3], [-0.8]], np.float32)
    var, eps = 0.25, 1e-5
    g = dy[:, 0].astype(np.float64)
    exact = (g - g.mean()) / np.sqrt(var + eps) * eps / (var + eps)
    _, _, _, cache = batch_norm(x, None, None, None, None, training=True)
    dx = batch_norm_backward(dy, cache)[0][:, 0]
    np.testing.assert_allclose(dx, exact, rtol=2 * EPS32)
    _, _, _, grads_t = torch_batch_norm(x, None, None, None, None, dy, training=True)
    rel = np.abs(grads_t[0].numpy()[:, 0] - exact) / np.abs(exact)
    bound = EPS32 * (var + eps) / eps  # one float32 rounding of the O(|g|) terms, relative
    assert np.all(rel < 4 * bound)
    assert np.all(rel > 1e3 * EPS32)  # far more than float32 rounding of dx itself


def test_keras_variance_around_1e5_is_a_multiple_of_1024_and_can_be_negative():
    """Around 1e5, x^2 lies in [2^33, 2^34), where float32 values are 1024 apart: over 12 draws of
    64 values with spread 1, Keras's one-pass variance (torch backend) is always a multiple of
    1024, never the true value near 1, and is negative (output NaN) at least once; torch and ours
    normalize every draw to variance about 1."""
    import keras
    negative = 0
    for seed in range(12):
        x = (np.random.default_rng(seed).normal(size=(64, 1)) + 1e5).astype(np.float32)
        layer = keras.layers.BatchNormalization(momentum=0.0)
        y = layer(x, training=True).detach().cpu().numpy()
        keras_var = float(layer.moving_variance.value.detach().cpu().numpy()[0])
        assert keras_var % 1024 == 0
        if keras_var < 0:
            negative += 1
            assert np.all(np.isnan(y))
        else:  # the output's spread is the true one over sqrt(var + epsilon): ~0.03 or ~30
            # 5%: Keras forms x - mean in float32, whose ulp near 1e5 is 0.008 of a spread of 1
            true_std = x.astype(np.float64).std()
            np.testing.assert_allclose(y.astype(np.float64).std(),
                                       true_std / np.sqrt(keras_var + 1e-3), rtol=0.05)
        ours, _, _, _ = batch_norm(x, None, None, training=True)
        torch_y = F.batch_norm(torch.tensor(x), None, None, training=True).numpy()
        for out in (ours, torch_y):
            assert abs(out.astype(np.float64).var() - 1) < 1e-3
    assert negative >= 1


@pytest.mark.parametrize("shape", [(4, 0), (4, 0, 3), (2, 0, 2, 2)], ids=str)
def test_zero_channels(shape):
    """An input with no channels gives an empty output, statistics and dx, as in torch (which
    raises an IndexError when given empty weight and bias, so none are passed)."""
    x = np.zeros(shape)
    y, rm, rv, cache = batch_norm(x, np.zeros(0), np.ones(0), None, None, True)
    yt, rmt, rvt, grads_t = torch_batch_norm(x, np.zeros(0), np.ones(0), None, None, x,
                                             training=True)
    for ours, ref in [(y, yt), (rm, rmt), (rv, rvt)]:
        assert_matches(ours, ref)
    assert_matches(batch_norm_backward(x, cache)[0], grads_t[0])


def test_negative_eps_is_refused_in_evaluation():
    """eps < 0 is refused in evaluation too, as torch does; eps = 0 is allowed there."""
    x, rm, rv = np.ones((4, 3)), np.zeros(3), np.ones(3)
    with pytest.raises(ValueError, match="eps must be non-negative"):
        batch_norm(x, rm, rv, training=False, eps=-1e-5)
    with pytest.raises(ValueError, match="eps must be non-negative"):
        F.batch_norm(torch.tensor(x), torch.tensor(rm), torch.tensor(rv), training=False,
                     eps=-1e-5)
    y, _, _, _ = batch_norm(x, rm, rv, training=False, eps=0.0)
    yt = F.batch_norm(torch.tensor(x), torch.tensor(rm), torch.tensor(rv), training=False,
                      eps=0.0)
    assert_matches(y, yt)
