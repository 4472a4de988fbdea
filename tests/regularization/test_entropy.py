"""The entropy of a softmax from logits, and its gradient, match
torch.distributions.Categorical(logits=...).entropy() and its autograd gradient."""

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch.distributions import Categorical

from snippets.regularization.entropy import (
    entropy,
    entropy_grad,
    entropy_grad_naive,
    log_softmax,
    regularized_loss,
)
from tests.helpers import DTYPES, assert_matches, dtype_id

SHAPES = [(1,), (7,), (4, 5), (2, 3, 4), (0, 4), (3, 1)]


def torch_entropy(z, validate=None):
    """Categorical(logits=z).entropy() and d(sum)/dz: each row's gradient, rows independent."""
    zt = torch.tensor(z, requires_grad=True)
    h = Categorical(logits=zt, validate_args=validate).entropy()
    h.sum().backward()
    return h, zt.grad


def exact_entropy_and_grad(row):
    """H and dH/dz of one row of logits in 50-digit arithmetic (mpmath), as float64."""
    with mpmath.workdps(50):
        z = [mpmath.mpf(float(v)) for v in row if np.isfinite(v)]
        m = max(z)
        w = [mpmath.exp(v - m) for v in z]
        total = sum(w)
        p = [v / total for v in w]
        mean_z = sum(pi * zi for pi, zi in zip(p, z, strict=True))
        h = -sum(pi * mpmath.log(pi) for pi in p if pi > 0)
        grads = iter([-pi * (zi - mean_z) for pi, zi in zip(p, z, strict=True)])
        grad = [float(next(grads)) if np.isfinite(v) else 0.0 for v in row]
    return float(h), np.array(grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_value_and_gradient_match_torch(shape, dtype):
    """Entropy and its gradient agree with Categorical for every shape, float64 and float32."""
    z = (np.random.default_rng(0).normal(size=shape) * 3).astype(dtype)
    h, grad = torch_entropy(z, validate=False if z.size == 0 else None)  # see the empty test
    assert_matches(entropy(z), h)
    assert_matches(entropy_grad(z), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_masked_logits_like_torch(dtype):
    """-inf logits (masked actions) add 0 to H and get gradient 0, as in Categorical."""
    rng = np.random.default_rng(1)
    z = (rng.normal(size=(200, 6)) * 3).astype(dtype)
    masked = rng.random(z.shape) < 0.4
    masked[:, 2] = False
    z[masked] = -np.inf
    h, grad = torch_entropy(z)
    assert_matches(entropy(z), h)
    assert_matches(entropy_grad(z), grad)
    assert np.all(entropy_grad(z)[masked] == 0)
    row = z[0][np.isfinite(z[0])]  # H over the unmasked classes alone is the same
    assert_matches(entropy(row), entropy(z[0]))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_one_unmasked_action_gives_zero_entropy(dtype):
    """A single finite logit among -inf ones is a certain choice: H = 0 and gradient 0."""
    z = np.array([[-np.inf, 3.0, -np.inf], [0.0, -np.inf, -np.inf]], dtype)
    h, grad = torch_entropy(z)
    assert_matches(entropy(z), h, rtol=0, atol=0)
    np.testing.assert_array_equal(entropy(z), 0.0)
    np.testing.assert_array_equal(entropy_grad(z), grad.numpy())


def test_huge_logits_float64_match_torch():
    """Logits of +-1e4 in float64: ours and torch agree within eps64 * 1e4 * 4 (torch rounds
    z - logsumexp(z) at the magnitude of z)."""
    z = np.array([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4 - 1, 0]])
    h, grad = torch_entropy(z)
    tol = 4 * np.finfo(np.float64).eps * 1e4
    assert_matches(entropy(z), h, rtol=0, atol=tol)
    assert_matches(entropy_grad(z), grad, rtol=0, atol=tol)


def test_huge_logits_float32_ours_exact_torch_off_by_at_most_the_spacing():
    """The stated difference: at |z| = 1e4 in float32 ours is within 1e-6 of the exact entropy,
    Categorical is off by more than 1e-4 but at most the float32 spacing at 1e4."""
    z = np.array([[1e4, 1e4, -1e4], [1e4, 1e4 - 1, -np.inf], [1e4, -1e4, 0.0]])
    exact = np.array([exact_entropy_and_grad(row)[0] for row in z])
    ours = entropy(z.astype(np.float32))
    theirs = Categorical(logits=torch.tensor(z, dtype=torch.float32)).entropy().numpy()
    np.testing.assert_allclose(ours, exact, rtol=2e-6, atol=1e-6)
    spacing = float(np.spacing(np.float32(1e4)))
    assert np.abs(theirs - exact).max() > 1e-4
    assert np.abs(theirs - exact).max() <= spacing


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_gradient_against_exact_arithmetic(dtype):
    """The gradient matches a 50-digit computation to float64/float32 relative precision,
    including nearly uniform logits where -p (log p + H) cancels."""
    rows = np.array([[0.0, 1e-3, 0.0, 0.0], [0.0, 1e-6, 0.0, 0.0], [3.0, -2.0, 0.5, 1e4],
                     [5.0, -np.inf, 5.0 + 1e-5, 4.0]])
    for row in rows:
        _, exact = exact_entropy_and_grad(row)
        ours = entropy_grad(row.astype(dtype))
        scale = np.abs(exact).max()
        eps = np.finfo(dtype).eps
        assert np.abs(ours - exact).max() <= 16 * eps * max(scale, np.finfo(dtype).tiny)


def test_near_certain_entropy_to_full_relative_precision():
    """For a near-certain row (H about 1e-8) the entropy keeps float64 relative precision:
    log(1 + rest) is computed with log1p."""
    for row in ([0.0, -20.0, -25.0], [7.0, -30.0, 7.0 - 40.0, -np.inf]):
        h, _ = exact_entropy_and_grad(np.array(row))
        np.testing.assert_allclose(entropy(np.array(row)), h, rtol=1e-13, atol=0)


def test_naive_gradient_cancels_near_uniform():
    """The cancelling form -p (log p + H) loses about 3 more digits in float32 at z = [0, 1e-3,
    0, 0]; the form used, -p (z - E_p[z]), does not."""
    z = np.array([0.0, 1e-3, 0.0, 0.0])
    _, exact = exact_entropy_and_grad(z)
    rel = {f.__name__: np.abs(f(z.astype(np.float32)) - exact).max() / np.abs(exact).max()
           for f in (entropy_grad, entropy_grad_naive)}
    assert rel["entropy_grad"] < 1e-6
    assert rel["entropy_grad_naive"] > 1e-5


@pytest.mark.parametrize("bad", [[0.0, np.nan, 1.0], [0.0, np.inf, 1.0], [-np.inf] * 3])
def test_invalid_logits_refused_like_torch(bad):
    """NaN, +inf and all -inf rows raise ValueError, as Categorical's validation does."""
    z = np.array(bad)
    with pytest.raises(ValueError, match=r"NaN|-inf"):
        entropy(z)
    with pytest.raises(ValueError, match=r"NaN|-inf"):
        entropy_grad(z)
    with pytest.raises(ValueError, match="constraint"):
        Categorical(logits=torch.tensor(z))


def test_zero_dimensional_logits_refused_like_torch():
    """A 0-d array has no class axis: ValueError, as Categorical raises."""
    with pytest.raises(ValueError, match="one-dimensional"):
        entropy(np.float64(2.0))
    with pytest.raises(ValueError, match="one-dimensional"):
        Categorical(logits=torch.tensor(2.0))


def test_empty_batch_gives_empty_result():
    """(0, K) logits give shape (0,); Categorical's validation fails on them, without it not."""
    z = np.zeros((0, 4))
    assert entropy(z).shape == (0,)
    assert entropy_grad(z).shape == (0, 4)
    with pytest.raises(RuntimeError):
        Categorical(logits=torch.tensor(z))
    assert Categorical(logits=torch.tensor(z), validate_args=False).entropy().shape == (0,)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_probabilities_exactly_zero_and_one(dtype):
    """p = (1, 0, 0) has H = 0 exactly from logits log p; Categorical(probs=...) clamps p to
    [eps, 1 - eps] and returns about eps instead (the stated difference)."""
    probs = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]], dtype)
    with np.errstate(divide="ignore"):
        z = np.log(probs)
    np.testing.assert_array_equal(entropy(z)[0], 0.0)
    assert_matches(entropy(z)[1], np.log(np.asarray(2, dtype)))
    from_logits = Categorical(logits=torch.tensor(z)).entropy().numpy()
    assert_matches(entropy(z), from_logits)
    from_probs = Categorical(probs=torch.tensor(probs)).entropy().numpy()
    eps = np.finfo(dtype).eps
    assert 0 < from_probs[0] <= 2 * eps


def test_sign_convention_bonus_raises_entropy():
    """loss = task - beta H: a gradient step on the bonus alone raises the entropy."""
    z = np.array([[3.0, 0.0, -1.0], [0.5, 0.2, 0.1]])
    loss, grad = regularized_loss(1.0, z, beta=0.1)
    np.testing.assert_allclose(loss, 1.0 - 0.1 * entropy(z).mean(), rtol=1e-15)
    assert np.all(entropy(z - 1.0 * grad) > entropy(z))
    with pytest.raises(ValueError, match="beta"):
        regularized_loss(1.0, z, beta=-0.1)
    with pytest.raises(ValueError, match="beta"):
        regularized_loss(1.0, z, beta=float("nan"))


def test_regularized_loss_gradient_matches_torch():
    """The bonus gradient -beta dH/dz / N equals autograd of -beta * mean entropy."""
    z = np.random.default_rng(3).normal(size=(6, 5)) * 2
    zt = torch.tensor(z, requires_grad=True)
    (-0.3 * Categorical(logits=zt).entropy().mean()).backward()
    assert_matches(regularized_loss(0.0, z, 0.3)[1], zt.grad)


def test_confidence_penalty_caps_the_true_class_probability():
    """Cross-entropy - beta H reaches a stationary point with p(true) < 1, lower for larger beta."""
    target = np.array([[1.0, 0.0, 0.0, 0.0]])
    p_true = []
    for beta in (0.5, 1.0):
        z = np.zeros((1, 4))
        for _ in range(5000):
            grad = np.exp(log_softmax(z)) - target + regularized_loss(0.0, z, beta)[1]
            z -= 0.5 * grad
        assert np.abs(grad).max() < 1e-10  # stationary
        p_true.append(np.exp(log_softmax(z))[0, 0])
    assert 1 / 4 < p_true[1] < p_true[0] < 1


logit_rows = hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 8)),
                        elements=st.floats(-50, 50))


@given(logit_rows, st.floats(-1e4, 1e4))
def test_bounds_and_shift_invariance(z, c):
    """0 <= H <= log K, H(z + c) = H(z), and the gradient of each row sums to 0."""
    k = z.shape[-1]
    h = entropy(z)
    assert np.all(h >= 0)  # log p = s - log1p(.) <= 0, so every term -p log p is >= 0
    assert np.all(h <= np.log(k) + 1e-12)
    # Rounding z + c moves each logit by at most eps/2 (|c| + 50), and
    # sum_j |dH/dz_j| = sum_j p_j |z_j - E_p[z]| <= 50 for logits in [-50, 50]: so H moves by
    # at most 25 eps (|c| + 50); 32 leaves room for the rounding of H itself.
    tol = 32 * np.finfo(np.float64).eps * (abs(c) + 50)
    np.testing.assert_allclose(entropy(z + c), h, rtol=0, atol=tol)
    np.testing.assert_allclose(entropy_grad(z).sum(-1), 0, atol=1e-14)


@given(st.integers(1, 50))
def test_uniform_logits_give_log_k(k):
    """Equal logits give the largest entropy, log K, and a zero gradient."""
    np.testing.assert_allclose(entropy(np.zeros(k)), np.log(k), rtol=1e-14)
    np.testing.assert_array_equal(entropy_grad(np.zeros(k)), 0.0)
