"""SELU matches torch.nn.functional.selu; its constants are torch's and the fixed point's; deep
SELU stacks with LeCun-normal weights keep mean and variance near (0, 1); AlphaDropout as stated."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.activations.elu import elu
from snippets.activations.selu import (
    ALPHA,
    SCALE,
    selu,
    selu_constants,
    selu_grad,
    stack_moments,
)
from tests.helpers import (
    DTYPES,
    HARD_VALUES,
    SHAPES,
    assert_matches,
    dtype_id,
    random_input,
    torch_elementwise,
)

F = torch.nn.functional
HARD = np.concatenate([HARD_VALUES, [-np.inf, np.inf, -1e-300, -5e-324]])
ARRAYS = hnp.arrays(np.float64, st.integers(0, 30), elements=st.floats(-1e4, 1e4))
SEEDS = range(10)


def relu(z):
    return np.maximum(z, 0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_value_and_gradient_match_torch(shape, dtype):
    """Values and d(sum)/dx agree with torch for every shape and both precisions."""
    x = random_input(shape, dtype)
    y, grad = torch_elementwise(F.selu, x)
    assert_matches(selu(x), y)
    assert_matches(selu_grad(x), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype):
    """Inputs of +-1e4, +-inf, signed zeros and tiny negatives: torch's values and derivatives,
    with no overflow warning (warnings are errors in this suite)."""
    x = HARD.astype(dtype)
    y, grad = torch_elementwise(F.selu, x)
    assert_matches(selu(x), y)
    assert_matches(selu_grad(x), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_signed_zeros_and_kink_like_torch(dtype):
    """SELU(+-0) = +-0 with torch's signs; the derivative at 0 is the left slope, lambda alpha."""
    x = np.array([0.0, -0.0], dtype=dtype)
    y, grad = torch_elementwise(F.selu, x)
    np.testing.assert_array_equal(np.signbit(selu(x)), torch.signbit(y).numpy())
    np.testing.assert_array_equal(np.signbit(selu(x)), [False, True])
    assert_matches(selu_grad(x), grad)
    np.testing.assert_allclose(selu_grad(x), SCALE * ALPHA, rtol=1e-7)


def test_nan_propagates():
    """NaN in, NaN out, for the value (like torch) and for the derivative."""
    x = np.array([np.nan, -1.0, 1.0])
    y, _ = torch_elementwise(F.selu, x)
    assert np.isnan(selu(x)[0])
    assert torch.isnan(y[0])
    assert np.isnan(selu_grad(x)[0])


def torch_grad_at_nan(n, dtype=torch.float64, step=1):
    """torch's SELU derivative at every NaN of torch.full((n,), nan)[::step]."""
    xt = torch.full((n,), float("nan"), dtype=dtype, requires_grad=True)
    F.selu(xt[::step]).sum().backward()
    return xt.grad[::step]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
def test_torch_derivative_at_nan_depends_on_the_code_path(dtype):
    """The difference stated on the page: torch's derivative at NaN is NaN from its vector code
    (64 contiguous NaNs, whole blocks on every CPU) and lambda from its scalar code (the tail
    after the last block, a one-element tensor, a strided view); ours is NaN throughout."""
    lam = torch.tensor(SCALE, dtype=dtype).item()
    assert torch.isnan(torch_grad_at_nan(64, dtype)).all()
    assert torch_grad_at_nan(65, dtype)[-1] == lam
    assert torch_grad_at_nan(1, dtype)[0] == lam
    assert (torch_grad_at_nan(128, dtype, step=2) == lam).all()
    assert np.isnan(selu_grad(np.full(65, np.nan))).all()


def test_constants_are_torchs_to_the_last_bit():
    """torch's selu(1) is lambda and -selu(-inf)/selu(1) is alpha, exactly our float64 constants."""
    one, floor = F.selu(torch.tensor([1.0, -math.inf], dtype=torch.float64)).tolist()
    assert one == SCALE
    assert -floor / one == ALPHA
    assert floor == -(SCALE * ALPHA)


def test_derived_constants_match_torchs():
    """The closed forms from the fixed-point equations give torch's constants to a few ulps."""
    alpha, scale = selu_constants()
    np.testing.assert_allclose([alpha, scale], [ALPHA, SCALE], rtol=1e-15, atol=0)


def test_standard_normal_is_a_fixed_point():
    """For z ~ N(0, 1), E[SELU(z)] = 0 and E[SELU(z)^2] = 1, by Gauss-Legendre quadrature on each
    side of the kink (the integrands are smooth there; the tails beyond 12 are below 1e-30)."""
    nodes, weights = np.polynomial.legendre.leggauss(200)
    moments = np.zeros(2)
    for lo, hi in ((-12.0, 0.0), (0.0, 12.0)):
        z = (hi - lo) / 2 * nodes + (hi + lo) / 2
        w = (hi - lo) / 2 * weights * np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
        s = selu(z)
        moments += [np.sum(w * s), np.sum(w * s * s)]
    np.testing.assert_allclose(moments, [0.0, 1.0], rtol=0, atol=1e-14)


@given(ARRAYS)
def test_selu_is_a_scaled_elu(x):
    """SELU(x) = lambda ELU_alpha(x), the definition on the page."""
    np.testing.assert_allclose(selu(x), SCALE * elu(x, ALPHA), rtol=1e-15, atol=0)


@given(ARRAYS)
def test_bounded_below_and_derivative_identity(x):
    """SELU(x) >= -lambda alpha, and on x <= 0 the derivative equals SELU(x) + lambda alpha."""
    y, grad = selu(x), selu_grad(x)
    assert (y >= -SCALE * ALPHA).all()
    neg = x <= 0
    np.testing.assert_allclose(grad[neg], y[neg] + SCALE * ALPHA, rtol=0, atol=1e-15)


def test_stack_moments_is_the_mlp_it_describes():
    """stack_moments equals the same bias-free MLP run in torch on the same draws."""
    depth, width, batch, c = 5, 8, 16, 1.0
    rng = np.random.default_rng(3)
    h = torch.tensor(rng.standard_normal((batch, width)))
    means, variances = [], []
    for _ in range(depth):
        w = torch.tensor(rng.standard_normal((width, width)) * np.sqrt(c / width))
        h = F.selu(h @ w)
        means.append(h.mean().item())
        variances.append(h.var(unbiased=False).item())
    ours = stack_moments(selu, c, depth=depth, width=width, batch=batch, seed=3)
    np.testing.assert_allclose(ours, [means, variances], rtol=1e-12, atol=1e-14)


def test_lecun_normal_keeps_every_layer_near_zero_mean_unit_variance():
    """SELU with W ~ N(0, 1/n): over 64 layers and 10 seeds, every layer's variance stays in
    [0.5, 2] and its mean within 0.25 of 0; layer 64's variance varies by less than 2x."""
    last = []  # over 100 seeds: variances in [0.71, 1.58], |mean| < 0.14, ratio below 1.72
    for seed in SEEDS:
        means, variances = stack_moments(selu, 1.0, seed=seed)
        assert variances.min() > 0.5
        assert variances.max() < 2.0
        assert np.abs(means).max() < 0.25
        last.append(variances[-1])
    assert max(last) / min(last) < 2


def test_he_normal_makes_selu_explode():
    """SELU with W ~ N(0, 2/n): the variance has left the band by far (> 10) at layer 32."""
    for seed in SEEDS:  # the first 32 layers of the page's 64 (same draws)
        assert stack_moments(selu, 2.0, depth=32, seed=seed)[1][31] > 10


def test_relu_stack_drifts_with_the_draw():
    """ReLU with He init: the mean exceeds a third of a standard deviation at every layer, and
    layer 64's variance varies by more than 10x from one seed to the next (no pull back)."""
    last = []
    for seed in SEEDS:
        means, variances = stack_moments(relu, 2.0, seed=seed)
        assert (means > np.sqrt(variances) / 3).all()  # over 100 seeds the least is 0.39
        last.append(variances[-1])
    assert max(last) / min(last) > 10


@pytest.mark.parametrize(("c", "ceiling"), [(1 / 3, 1e-3), (0.5625, 0.1)],
                         ids=["linear-default", "selu-gain"])
def test_torch_default_scales_shrink_the_variance(c, ceiling):
    """The page's pitfall: with c = 1/3 (nn.Linear's default) or c = 0.75^2 (the 'selu' gain)
    the variance at layer 64 is far below 1, for every seed."""
    for seed in SEEDS:
        assert stack_moments(selu, c, seed=seed)[1][-1] < ceiling


def test_torch_init_scales_are_as_stated():
    """nn.Linear's default weights have variance 1/(3n); calculate_gain('selu') is 3/4; and
    kaiming_normal_ with 'linear' gives 1/n (LeCun normal), with 'selu' (3/4)^2 / n."""
    n, rows = 64, 20000
    assert torch.nn.init.calculate_gain("selu") == 0.75
    gen = torch.Generator().manual_seed(0)
    linear = torch.nn.init.kaiming_normal_(torch.empty(rows, n), nonlinearity="linear",
                                           generator=gen)
    gain = torch.nn.init.kaiming_normal_(torch.empty(rows, n), nonlinearity="selu",
                                         generator=gen)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        default = torch.nn.Linear(n, rows).weight.detach()
    # 1.28 million draws: the variance estimates are within 1% of the truth
    np.testing.assert_allclose(n * linear.var().item(), 1.0, rtol=0.01)
    np.testing.assert_allclose(n * gain.var().item(), 0.5625, rtol=0.01)
    np.testing.assert_allclose(n * default.var().item(), 1 / 3, rtol=0.01)


@pytest.mark.parametrize("p", [0.1, 0.2, 0.5])
def test_alpha_dropout_keeps_mean_and_variance_where_dropout_does_not(p):
    """On SELU outputs of N(0, 1) inputs, AlphaDropout keeps mean 0 and variance 1 (to sampling
    error); inverted Dropout keeps the mean but multiplies the variance by 1/(1 - p)."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        z = F.selu(torch.randn(1_000_000, dtype=torch.float64))
        alpha = torch.nn.AlphaDropout(p).train()(z)
        plain = torch.nn.Dropout(p).train()(z)
    assert abs(alpha.mean().item()) < 0.01
    assert abs(alpha.var().item() - 1) < 0.01
    assert abs(plain.mean().item()) < 0.01
    np.testing.assert_allclose(plain.var().item(), 1 / (1 - p), rtol=0.01)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_is_the_affine_map_on_the_page(p):
    """torch's AlphaDropout sets dropped units to alpha' = -lambda alpha and then applies
    a x + b with a = ((1 - p)(1 + p alpha'^2))^(-1/2), b = -a p alpha'; in eval mode it is the
    identity."""
    saturation = -SCALE * ALPHA
    a = ((1 - p) * (1 + p * saturation**2)) ** -0.5
    b = -a * p * saturation
    with torch.random.fork_rng():
        torch.manual_seed(0)
        x = torch.randn(10_000, dtype=torch.float64)
        layer = torch.nn.AlphaDropout(p)
        out = layer.train()(x).numpy()
        assert torch.equal(layer.eval()(x), x)
    dropped = np.isclose(out, a * saturation + b, rtol=1e-12, atol=0)
    assert 0.8 * p < dropped.mean() < 1.2 * p  # the dropped fraction is about p
    np.testing.assert_allclose(out[~dropped], a * x.numpy()[~dropped] + b, rtol=1e-12, atol=1e-12)


def test_in_place_torch_gradient_loses_the_tiny_derivative():
    """The page's pitfall: torch's in-place SELU backward is 0 at x = -40, where the derivative
    lambda alpha e^x is about 7.5e-18; ours keeps it to full precision."""
    x = np.array([-40.0])
    xt = torch.tensor(x, requires_grad=True)
    F.selu(xt.clone(), inplace=True).sum().backward()
    assert xt.grad[0] == 0.0
    np.testing.assert_allclose(selu_grad(x), SCALE * ALPHA * np.exp(x), rtol=1e-15, atol=0)
    assert selu_grad(x)[0] > 7e-18
