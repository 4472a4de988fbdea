"""The numbers behind the answers on the loss questions page, checked against torch."""

import numpy as np
import pytest
import torch

from snippets.losses.questions import (
    bernoulli_nll,
    cross_entropy_of_true_class,
    fit_logistic,
    gaussian_nll,
    kl_divergence,
    l2_distance,
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
