"""L1, L2 and L0 penalties match torch's vector norms and their autograd gradients; soft
thresholding matches softshrink; proximal steps reach exact zeros where subgradient steps do not."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.regularization.l1_l2 import (
    fit,
    l0_norm,
    l1_grad,
    l1_penalty,
    l2_grad,
    l2_penalty,
    l2_step,
    mse_grad,
    proximal_step,
    soft_threshold,
    soft_threshold_grad,
    sparse_regression,
    subgradient_step,
)
from tests.helpers import (
    DTYPES,
    HARD_VALUES,
    SHAPES,
    TOLERANCE,
    assert_matches,
    dtype_id,
    random_input,
    tensor,
)

LAMS = [0.0, 0.1, 3.0]


def torch_value_grad(fn, x):
    """torch's fn(x) and the gradient of its sum, zeros where autograd returns none."""
    xt = tensor(x, grad=True)
    y = fn(xt)
    (g,) = torch.autograd.grad(y.sum(), xt, materialize_grads=True)
    return y.detach(), g


def l1_ref(lam):
    return lambda x: lam * torch.linalg.vector_norm(x, ord=1)


def l2_ref(lam):
    return lambda x: lam / 2 * torch.linalg.vector_norm(x) ** 2


def assert_sum_matches(ours, ref, x):
    """A penalty is a sum over x: its rounding grows with the sum of |terms|, so the absolute
    tolerance is the dtype's relative one times that sum (plus the usual floor)."""
    tol = TOLERANCE[np.dtype(x.dtype)]
    scale = float(np.abs(x.astype(np.float64)).sum() + (x.astype(np.float64) ** 2).sum())
    assert_matches(ours, ref, atol=tol["atol"] + tol["rtol"] * scale)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("lam", LAMS)
def test_l1_l2_match_torch(shape, dtype, lam):
    """L1 and L2 values and gradients agree with torch's vector norms for every shape."""
    x = random_input(shape, dtype)
    for ours, ours_grad, ref in [(l1_penalty, l1_grad, l1_ref), (l2_penalty, l2_grad, l2_ref)]:
        value, grad = torch_value_grad(ref(lam), x)
        assert_sum_matches(ours(x, lam), value, x)
        assert_matches(ours_grad(x, lam), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype):
    """Huge weights and both zeros: L1's gradient is exactly λ·sign with sign(±0) = 0."""
    x = HARD_VALUES.astype(dtype)
    for ours, ours_grad, ref in [(l1_penalty, l1_grad, l1_ref), (l2_penalty, l2_grad, l2_ref)]:
        value, grad = torch_value_grad(ref(0.5), x)
        assert_sum_matches(ours(x, 0.5), value, x)
        assert_matches(ours_grad(x, 0.5), grad)
    g = l1_grad(x, 0.5)
    np.testing.assert_array_equal(g[x == 0], 0.0)
    np.testing.assert_array_equal(g[x != 0], 0.5 * np.sign(x[x != 0]))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nan_like_torch(dtype):
    """A NaN weight makes both penalties NaN; torch's L1 gradient there is 0, and so is ours."""
    x = np.array([np.nan, -1.0, 0.0, 2.0], dtype=dtype)
    value, grad = torch_value_grad(l1_ref(1.0), x)
    assert np.isnan(value.item())
    assert np.isnan(l1_penalty(x, 1.0))
    assert grad[0].item() == 0.0
    assert_matches(l1_grad(x, 1.0), grad, rtol=0, atol=0)
    assert np.isnan(l2_penalty(x, 1.0))
    assert np.isnan(l2_grad(x, 1.0)[0])


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_infinite_weights(dtype):
    """At an infinite weight: both penalties are inf, L1's gradient is ±λ like torch's; our L2
    gradient is λw (inf there, finite elsewhere) where torch's vector_norm(w)**2 gives NaN for
    every element, as the page says."""
    x = np.array([np.inf, -1.0, 0.0, -np.inf], dtype=dtype)
    value, grad = torch_value_grad(l1_ref(0.5), x)
    assert l1_penalty(x, 0.5) == value.item() == np.inf
    assert_matches(l1_grad(x, 0.5), grad, rtol=0, atol=0)
    value, grad = torch_value_grad(l2_ref(0.5), x)
    assert l2_penalty(x, 0.5) == value.item() == np.inf
    assert torch.isnan(grad).all()
    np.testing.assert_array_equal(l2_grad(x, 0.5), [np.inf, -0.5, 0.0, -np.inf])


def test_l2_grad_where_the_float32_norm_underflows():
    """When the float32 norm underflows to 0, torch's gradient of vector_norm(w)**2 is 0; ours
    is λw, exactly what autograd gives for the sum of squares."""
    tiny = np.array([1e-30, -1e-25], dtype=np.float32)
    _, grad = torch_value_grad(l2_ref(0.5), tiny)
    assert not grad.any()
    _, exact = torch_value_grad(lambda t: 0.25 * (t * t).sum(), tiny)
    assert exact.all()
    assert_matches(l2_grad(tiny, 0.5), exact, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_l0_matches_torch(shape, dtype):
    """The L0 count equals vector_norm(ord=0), with zeros, NaN and inf; torch's gradient is 0."""
    x = random_input(shape, dtype)
    if x.size >= 4:
        x.flat[:4] = [0.0, -0.0, np.nan, np.inf]
    value, grad = torch_value_grad(lambda t: torch.linalg.vector_norm(t, ord=0), x)
    assert_matches(l0_norm(x), value, rtol=0, atol=0)
    assert not grad.any()  # the count gives gradient descent nothing to follow


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("t", [0.0, 0.5, 3.0, 1e4])
def test_soft_threshold_matches_softshrink(shape, dtype, t):
    """Soft thresholding and its derivative equal softshrink's, bit for bit."""
    x = random_input(shape, dtype)
    value, grad = torch_value_grad(lambda v: torch.nn.functional.softshrink(v, t), x)
    assert_matches(soft_threshold(x, t), value, rtol=0, atol=0)
    assert_matches(soft_threshold_grad(x, t), grad, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_soft_threshold_hard_inputs(dtype):
    """At ±t, ±0, ±inf and NaN: the same values and derivatives. A zero output is -0 here
    exactly when w < 0; torch's sign of zero depends on where the element sits in the array."""
    t = 0.5
    x = np.concatenate([HARD_VALUES, [-t, t, -np.inf, np.inf, np.nan]]).astype(dtype)
    value, grad = torch_value_grad(lambda v: torch.nn.functional.softshrink(v, t), x)
    ours = soft_threshold(x, t)
    np.testing.assert_array_equal(np.isnan(ours), torch.isnan(value).numpy())
    nonzero = ours != 0
    np.testing.assert_array_equal(np.signbit(ours[nonzero]), np.signbit(value.numpy()[nonzero]))
    zero = ours == 0
    np.testing.assert_array_equal(np.signbit(ours[zero]), x[zero] < 0)
    assert_matches(ours, value, rtol=0, atol=0, equal_nan=True)
    assert_matches(soft_threshold_grad(x, t), grad, rtol=0, atol=0)


def test_negative_or_infinite_threshold_refused():
    """t < 0, t = inf and NaN raise ValueError; torch's softshrink refuses t < 0 and t = inf
    too (with t = inf the formula would give inf - inf = NaN at an infinite weight)."""
    for t in (-0.1, np.inf):
        with pytest.raises(RuntimeError):
            torch.nn.functional.softshrink(torch.ones(2), t)
    for t in (-0.1, np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match="finite and >= 0"):
            soft_threshold(np.array([np.inf, 1.0]), t)


finite = st.floats(-1e6, 1e6)


@given(hnp.arrays(np.float64, st.integers(0, 20), elements=finite), st.floats(1e-3, 1e3))
def test_moreau_decomposition(w, t):
    """Identity: w = prox_{t|.|}(w) + t·clip(w / t, -1, 1) (soft thresholding + projection)."""
    rebuilt = soft_threshold(w, t) + t * np.clip(w / t, -1, 1)
    np.testing.assert_allclose(rebuilt, w, rtol=1e-12, atol=1e-12 * t)


@given(finite, st.floats(0, 1e3), st.floats(1e-6, 10))
def test_soft_threshold_minimizes_prox_objective(w, t, delta):
    """soft_threshold(w, t) minimizes ½(z - w)² + t|z|: no point at distance delta does better."""
    z = float(soft_threshold(np.array(w), t))

    def obj(v):
        return 0.5 * (v - w) ** 2 + t * abs(v)

    slack = 1e-12 * (w * w + t * abs(w) + 1)  # rounding of objectives of that size
    for other in (z - delta, z + delta, 0.0, w):
        assert obj(z) <= obj(other) + slack


@given(hnp.arrays(np.float64, st.integers(1, 20), elements=finite),
       st.floats(1e-3, 1e3), st.booleans())
def test_homogeneity(w, c, negative):
    """L1 scales by |c|, L2 by c², and the L0 count not at all: L0 is not a norm."""
    c = -c if negative else c
    tiny = 1e-300  # squares below this underflow into subnormals and lose relative accuracy
    np.testing.assert_allclose(l1_penalty(c * w, 1.0), abs(c) * l1_penalty(w, 1.0), rtol=1e-12,
                               atol=tiny)
    np.testing.assert_allclose(l2_penalty(c * w, 1.0), c * c * l2_penalty(w, 1.0), rtol=1e-12,
                               atol=tiny)
    underflow = np.any((c * w == 0) & (w != 0))
    assert l0_norm(c * w) == l0_norm(w) or underflow


# The demonstration on the page: a seeded sparse regression.
X, Y, W_TRUE = sparse_regression()
LIP = np.linalg.eigvalsh(X.T @ X / len(Y)).max()
LR, LAM = 1 / LIP, 0.1


def test_proximal_steps_solve_the_lasso_with_exact_zeros():
    """ISTA reaches the lasso optimum (its optimality conditions hold) with exact zeros."""
    w = fit(X, Y, proximal_step, LAM, LR)
    g = mse_grad(w, X, Y)
    zero = w == 0
    assert zero.sum() == 7
    assert not zero[:3].any()
    # optimality: g_j = -λ sign(w_j) where w_j != 0, |g_j| <= λ where w_j = 0
    np.testing.assert_allclose(g[~zero], -LAM * np.sign(w[~zero]), rtol=0, atol=1e-10)
    assert np.all(np.abs(g[zero]) < LAM)


def test_l2_shrinks_but_never_zeros():
    """Gradient steps with L2 reach the ridge solution (X'X/n + λI)^-1 X'y/n: no zero weight."""
    w = fit(X, Y, l2_step, LAM, LR)
    ridge = np.linalg.solve(X.T @ X / len(Y) + LAM * np.eye(X.shape[1]), X.T @ Y / len(Y))
    np.testing.assert_allclose(w, ridge, rtol=0, atol=1e-10)
    assert np.all(w != 0)
    ols = np.linalg.lstsq(X, Y, rcond=None)[0]
    assert np.linalg.norm(w) < np.linalg.norm(ols)  # shrunk


def test_subgradient_steps_hover_near_zero():
    """Subgradient steps land on no exact zero: the lasso's zero weights end in the band
    0 < |w_j| <= η(λ + |g_j|), one step's length, because each step jumps over zero."""
    w = fit(X, Y, subgradient_step, LAM, LR)
    lasso_zero = fit(X, Y, proximal_step, LAM, LR) == 0
    assert np.all(w != 0)
    g = mse_grad(w, X, Y)
    assert np.all(np.abs(w[lasso_zero]) <= LR * (LAM + np.abs(g[lasso_zero])))
