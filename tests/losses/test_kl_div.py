"""KL divergence matches torch.nn.functional.kl_div, values and gradients."""

import warnings

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Independent, Normal, kl_divergence

from snippets.losses.kl_div import (
    diagonal_gaussian_kl,
    diagonal_gaussian_kl_grad,
    fit_gaussian,
    gaussian_kl,
    gaussian_kl_grad,
    kl_div,
    kl_div_grad,
    log_mixture,
    log_normal,
)
from tests.helpers import DTYPES, TOLERANCE, assert_matches, dtype_id, tensor

F = torch.nn.functional
SHAPES = [(), (0,), (0, 4), (6,), (3, 4), (2, 3, 4)]
REDUCTIONS = ["none", "mean", "batchmean", "sum"]


def _distributions(shape, dtype, seed=0):
    """log q and p: distributions along the last axis, with some p exactly 0."""
    rng = np.random.default_rng(seed)
    q = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]) if shape and shape[-1] else None
    if q is None:  # scalar or empty: any positive values will do
        q, p = rng.uniform(0.1, 1, size=shape), rng.uniform(0, 1, size=shape)
    else:
        p = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
        p.reshape(-1, shape[-1])[:, 0] = 0.0  # a zero probability in every row
    return np.log(q).astype(dtype), p.astype(dtype)


def _torch_kl(x, t, reduction, log_target):
    """torch's kl_div (its "mean" warning silenced) and d(sum of it)/d input."""
    xt = tensor(x, grad=True)
    with warnings.catch_warnings():  # "mean" warns that it is not the KL per sample
        warnings.simplefilter("ignore", UserWarning)
        loss = F.kl_div(xt, tensor(t), reduction=reduction, log_target=log_target)
    loss.sum().backward()
    return loss, xt.grad


@pytest.mark.parametrize("log_target", [False, True], ids=["prob-target", "log-target"])
@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matches_torch(shape, dtype, reduction, log_target):
    """Values and gradients agree with torch for every reduction, with and without log_target."""
    logq, p = _distributions(shape, dtype)
    t = np.log(p + 0.01).astype(dtype) if log_target else p
    loss, grad = _torch_kl(logq, t, reduction, log_target)
    assert_matches(kl_div(logq, t, reduction, log_target), loss)
    assert_matches(kl_div_grad(logq, t, reduction, log_target), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_zero_target_terms_are_zero(dtype):
    """0 log 0 = 0: a zero target contributes exactly 0, whatever the (finite) input."""
    x = np.array([-1e4, -3.0, 0.0], dtype)
    t = np.zeros(3, dtype)
    np.testing.assert_array_equal(kl_div(x, t, reduction="none"), 0)
    assert_matches(kl_div(x, t, reduction="none"), _torch_kl(x, t, "none", False)[0])


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_log_zero_input_with_zero_target_is_nan_like_torch(dtype):
    """Input log q = -inf where p = 0 gives NaN (0 * -inf) in torch and here; the grad is 0."""
    x = np.array([-np.inf, 0.0], dtype)
    t = np.array([0.0, 1.0], dtype)
    loss, grad = _torch_kl(x, t, "sum", False)
    assert np.isnan(loss.item())
    assert np.isnan(kl_div(x, t, reduction="sum"))
    assert_matches(kl_div_grad(x, t, reduction="sum"), grad)


def test_mean_warns_in_torch_and_differs_from_batchmean():
    """'mean' divides by every element, 'batchmean' by the batch: they differ by the class count."""
    logq, p = _distributions((3, 4), np.float64)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(tensor(logq), tensor(p), reduction="mean")
    ratio = kl_div(logq, p, "batchmean") / kl_div(logq, p, "mean")
    assert ratio == pytest.approx(4)


def test_scalar_batchmean_is_the_sum():
    """A 0-d input has no batch dimension: torch's 'batchmean' then returns the sum."""
    x, t = np.array(-0.5), np.array(0.3)
    assert_matches(kl_div(x, t, "batchmean"), _torch_kl(x, t, "batchmean", False)[0])
    assert kl_div(x, t, "batchmean") == kl_div(x, t, "sum")


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_batchmean_is_cross_entropy_minus_entropy(n, c, seed):
    """Identity: KL(p||q) = H(p, q) - H(p) >= 0, and it is 0 when q = p."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(c), size=n)
    q = rng.dirichlet(np.ones(c), size=n)
    cross = -(p * np.log(q)).sum() / n
    entropy = -(p * np.log(p)).sum() / n
    kl = kl_div(np.log(q), p, "batchmean")
    np.testing.assert_allclose(kl, cross - entropy, rtol=1e-9, atol=1e-12)
    assert kl >= 0
    assert kl_div(np.log(p), p, "batchmean") == pytest.approx(0, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_log_target_equals_probability_target(n, c, seed):
    """log_target=True on log p gives the same divergence as log_target=False on p."""
    rng = np.random.default_rng(seed)
    p, q = rng.dirichlet(np.ones(c), size=n), rng.dirichlet(np.ones(c), size=n)
    np.testing.assert_allclose(kl_div(np.log(q), np.log(p), "none", log_target=True),
                               kl_div(np.log(q), p, "none"), rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_negative_or_nan_target_gives_nan_like_torch(dtype):
    """A negative or NaN target probability: NaN term (log of a negative), gradient -t."""
    x = np.array([-1.0, -0.5, -2.0], dtype)
    t = np.array([-0.2, 0.5, np.nan], dtype)
    loss, grad = _torch_kl(x, t, "none", False)
    assert np.isnan(loss[0].item())
    assert_matches(kl_div(x, t, "none"), loss)
    assert_matches(kl_div_grad(x, t, "none"), grad)
    assert np.isnan(kl_div(x, t, "sum"))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_log_target_of_minus_infinity_is_nan_like_torch(dtype):
    """log_target=True with log p = -inf: e^-inf (-inf - x) = 0 * -inf = NaN in both."""
    x = np.array([-1.0, -2.0], dtype)
    t = np.array([-np.inf, 0.0], dtype)
    loss, grad = _torch_kl(x, t, "none", True)
    assert np.isnan(loss[0].item())
    assert_matches(kl_div(x, t, "none", log_target=True), loss)
    assert_matches(kl_div_grad(x, t, "none", log_target=True), grad)


@pytest.mark.parametrize("log_target", [False, True], ids=["prob-target", "log-target"])
@pytest.mark.parametrize("shapes", [((2,), (2,)), ((2,), ()), ((), ())],
                         ids=["1d-1d", "1d-0d", "0d-0d"])
@pytest.mark.parametrize("dtypes", [(np.float32, np.float64), (np.float64, np.float32)],
                         ids=["in32-target64", "in64-target32"])
def test_mixed_dtypes_promote_as_torch(dtypes, shapes, log_target):
    """Input and target of different dtypes: the value has torch's promoted dtype (a 0-d
    target does not widen the input), the gradient the input's dtype."""
    x = np.log(np.full(shapes[0], 0.3)).astype(dtypes[0])
    t = np.full(shapes[1], 0.6).astype(dtypes[1])
    t = np.log(t) if log_target else t
    # torch takes log t (or e^t) in the target's own dtype before promoting, we after:
    # with a float32 target the two differ by float32 rounding, hence float32 tolerances.
    loose = TOLERANCE[np.dtype(np.float32)] if dtypes[1] == np.float32 else {}
    for reduction in ("none", "sum", "batchmean"):
        loss, grad = _torch_kl(x, t, reduction, log_target)
        assert_matches(kl_div(x, t, reduction, log_target), loss, **loose)
        assert_matches(kl_div_grad(x, t, reduction, log_target), grad, **loose)


def test_unknown_reduction_is_refused():
    """Only none, mean, batchmean and sum exist; anything else is a ValueError."""
    for fn in (kl_div, kl_div_grad):
        with pytest.raises(ValueError, match="unknown reduction"):
            fn(np.zeros(3), np.ones(3) / 3, "average")


def test_argument_order_is_log_q_then_p():
    """torch's kl_div(log q, p) is KL(p || q) = sum p log(p/q), not KL(q || p); so is ours,
    and log_target=True with log p gives the same number."""
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.2, 0.6])
    forward, reverse = (p * np.log(p / q)).sum(), (q * np.log(q / p)).sum()
    assert abs(forward - reverse) > 0.01
    ref = F.kl_div(tensor(np.log(q)), tensor(p), reduction="sum")
    ref_log = F.kl_div(tensor(np.log(q)), tensor(np.log(p)), reduction="sum",
                       log_target=True)
    for value in (ref.item(), ref_log.item(), kl_div(np.log(q), p, "sum"),
                  kl_div(np.log(q), np.log(p), "sum", log_target=True)):
        assert value == pytest.approx(forward, rel=1e-14)


# Forward and reverse KL: fitting one Gaussian to a two-component mixture

GRID = np.linspace(-10, 10, 801)
MIXTURE = {"weights": (0.4, 0.6), "mus": (-2.0, 2.0), "sigmas": (0.6, 0.8)}


def test_log_mixture_matches_torch():
    """log_normal and log_mixture equal torch's Normal and MixtureSameFamily log_prob."""
    w, m, s = (torch.tensor(v, dtype=torch.float64) for v in MIXTURE.values())
    mix = torch.distributions.MixtureSameFamily(torch.distributions.Categorical(w),
                                                Normal(m, s))
    assert_matches(log_mixture(GRID, **MIXTURE), mix.log_prob(tensor(GRID)))
    normal = Normal(tensor(np.array(0.5)), tensor(np.array(1.5)))  # float64 parameters
    assert_matches(log_normal(GRID, 0.5, 1.5), normal.log_prob(tensor(GRID)))


def _torch_fit(direction, mu, log_sigma):
    """Minimise the same discretised KL with torch autograd and L-BFGS from (mu, sigma)."""
    params = torch.tensor([mu, log_sigma], dtype=torch.float64, requires_grad=True)
    log_p = tensor(log_mixture(GRID, **MIXTURE))
    x = tensor(GRID)
    opt = torch.optim.LBFGS([params], max_iter=500, tolerance_grad=1e-12,
                            tolerance_change=1e-15, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        log_q = Normal(params[0], params[1].exp()).log_prob(x)
        first, second = (log_p, log_q) if direction == "forward" else (log_q, log_p)
        kl = (first.exp() * (first - second)).sum() * (GRID[1] - GRID[0])
        kl.backward()
        return kl

    opt.step(closure)
    return params[0].item(), params[1].exp().item()


def test_forward_fit_matches_moments_and_torch():
    """The forward-KL fit is moment matching: the mixture's mean 0.4 and standard deviation
    2.09, to the search's resolution, and what L-BFGS in torch finds."""
    mu, sigma, _ = fit_gaussian(log_mixture(GRID, **MIXTURE), GRID, "forward")
    w, m, s = (np.array(v) for v in MIXTURE.values())
    mean = (w * m).sum()
    sd = np.sqrt((w * (s**2 + m**2)).sum() - mean**2)
    assert mu == pytest.approx(mean, abs=1e-3)
    assert sigma == pytest.approx(sd, abs=1e-3)
    torch_mu, torch_sigma = _torch_fit("forward", 0.0, 0.0)
    assert mu == pytest.approx(torch_mu, abs=1e-3)
    assert sigma == pytest.approx(torch_sigma, abs=1e-3)


def test_reverse_fit_seeks_the_heavier_mode_as_torch_finds():
    """The reverse-KL fit sits on the heavier component (mean 2, sd 0.8), where L-BFGS in
    torch converges too; started on the lighter one, L-BFGS stops at a worse local minimum."""
    log_p = log_mixture(GRID, **MIXTURE)
    mu, sigma, best = fit_gaussian(log_p, GRID, "reverse")
    assert mu == pytest.approx(2.0, abs=0.05)
    assert sigma == pytest.approx(0.8, abs=0.05)
    torch_mu, torch_sigma = _torch_fit("reverse", 1.5, 0.0)
    assert mu == pytest.approx(torch_mu, abs=1e-3)
    assert sigma == pytest.approx(torch_sigma, abs=1e-3)
    other_mu, other_sigma = _torch_fit("reverse", -1.5, 0.0)
    assert other_mu < 0
    log_q = log_normal(GRID, other_mu, other_sigma)
    other = kl_div(log_p, log_q, "sum", log_target=True) * (GRID[1] - GRID[0])
    assert other > best


def test_each_fit_minimises_its_own_direction():
    """The forward fit has the smaller KL(p||q), the reverse fit the smaller KL(q||p)."""
    log_p = log_mixture(GRID, **MIXTURE)
    fits = {d: fit_gaussian(log_p, GRID, d)[:2] for d in ("forward", "reverse")}
    dx = GRID[1] - GRID[0]

    def both(mu, sigma):
        log_q = log_normal(GRID, mu, sigma)
        return (kl_div(log_q, log_p, "sum", log_target=True) * dx,
                kl_div(log_p, log_q, "sum", log_target=True) * dx)

    (fwd_f, rev_f), (fwd_r, rev_r) = both(*fits["forward"]), both(*fits["reverse"])
    assert fwd_f < fwd_r
    assert rev_r < rev_f
    with pytest.raises(ValueError, match="direction"):
        fit_gaussian(log_p, GRID, "sideways")


# KL divergence between two Gaussians

def _gaussians(dtype, seed=0, n=(64, 3)):
    """Means and standard deviations for two sets of Gaussians."""
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.normal(size=(2, *n))
    sigma1, sigma2 = np.exp(rng.normal(scale=0.5, size=(2, *n)))
    return tuple(v.astype(dtype) for v in (mu1, sigma1, mu2, sigma2))


def _torch_normal_kl(mu1, sigma1, mu2, sigma2, dtype=None):
    """torch's KL(N1 || N2) and its gradients w.r.t. the four parameters (in `dtype`)."""
    params = [tensor(np.asarray(v, dtype=dtype or v.dtype), grad=True)
              for v in (mu1, sigma1, mu2, sigma2)]
    ref = kl_divergence(Normal(params[0], params[1]), Normal(params[2], params[3]))
    ref.sum().backward()
    return ref, [p.grad for p in params]


def test_gaussian_kl_matches_torch_float64():
    """Univariate closed form: value and the four gradients equal torch's in float64."""
    args = _gaussians(np.float64)
    ref, grads = _torch_normal_kl(*args)
    assert_matches(gaussian_kl(*args), ref)
    for ours, theirs in zip(gaussian_kl_grad(*args), grads, strict=True):
        assert_matches(ours, theirs)


def test_gaussian_kl_float32_matches_torch_formula_in_float64():
    """float32: within float32 tolerance of torch's formula evaluated at the same float32
    inputs in float64. (torch's own float32 gradient w.r.t. sigma1 is sigma1/sigma2^2 -
    1/sigma1, which cancels; see the next test.)"""
    args = _gaussians(np.float32)
    ref, grads = _torch_normal_kl(*args, dtype=np.float64)
    assert_matches(gaussian_kl(*args), ref.detach().numpy().astype(np.float32))
    for ours, theirs in zip(gaussian_kl_grad(*args), grads, strict=True):
        assert_matches(ours, theirs.numpy().astype(np.float32))


def _exact_normal_kl(mu1, sigma1, mu2, sigma2):
    """KL and gradients of two Gaussians in 40-digit arithmetic (mpmath)."""
    mpmath.mp.dps = 40
    m1, s1, m2, s2 = (mpmath.mpf(float(v)) for v in (mu1, sigma1, mu2, sigma2))
    value = mpmath.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
    grads = [(m1 - m2) / s2**2, s1 / s2**2 - 1 / s1, -(m1 - m2) / s2**2,
             1 / s2 - (s1**2 + (m1 - m2) ** 2) / s2**3]
    return float(value), [float(g) for g in grads]


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_gaussian_kl_near_equal_sigmas_against_mpmath(dtype):
    """sigma1 within 1e-4 relative of sigma2: value and gradients keep the dtype's full
    relative accuracy against 40-digit arithmetic, while torch's float32 gradient w.r.t.
    sigma1 (a cancelling difference) is off by more than 1e-3 relative somewhere."""
    mu1, sigma1, mu2, sigma2 = (v.astype(np.float64) for v in _gaussians(np.float64, 3,
                                                                         (100,)))
    sigma1 = sigma2 * (1 + np.random.default_rng(4).normal(size=100) * 1e-4)
    args = tuple(v.astype(dtype) for v in (mu1, sigma1, mu2, sigma2))
    exact = [_exact_normal_kl(*(a[i] for a in args)) for i in range(100)]
    value = np.array([e[0] for e in exact])
    grads = np.array([e[1] for e in exact]).T
    rtol = {np.float64: 1e-14, np.float32: 2e-6}[dtype]  # a few ULPs of the dtype
    np.testing.assert_allclose(gaussian_kl(*args), value, rtol=rtol)
    for ours, expected in zip(gaussian_kl_grad(*args), grads, strict=True):
        np.testing.assert_allclose(ours, expected, rtol=rtol)
    if dtype == np.float32:
        _, torch_grads = _torch_normal_kl(*args)
        worst = np.max(np.abs(torch_grads[1].numpy() - grads[1]) / np.abs(grads[1]))
        assert worst > 1e-3


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_diagonal_kl_matches_torch_independent_normal(dtype):
    """Diagonal Gaussians from log-variances: value and gradients equal
    kl_divergence(Independent(Normal), Independent(Normal)), sigma = exp(logvar / 2)."""
    rng = np.random.default_rng(5)
    mu1, lv1, mu2, lv2 = (rng.normal(size=(8, 5)).astype(dtype) for _ in range(4))
    params = [tensor(v, grad=True) for v in (mu1, lv1, mu2, lv2)]
    ref = kl_divergence(Independent(Normal(params[0], (params[1] / 2).exp()), 1),
                        Independent(Normal(params[2], (params[3] / 2).exp()), 1))
    ref.sum().backward()
    assert_matches(diagonal_gaussian_kl(mu1, lv1, mu2, lv2), ref)
    ours = diagonal_gaussian_kl_grad(mu1, lv1, mu2, lv2)
    for g, p in zip(ours, params, strict=True):
        assert_matches(g, p.grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_vae_prior_default_and_float32(dtype):
    """With the defaults the second Gaussian is N(0, I): 0.5 sum(mu^2 + e^v - 1 - v), as
    torch computes against Normal(0, 1); the dtype is kept, 0-d and empty inputs work."""
    rng = np.random.default_rng(6)
    mu, lv = (rng.normal(size=(4, 3)).astype(dtype) for _ in range(2))
    ref = kl_divergence(Independent(Normal(tensor(mu), tensor(np.exp(lv / 2))), 1),
                        Independent(Normal(tensor(np.zeros_like(mu)),
                                           tensor(np.ones_like(mu))), 1))
    assert_matches(diagonal_gaussian_kl(mu, lv), ref)
    assert diagonal_gaussian_kl_grad(mu, lv)[0].dtype == dtype
    empty = np.zeros((0, 3), dtype)
    assert diagonal_gaussian_kl(empty, empty).shape == (0,)
    assert gaussian_kl(mu, np.exp(lv), 0.0, 1.0).dtype == dtype
    assert gaussian_kl_grad(mu, np.exp(lv), 0.0, 1.0)[3].dtype == dtype
    assert gaussian_kl(np.array(1.0), np.array(2.0), 0.0, 1.0) == pytest.approx(
        np.log(0.5) + (4 + 1) / 2 - 0.5, rel=1e-15)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan], ids=["0", "-1", "nan"])
def test_non_positive_standard_deviation_is_refused(bad):
    """sigma <= 0 or NaN is not a Gaussian: ValueError (torch's Normal refuses it too)."""
    with pytest.raises(ValueError, match="scale"):
        Normal(torch.tensor(0.0), torch.tensor(bad))
    with pytest.raises(ValueError, match="standard deviations must be positive"):
        gaussian_kl(0.0, bad, 0.0, 1.0)
    with pytest.raises(ValueError, match="standard deviations must be positive"):
        gaussian_kl(0.0, 1.0, 0.0, bad)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(-3, 3), st.floats(-5, 5),
                          st.floats(-3, 3)), min_size=1, max_size=6))
def test_diagonal_is_a_sum_of_univariate_and_non_negative(rows):
    """Identities: the diagonal KL is the sum of 1-D KLs with sigma = exp(v / 2); KL >= 0,
    and KL of a Gaussian to itself is exactly 0."""
    mu1, lv1, mu2, lv2 = np.array(rows).T
    kl = diagonal_gaussian_kl(mu1, lv1, mu2, lv2)
    univariate = gaussian_kl(mu1, np.exp(lv1 / 2), mu2, np.exp(lv2 / 2))
    np.testing.assert_allclose(kl, univariate.sum(), rtol=1e-12, atol=1e-14)
    assert kl >= 0
    assert diagonal_gaussian_kl(mu1, lv1, mu1, lv1) == 0
    assert np.all(gaussian_kl(mu1, np.exp(lv1 / 2), mu1, np.exp(lv1 / 2)) == 0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_equal_means_tiny_kl_keeps_relative_accuracy(dtype):
    """mu1 = mu2 and sigma1/sigma2 from 1e-6 to 10 away from 1 (both series and direct
    branches of rho - log(1 + rho)): the univariate and diagonal KL, which can be as small
    as 1e-12, agree with 40-digit arithmetic to a few ULPs of the dtype."""
    offsets = np.concatenate([-np.geomspace(1e-6, 0.9, 40), np.geomspace(1e-6, 10, 40)])
    sigma2 = np.full(offsets.size, 1.3)
    sigma1 = (sigma2 * np.sqrt(1 + offsets)).astype(dtype)  # rho = offsets (rounded)
    sigma2 = sigma2.astype(dtype)
    mpmath.mp.dps = 40
    exact = []
    for s1, s2 in zip(sigma1, sigma2, strict=True):
        ratio = (mpmath.mpf(float(s1)) / mpmath.mpf(float(s2))) ** 2
        exact.append(float((ratio - 1 - mpmath.log(ratio)) / 2))
    rtol = {np.float64: 5e-15, np.float32: 2e-6}[dtype]  # a few ULPs of the dtype
    zeros = np.zeros_like(sigma1)
    np.testing.assert_allclose(gaussian_kl(zeros, sigma1, zeros, sigma2), exact, rtol=rtol)
    logvar1, logvar2 = 2 * np.log(sigma1), 2 * np.log(sigma2)
    exact_diag = []
    for v1, v2 in zip(logvar1, logvar2, strict=True):
        u = mpmath.mpf(float(v1)) - mpmath.mpf(float(v2))
        exact_diag.append(float((mpmath.exp(u) - 1 - u) / 2))
    ours = diagonal_gaussian_kl(zeros[:, None], logvar1[:, None], zeros[:, None],
                                logvar2[:, None])
    np.testing.assert_allclose(ours, exact_diag, rtol=rtol)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_much_narrower_first_gaussian_keeps_relative_accuracy(dtype):
    """sigma1 / sigma2 from 1e-12 to 0.7 and log-variance differences from -60 to -0.7,
    where 1 + rho is tiny and log1p(rho) would have lost its digits: the univariate and
    diagonal KL agree with 40-digit arithmetic to a few ULPs of the dtype."""
    ratios = np.geomspace(1e-12, 0.7, 60)
    sigma2 = np.full(ratios.size, 1.3, dtype)
    sigma1 = (1.3 * ratios).astype(dtype)
    zeros = np.zeros_like(sigma1)
    mpmath.mp.dps = 40
    exact = []
    for s1, s2 in zip(sigma1, sigma2, strict=True):
        ratio = (mpmath.mpf(float(s1)) / mpmath.mpf(float(s2))) ** 2
        exact.append(float((ratio - 1 - mpmath.log(ratio)) / 2))
    rtol = {np.float64: 5e-15, np.float32: 2e-6}[dtype]  # a few ULPs of the dtype
    np.testing.assert_allclose(gaussian_kl(zeros, sigma1, zeros, sigma2), exact, rtol=rtol)
    dv = -np.geomspace(0.7, 60, 60).astype(dtype)  # logvar1 - logvar2, logvar2 = 0.5
    logvar2 = np.full(dv.size, 0.5, dtype)
    logvar1 = logvar2 + dv
    exact_diag = []
    for v1, v2 in zip(logvar1, logvar2, strict=True):
        u = mpmath.mpf(float(v1)) - mpmath.mpf(float(v2))
        exact_diag.append(float((mpmath.exp(u) - 1 - u) / 2))
    ours = diagonal_gaussian_kl(zeros[:, None], logvar1[:, None], zeros[:, None],
                                logvar2[:, None])
    np.testing.assert_allclose(ours, exact_diag, rtol=rtol)


def test_float32_extreme_scales_stay_finite_and_accurate():
    """float32 standard deviations near 1e20 and 1e-20 (whose squares overflow or go
    subnormal) and a log-variance of -100 with equal means: finite and equal to torch to
    float32 tolerance, not NaN or rounded away."""
    f = np.float32
    for s1, s2 in ((1e20, 2e20), (1e-20, 2e-20), (3e19, 1e19)):
        args = (f(0), f(s1), f(s2), f(s2))  # z = -1
        ref, _ = _torch_normal_kl(*(np.array(a) for a in args))
        assert_matches(np.asarray(gaussian_kl(*args)), ref)
    mu = np.ones((1, 2), f)
    logvar1, logvar2 = np.array([[-99.0, 0.5]], f), np.array([[-100.0, 0.0]], f)
    ref = kl_divergence(Independent(Normal(tensor(mu), tensor(np.exp(logvar1 / 2))), 1),
                        Independent(Normal(tensor(mu), tensor(np.exp(logvar2 / 2))), 1))
    assert_matches(diagonal_gaussian_kl(mu, logvar1, mu, logvar2), ref)
    assert np.all(np.isfinite(diagonal_gaussian_kl_grad(mu, logvar1, mu, logvar2)))


def test_torch_float32_loses_accuracy_for_near_equal_sigmas():
    """Equal means, sigma1 within 1e-4 relative of sigma2, float32: torch's divergence and
    its gradient w.r.t. sigma1 are off by more than 1% relative somewhere (cancellation in
    r - 1 - log r), ours stay within a few ULPs of 40-digit arithmetic."""
    rng = np.random.default_rng(4)
    sigma2 = np.exp(rng.normal(scale=0.5, size=100))
    sigma1 = (sigma2 * (1 + rng.normal(size=100) * 1e-4)).astype(np.float32)
    sigma2 = sigma2.astype(np.float32)
    zeros = np.zeros_like(sigma1)
    exact = [_exact_normal_kl(0.0, s1, 0.0, s2) for s1, s2 in zip(sigma1, sigma2, strict=True)]
    value = np.array([e[0] for e in exact])
    d_sigma1 = np.array([e[1][1] for e in exact])
    ref, torch_grads = _torch_normal_kl(zeros, sigma1, zeros, sigma2)
    assert np.max(np.abs(ref.detach().numpy() - value) / value) > 1e-2
    assert np.max(np.abs(torch_grads[1].numpy() - d_sigma1) / np.abs(d_sigma1)) > 1e-2
    np.testing.assert_allclose(gaussian_kl(zeros, sigma1, zeros, sigma2), value, rtol=2e-6)
    np.testing.assert_allclose(gaussian_kl_grad(zeros, sigma1, zeros, sigma2)[1], d_sigma1,
                               rtol=2e-6)
