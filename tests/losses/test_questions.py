"""The numbers behind the answers on the loss questions page, checked against torch."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.losses.questions import (
    bernoulli_nll,
    cross_entropy_of_true_class,
    expected_losses,
    fit_logistic,
    gaussian_nll,
    kl_divergence,
    l2_distance,
    log_softmax,
    sigmoid,
    sigmoid_ce_grad,
    sigmoid_mse_grad,
    softmax_ce_grad,
    softmax_mse_grad,
)
from tests.helpers import DTYPES, HARD_VALUES, assert_matches, dtype_id, random_input, tensor

F = torch.nn.functional


# (1) L2 is not a sensible distance between distributions

def test_equal_l2_distances_very_different_kl():
    """Two pairs 0.1414 apart in L2: one has KL 0.020, the other infinite KL."""
    near = ([0.5, 0.5], [0.6, 0.4])
    impossible = ([0.1, 0.9], [0.0, 1.0])
    assert l2_distance(*near) == pytest.approx(l2_distance(*impossible), rel=1e-12)
    assert l2_distance(*near) == pytest.approx(np.sqrt(0.02), rel=1e-12)
    assert kl_divergence(*near) == pytest.approx(0.5 * np.log(0.5 / 0.6) + 0.5 * np.log(1.25))
    assert kl_divergence(*impossible) == np.inf


def test_l2_prefers_a_prediction_that_calls_the_truth_impossible():
    """True class 0: L2 ranks q_A = (0, .5, .5) above q_B = (.1, .9, 0); cross-entropy does not."""
    truth = np.array([1.0, 0.0, 0.0])
    q_a, q_b = np.array([0.0, 0.5, 0.5]), np.array([0.1, 0.9, 0.0])
    assert l2_distance(truth, q_a) < l2_distance(truth, q_b)
    with np.errstate(divide="ignore"):
        assert cross_entropy_of_true_class(q_a[0]) == np.inf
    assert cross_entropy_of_true_class(q_b[0]) == pytest.approx(np.log(10))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_kl_divergence_matches_torch(dtype):
    """Summed over classes, kl_divergence equals torch's kl_div(log q, p) per row."""
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=6).astype(dtype)
    p[0, 1] = 0.0  # a zero term
    q = rng.dirichlet(np.ones(4), size=6).astype(dtype)
    ref = F.kl_div(tensor(np.log(q)), tensor(p), reduction="none").sum(-1)
    assert_matches(kl_divergence(p, q), ref)


# (2) MSE vs cross-entropy: the gradient of a confident wrong prediction

@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("logits", ["random", "hard"])
def test_sigmoid_gradients_match_torch(dtype, logits):
    """d/dz of (sigmoid(z) - y)^2 and of BCE-with-logits agree with torch autograd."""
    z = random_input((20,), dtype) if logits == "random" else HARD_VALUES.astype(dtype)
    y = (np.arange(z.size) % 2).astype(dtype)
    for ours, loss in [
        (sigmoid_mse_grad, lambda a, b: F.mse_loss(torch.sigmoid(a), b, reduction="sum")),
        (sigmoid_ce_grad, lambda a, b: F.binary_cross_entropy_with_logits(a, b,
                                                                          reduction="sum")),
    ]:
        zt = tensor(z, grad=True)
        loss(zt, tensor(y)).backward()
        assert_matches(ours(z, y), zt.grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("scale", [3.0, 1e4], ids=["moderate", "huge"])
def test_softmax_gradients_match_torch(dtype, scale):
    """Gradients of MSE on softmax and of cross-entropy w.r.t. logits agree with torch."""
    rng = np.random.default_rng(1)
    z = (rng.normal(size=(8, 4)) * scale).astype(dtype)
    t = np.eye(4, dtype=dtype)[rng.integers(0, 4, size=8)]
    for ours, loss in [
        (softmax_mse_grad, lambda a, b: F.mse_loss(torch.softmax(a, -1), b, reduction="sum")),
        (softmax_ce_grad, lambda a, b: F.cross_entropy(a, b, reduction="sum")),
    ]:
        zt = tensor(z, grad=True)
        loss(zt, tensor(t)).backward()
        assert_matches(ours(z, t), zt.grad)


def test_confident_wrong_prediction_mse_gradient_vanishes():
    """At z = -10 with y = 1, MSE's gradient is below 1e-4 while cross-entropy's is near -1."""
    assert abs(sigmoid_mse_grad(-10.0, 1.0)) < 1e-4
    assert sigmoid_ce_grad(-10.0, 1.0) == pytest.approx(-1, abs=1e-4)
    z, t = np.array([[0.0, 8.0, 0.0]]), np.array([[1.0, 0.0, 0.0]])
    assert np.abs(softmax_mse_grad(z, t)).max() < 3e-3
    assert softmax_ce_grad(z, t)[0, 0] == pytest.approx(-1, abs=1e-3)


def test_training_from_a_confidently_wrong_start():
    """From w = -10, 200 steps: cross-entropy classifies every point, MSE still none."""
    x = np.linspace(-3, 3, 40)
    y = (x > 0).astype(float)
    *_, acc_mse = fit_logistic(x, y, "mse")
    *_, acc_ce = fit_logistic(x, y, "ce")
    assert acc_mse == 0.0
    assert acc_ce == 1.0


# (3) Cross-entropy at true-class probabilities 0.901 and 0.001

def test_cross_entropy_of_0901_and_0001():
    """-log 0.901 = 0.104 and -log 0.001 = 6.908 nats, equal to torch's cross_entropy."""
    probs = np.array([[0.901, 0.05, 0.049], [0.001, 0.5, 0.499]])
    ours = cross_entropy_of_true_class(probs[:, 0])
    ref = F.cross_entropy(tensor(np.log(probs)), torch.tensor([0, 0]), reduction="none")
    assert_matches(ours, ref)
    np.testing.assert_allclose(ours.round(3), [0.104, 6.908])


# (4) Cross-entropy and squared residuals as negative log-likelihoods

def test_bernoulli_nll_is_summed_bce():
    """The Bernoulli negative log-likelihood equals torch's summed BCE and Bernoulli log_prob."""
    rng = np.random.default_rng(2)
    p = rng.uniform(0.05, 0.95, size=10)
    y = (rng.uniform(size=10) < p).astype(float)
    assert_matches(bernoulli_nll(p, y), F.binary_cross_entropy(tensor(p), tensor(y),
                                                               reduction="sum"))
    ref = -torch.distributions.Bernoulli(probs=tensor(p)).log_prob(tensor(y)).sum()
    assert_matches(bernoulli_nll(p, y), ref)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
def test_gaussian_nll_is_scaled_ssr_plus_constant(sigma):
    """The Gaussian NLL equals torch's Normal log_prob and SSR / (2 sigma^2) + constant."""
    rng = np.random.default_rng(3)
    mu, y = rng.uniform(size=10), rng.integers(0, 2, size=10).astype(float)
    ref = -torch.distributions.Normal(tensor(mu), sigma).log_prob(tensor(y)).sum()
    assert_matches(gaussian_nll(mu, y, sigma), ref)
    ssr = ((y - mu) ** 2).sum()
    expected = ssr / (2 * sigma**2) + 10 / 2 * np.log(2 * np.pi * sigma**2)
    assert gaussian_nll(mu, y, sigma) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_kl_divergence_negative_probability_is_nan_like_torch(dtype):
    """A negative 'probability' in p gives NaN, as torch's kl_div does; a zero gives 0."""
    p = np.array([[-0.1, 0.6, 0.5], [0.0, 0.5, 0.5]], dtype)
    q = np.array([[0.2, 0.3, 0.5], [0.2, 0.3, 0.5]], dtype)
    ref = F.kl_div(tensor(np.log(q)), tensor(p), reduction="none").sum(-1)
    assert np.isnan(ref[0].item())
    assert_matches(kl_divergence(p, q), ref)


# Gradients without cancellation: the stable references use torch's log-sigmoid

Z = np.linspace(-50, 50, 1001)


@pytest.mark.parametrize("label", [0.0, 1.0], ids=["y-0", "y-1"])
def test_sigmoid_gradients_have_no_cancellation(label):
    """z in [-50, 50]: both sigmoid gradients within 1e-12 relative of autograd through
    log-sigmoids, also where sigma(z) rounds to 1 and sigma(z) - 1 would give 0."""
    y = np.full_like(Z, label)
    zt, yt = tensor(Z, grad=True), tensor(y)
    s, s_neg = torch.exp(F.logsigmoid(zt)), torch.exp(F.logsigmoid(-zt))
    ((1 - yt) * s - yt * s_neg).pow(2).sum().backward()  # (sigma(z) - y)^2
    assert_matches(sigmoid_mse_grad(Z, y), zt.grad, rtol=1e-12, atol=0)
    zt = tensor(Z, grad=True)
    (-(1 - yt) * F.logsigmoid(-zt) - yt * F.logsigmoid(zt)).sum().backward()
    assert_matches(sigmoid_ce_grad(Z, y), zt.grad, rtol=1e-12, atol=0)


def test_softmax_ce_gradient_has_no_cancellation():
    """Logits (z, 0, 0.5), z in [-50, 50], label 0: within 1e-12 relative of autograd of
    softplus(logsumexp of the others minus z), where p - 1 would round to 0."""
    x = np.stack([Z, 0 * Z, 0.5 + 0 * Z], axis=1)
    t = np.zeros_like(x)
    t[:, 0] = 1
    xt = tensor(x, grad=True)
    r = torch.logsumexp(xt[:, 1:] - xt[:, :1], dim=1)
    (-F.logsigmoid(-r)).sum().backward()
    assert_matches(softmax_ce_grad(x, t), xt.grad, rtol=1e-12, atol=0)
    assert_matches(np.exp(log_softmax(x)), torch.softmax(tensor(x), -1))


# (3) and (4): proper scoring rules, convexity, likelihoods

@settings(max_examples=60, deadline=None)
@given(st.floats(0.01, 0.99))
def test_both_scoring_rules_are_minimised_at_the_true_probability(pi):
    """Expected log loss and expected squared error are both least at p = pi (strictly
    proper): calibration does not separate them."""
    p = np.linspace(0.001, 0.999, 9981)
    for expected in expected_losses(pi, p):
        assert abs(p[expected.argmin()] - pi) <= 1e-4


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_expected_losses_match_torch(dtype):
    """The expectations equal pi BCE(p, 1) + (1 - pi) BCE(p, 0) and the same with mse_loss."""
    p = np.random.default_rng(7).uniform(0.01, 0.99, size=20).astype(dtype)
    pi = dtype(0.3)
    ones, zeros = tensor(np.ones_like(p)), tensor(np.zeros_like(p))
    log_loss, squared = expected_losses(pi, p)
    bce = lambda y: F.binary_cross_entropy(tensor(p), y, reduction="none")  # noqa: E731
    mse = lambda y: F.mse_loss(tensor(p), y, reduction="none")  # noqa: E731
    assert_matches(log_loss, pi * bce(ones) + (1 - pi) * bce(zeros))
    assert_matches(squared, pi * mse(ones) + (1 - pi) * mse(zeros))


def test_only_cross_entropy_is_convex_for_logistic_regression():
    """d^2/dw^2 of the loss of sigma(w x) against y = 1 (x = 1): cross-entropy's is
    positive for every w, squared error's turns negative (it is not convex in w)."""
    def second_derivative(loss, w):
        return torch.autograd.functional.hessian(loss, tensor(np.array([w]))).item()

    def ce(w):
        return -F.logsigmoid(w).sum()

    def mse(w):
        return ((torch.sigmoid(w) - 1) ** 2).sum()

    ws = np.linspace(-8, 8, 33)
    assert all(second_derivative(ce, w) > 0 for w in ws)
    assert min(second_derivative(mse, w) for w in ws) < -0.01


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_bernoulli_nll_at_certain_probabilities(dtype):
    """(p, y) = (0, 0) and (1, 1) cost exactly +0 (0 log 0 = 0), as does an empty batch;
    (0, 1) costs +inf, where torch's Bernoulli clamps p and returns a finite number (the
    stated difference)."""
    p, y = np.array([0.0, 1.0], dtype), np.array([0.0, 1.0], dtype)
    for cost in (bernoulli_nll(p, y), bernoulli_nll(p[:0], y[:0])):
        assert cost == 0
        assert not np.signbit(cost)  # +0, not -0.0
    assert bernoulli_nll(np.array([0.0], dtype), np.array([1.0], dtype)) == np.inf
    ref = torch.distributions.Bernoulli(probs=tensor(np.array([0.0], dtype)))
    assert np.isfinite(ref.log_prob(tensor(np.array([1.0], dtype))).item())
    soft = np.array([0.3], dtype)
    assert_matches(np.asarray(bernoulli_nll(soft, soft)),
                   F.binary_cross_entropy(tensor(soft), tensor(soft), reduction="sum"))


@pytest.mark.parametrize("bad", [-0.1, 1.5, np.nan], ids=["-0.1", "1.5", "nan"])
def test_bernoulli_nll_refuses_values_outside_the_unit_interval(bad):
    """A probability or label outside [0, 1], or NaN, raises a ValueError."""
    with pytest.raises(ValueError, match="must lie in"):
        bernoulli_nll(np.array([bad]), np.array([1.0]))
    with pytest.raises(ValueError, match="must lie in"):
        bernoulli_nll(np.array([0.5]), np.array([bad]))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nlls_keep_the_dtype_and_match_torch(dtype):
    """float32 in, float32 out, for both likelihoods, and equal to torch's log_prob."""
    rng = np.random.default_rng(8)
    mu = rng.uniform(size=10).astype(dtype)
    y = rng.integers(0, 2, size=10).astype(dtype)
    nll = gaussian_nll(mu, y, 0.5)
    assert nll.dtype == dtype
    assert_matches(np.asarray(nll),
                   -torch.distributions.Normal(tensor(mu), 0.5).log_prob(tensor(y)).sum())
    nll = bernoulli_nll(mu, y)
    assert nll.dtype == dtype
    assert_matches(np.asarray(nll), -torch.distributions.Bernoulli(
        probs=tensor(mu)).log_prob(tensor(y)).sum())


@pytest.mark.parametrize("sigma", [0.0, -1.0, np.nan], ids=["0", "-1", "nan"])
def test_gaussian_nll_refuses_a_non_positive_sigma(sigma):
    """sigma <= 0 or NaN is no Gaussian: ValueError."""
    with pytest.raises(ValueError, match="sigma must be positive"):
        gaussian_nll(np.zeros(3), np.ones(3), sigma)


def test_sigmoid_keeps_dtype_and_handles_extremes():
    """The stable sigmoid equals torch.sigmoid in both dtypes at +-1e4 and keeps the dtype."""
    for dtype in DTYPES:
        z = HARD_VALUES.astype(dtype)
        assert_matches(sigmoid(z), torch.sigmoid(tensor(z)))
