"""ELU and CELU (any alpha) and their derivatives match torch.nn.functional.elu and .celu."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.activations.elu import celu, celu_grad, elu, elu_grad
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
ELU_ALPHAS = [1.0, 0.5, 2.0, 0.0, -1.0]  # torch accepts 0 (ReLU) and negative values too
CELU_ALPHAS = [1.0, 0.5, 2.0, -1.0]  # torch refuses 0 only
# hard inputs plus infinities and tiny negatives down to the smallest subnormal
HARD = np.concatenate([HARD_VALUES, [-np.inf, np.inf, -1e-300, -1e-20, -5e-324]])
ARRAYS = hnp.arrays(np.float64, st.integers(0, 30), elements=st.floats(-1e4, 1e4))


@pytest.mark.parametrize("alpha", ELU_ALPHAS, ids=lambda a: f"alpha-{a:g}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_elu_value_and_gradient_match_torch(shape, dtype, alpha):
    """ELU values and d(sum)/dx agree with torch for every shape, precision and alpha."""
    x = random_input(shape, dtype)
    y, grad = torch_elementwise(F.elu, x, alpha=alpha)
    assert_matches(elu(x, alpha), y)
    assert_matches(elu_grad(x, alpha), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_elu_default_alpha_is_torchs(dtype):
    """Called without alpha, ELU uses alpha = 1 like torch."""
    x = random_input((50,), dtype)
    y, grad = torch_elementwise(F.elu, x)
    assert_matches(elu(x), y)
    assert_matches(elu_grad(x), grad)


@pytest.mark.parametrize("alpha", ELU_ALPHAS, ids=lambda a: f"alpha-{a:g}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_elu_hard_inputs(dtype, alpha):
    """Inputs of +-1e4, +-inf, signed zeros and tiny negatives: torch's values and derivatives,
    with no overflow warning (warnings are errors in this suite)."""
    x = HARD.astype(dtype)
    y, grad = torch_elementwise(F.elu, x, alpha=alpha)
    assert_matches(elu(x, alpha), y)
    assert_matches(elu_grad(x, alpha), grad)


@pytest.mark.parametrize("alpha", ELU_ALPHAS, ids=lambda a: f"alpha-{a:g}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_elu_keeps_the_sign_of_zero_like_torch(dtype, alpha):
    """ELU(+0) = +0 and ELU(-0) = -0 for every alpha, as torch returns them."""
    x = np.tile(np.array([0.0, -0.0], dtype=dtype), 20)  # 40: torch's vector and scalar code
    y, _ = torch_elementwise(F.elu, x, alpha=alpha)
    np.testing.assert_array_equal(np.signbit(elu(x, alpha)), torch.signbit(y).numpy())
    np.testing.assert_array_equal(np.signbit(elu(x, alpha)), np.signbit(x))


@pytest.mark.parametrize("alpha", ELU_ALPHAS, ids=lambda a: f"alpha-{a:g}")
def test_elu_derivative_at_zero_is_alpha(alpha):
    """At the kink x = 0 (either sign) torch's derivative is alpha, the left one; so is ours."""
    x = np.array([0.0, -0.0])
    _, grad = torch_elementwise(F.elu, x, alpha=alpha)
    assert_matches(elu_grad(x, alpha), grad, rtol=0, atol=0)
    assert_matches(elu_grad(x, alpha), np.array([alpha, alpha]), rtol=0, atol=0)


def test_nan_propagates():
    """NaN in, NaN out, for the values and derivatives of ELU and CELU; torch's values agree."""
    x = np.array([np.nan, -1.0, 1.0])
    for ours, ours_grad, reference in ((elu, elu_grad, F.elu), (celu, celu_grad, F.celu)):
        y, _ = torch_elementwise(reference, x)
        assert np.isnan(ours(x)[0])
        assert torch.isnan(y[0])
        assert np.isnan(ours_grad(x)[0])


def torch_grad_at_nan(reference, n, dtype=torch.float64, step=1):
    """torch's derivative at every NaN of torch.full((n,), nan)[::step]."""
    xt = torch.full((n,), float("nan"), dtype=dtype, requires_grad=True)
    reference(xt[::step]).sum().backward()
    return xt.grad[::step]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("reference", [F.elu, F.celu], ids=lambda f: f.__name__)
def test_torch_derivative_at_nan_depends_on_the_code_path(reference, dtype):
    """The difference stated on the page: torch's derivative at NaN is NaN from its vector code
    (a contiguous tensor of 64, a whole number of blocks for every CPU capability) and 1 from its
    scalar code (a one-element tensor, the tail after the last block, a strided view)."""
    assert torch.isnan(torch_grad_at_nan(reference, 64, dtype)).all()
    assert torch_grad_at_nan(reference, 65, dtype)[-1] == 1.0  # the tail
    assert torch_grad_at_nan(reference, 1, dtype)[0] == 1.0
    assert (torch_grad_at_nan(reference, 128, dtype, step=2) == 1.0).all()
    ours_grad = elu_grad if reference is F.elu else celu_grad
    assert np.isnan(ours_grad(np.full(65, np.nan))).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_tiny_negatives_keep_full_relative_precision(dtype):
    """For x in [-1e-6, -1e-30], ELU(x) = x(1 + x/2 + x^2/6) to the dtype's relative tolerance,
    where the naive exp(x) - 1 loses most digits (the pitfall on the page)."""
    x = -np.geomspace(1e-30, 1e-6, 200).astype(dtype)
    x64 = x.astype(np.float64)
    series = (x64 * (1 + x64 / 2 + x64**2 / 6)).astype(dtype)  # series error < x^4/24
    assert_matches(elu(x), series, atol=0)
    naive = np.exp(x) - 1
    assert np.abs(naive / series - 1).max() > 1e-2  # at least one value is off by over 1%


def test_naive_form_loses_digits_where_expm1_does_not():
    """The page's claim: at x = -1e-12, exp(x) - 1 is off by over 1e-5 relative; ours is the
    correctly rounded x + x^2/2 (the next term, x^3/6 ~ 2e-37, is far below an ulp of x)."""
    x = np.array([-1e-12])
    assert abs((np.exp(x) - 1) / x - 1)[0] > 1e-5
    assert elu(x)[0] == -1e-12 + 5e-25


def test_in_place_torch_gradient_cancels_where_ours_does_not():
    """The page's in-place pitfall: torch's in-place backward (y + alpha) loses the tiny
    derivative e^x for very negative x, while alpha * e^x keeps it to full precision."""
    x = np.array([-30.0, -40.0])
    xt = torch.tensor(x, requires_grad=True)
    F.elu(xt.clone(), inplace=True).sum().backward()
    in_place = xt.grad.numpy()
    assert abs(in_place[0] / np.exp(-30.0) - 1) > 1e-4  # only three digits right
    assert in_place[1] == 0.0  # all lost: e^-40 is below the spacing of floats near 1
    np.testing.assert_allclose(elu_grad(x), np.exp(x), rtol=1e-15, atol=0)


def test_in_place_with_negative_alpha_cannot_be_differentiated_in_torch():
    """The page's claim: torch refuses the backward of an in-place ELU with negative alpha."""
    xt = torch.tensor([-1.0, 1.0], requires_grad=True)
    y = F.elu(xt.clone(), alpha=-1.0, inplace=True)
    with pytest.raises(RuntimeError, match="negative slope"):
        y.sum().backward()


@pytest.mark.parametrize("alpha", CELU_ALPHAS, ids=lambda a: f"alpha-{a:g}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_celu_value_and_gradient_match_torch(shape, dtype, alpha):
    """CELU values and d(sum)/dx agree with torch for every shape, precision and alpha."""
    x = random_input(shape, dtype)
    y, grad = torch_elementwise(F.celu, x, alpha=alpha)
    assert_matches(celu(x, alpha), y)
    assert_matches(celu_grad(x, alpha), grad)


@pytest.mark.parametrize("alpha", CELU_ALPHAS, ids=lambda a: f"alpha-{a:g}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_celu_hard_inputs(dtype, alpha):
    """CELU on +-1e4, +-inf, signed zeros, tiny negatives: torch's values and derivatives,
    including the infinities a negative alpha produces."""
    x = HARD.astype(dtype)
    y, grad = torch_elementwise(F.celu, x, alpha=alpha)
    assert_matches(celu(x, alpha), y)
    assert_matches(celu_grad(x, alpha), grad)


@pytest.mark.parametrize("alpha", [0.3, 0.1, 1 / 3, 1.7])
def test_torch_float64_celu_gradient_rounds_alpha_to_float32(alpha):
    """The difference on the page: for an alpha float32 cannot hold, torch's float64 CELU
    derivative is (alpha / a) e^(x / a) with a = float32(alpha), off by over 1e-8 relative;
    its values and its float32 derivative are right; ours is e^(x / alpha) to rounding."""
    x = np.array([-5.0, -1.0, -0.1, 0.0, 2.0])
    y, grad = torch_elementwise(F.celu, x, alpha=alpha)
    exact = np.where(x > 0, 1.0, np.exp(np.minimum(x, 0) / alpha))
    assert np.abs(grad.numpy() / exact - 1).max() > 1e-8
    a = float(np.float32(alpha))
    rounded = np.where(x > 0, 1.0, alpha * (1 / a) * np.exp(np.minimum(x, 0) * (1 / a)))
    np.testing.assert_allclose(grad.numpy(), rounded, rtol=1e-14, atol=0)
    assert_matches(celu(x, alpha), y)
    np.testing.assert_allclose(celu_grad(x, alpha), exact, rtol=1e-15, atol=0)
    x32 = x.astype(np.float32)
    assert_matches(celu_grad(x32, alpha), torch_elementwise(F.celu, x32, alpha=alpha)[1])


@pytest.mark.parametrize("alpha", [1e-300, -1e-300])
def test_celu_with_tiny_alpha_overflows_quietly_like_torch(alpha):
    """With |alpha| = 1e-300, x / alpha overflows to -inf or +inf: torch's values, no warning."""
    x = np.array([-1e10, -1.0, -1e-300, 0.0, 1.0])
    y, _ = torch_elementwise(F.celu, x, alpha=alpha)
    assert_matches(celu(x, alpha), y)
    far = 0.0 if alpha > 0 else np.inf  # e^(x / alpha) for x = -1e10 and x = -1
    expected = [far, far, np.exp(-1e-300 / alpha), 1.0, 1.0]
    np.testing.assert_allclose(celu_grad(x, alpha), expected, rtol=1e-15, atol=0)


def test_celu_refuses_alpha_zero():
    """alpha = 0 divides by zero: ours raises ValueError, torch a RuntimeError."""
    with pytest.raises(ValueError, match="alpha cannot be 0"):
        celu(np.ones(3), 0.0)
    with pytest.raises(ValueError, match="alpha cannot be 0"):
        celu_grad(np.ones(3), 0.0)
    with pytest.raises(RuntimeError, match="alpha cannot be 0"):
        F.celu(torch.ones(3), alpha=0.0)


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_celu_derivative_is_continuous_at_zero_unlike_elu(alpha):
    """Just left of 0, CELU's slope is 1 (= its slope on the right); ELU's is alpha."""
    left = np.array([-1e-12])
    np.testing.assert_allclose(celu_grad(left, alpha), 1.0, rtol=1e-11)
    np.testing.assert_allclose(elu_grad(left, alpha), alpha, rtol=1e-11)


@given(ARRAYS)
def test_celu_with_alpha_one_is_elu(x):
    """CELU and ELU coincide, bit for bit, when alpha = 1."""
    np.testing.assert_array_equal(celu(x, 1.0), elu(x, 1.0))
    np.testing.assert_array_equal(celu_grad(x, 1.0), elu_grad(x, 1.0))


@given(ARRAYS, st.floats(0.1, 10.0))
def test_celu_is_a_rescaled_elu(x, alpha):
    """CELU_a(x) = a ELU_1(x / a): the same curve, stretched by a in both directions."""
    np.testing.assert_allclose(celu(x, alpha), alpha * elu(x / alpha), rtol=1e-14, atol=1e-300)


@given(ARRAYS)
def test_elu_with_alpha_zero_is_relu(x):
    """With alpha = 0 the negative side is flat: ELU_0(x) = max(x, 0) and slope 0 there."""
    np.testing.assert_array_equal(elu(x, 0.0), np.maximum(x, 0))
    np.testing.assert_array_equal(elu_grad(x, 0.0), (x > 0).astype(x.dtype))


def test_elu_with_alpha_zero_returns_negative_zeros_like_torch():
    """The page's caveat: ELU_0 gives -0 for negative inputs (0 * (e^x - 1)), as torch does,
    where ReLU gives +0."""
    x = np.array([-3.0, -1e-8, -np.inf])
    y, _ = torch_elementwise(F.elu, x, alpha=0.0)
    assert np.signbit(elu(x, 0.0)).all()
    assert torch.signbit(y).all()
    assert not torch.signbit(F.relu(torch.tensor(x))).any()


@given(ARRAYS, st.floats(1e-12, 1e-6))
def test_celu_tends_to_relu_as_alpha_goes_to_zero(x, alpha):
    """For a small alpha > 0, CELU is within alpha of max(x, 0): the limit stated on the page."""
    assert np.all(np.abs(celu(x, alpha) - np.maximum(x, 0)) <= alpha)


@pytest.mark.parametrize("alpha", [-1.0, -0.5])
def test_celu_with_negative_alpha_falls_to_minus_infinity(alpha):
    """The page's remark: with alpha < 0, CELU's negative side falls to -inf (as in torch)
    instead of levelling off at -alpha, so it is no longer a rescaled ELU."""
    x = np.array([-np.inf, -1e4, -100.0, -10.0])
    y, _ = torch_elementwise(F.celu, x, alpha=alpha)
    assert_matches(celu(x, alpha), y)
    y = celu(x, alpha)
    assert (y[:2] == -np.inf).all()  # e^(x / alpha) overflows
    assert y[2] < -1e40  # far below -alpha
    assert y[3] < -1e4
