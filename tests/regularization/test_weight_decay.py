"""Weight decay vs L2: equal for plain SGD when decay = lr·λ; inside Adam, our L2 and decoupled
steps match torch.optim.Adam(weight_decay) and torch.optim.AdamW, and the L2 form decays weights
with large gradients less."""

import itertools

import numpy as np
import pytest
import torch

from snippets.optimizers.adam import adam_step
from snippets.optimizers.adam import init_state as adam_init
from snippets.optimizers.adamw import adamw_step
from snippets.optimizers.adamw import init_state as adamw_init
from snippets.regularization.weight_decay import (
    adam,
    decay_run,
    init_state,
    sgd_decoupled,
    sgd_l2,
)
from tests.helpers import DTYPES, TOLERANCE, dtype_id

SHAPES = [(), (0,), (5,), (3, 4)]


def run_both(shape, dtype, decoupled, *, lr=0.01, lam=0.1, steps=20, scale=1.0,
             betas=(0.9, 0.999), eps=1e-8, seed=0):
    """Our steps and torch's on the same seeded gradients; returns the two final parameters and
    the largest |parameter| seen (the size the rounding scales with)."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=shape).astype(dtype)
    state = init_state(theta)
    p = torch.tensor(theta.copy(), requires_grad=True)
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    opt = cls([p], lr=lr, weight_decay=lam, betas=betas, eps=eps)
    for _ in range(steps):
        g = (rng.normal(size=shape) * scale).astype(dtype)
        theta, state = adam(theta, g, state, lr=lr, lam=lam, decoupled=decoupled,
                            betas=betas, eps=eps)
        p.grad = torch.tensor(g)
        opt.step()
    return theta, p.detach().numpy()


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("decoupled", [False, True], ids=["Adam+L2", "AdamW"])
@pytest.mark.parametrize("steps", [1, 20])
def test_adam_matches_torch(shape, dtype, decoupled, steps):
    """One step and 20 steps agree with Adam(weight_decay) / AdamW, dtype kept."""
    ours, ref = run_both(shape, dtype, decoupled, steps=steps)
    assert ours.dtype == ref.dtype
    np.testing.assert_allclose(ours, ref, **TOLERANCE[np.dtype(dtype)])


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("decoupled", [False, True], ids=["Adam+L2", "AdamW"])
@pytest.mark.parametrize("options", [{"scale": 1e4}, {"scale": 1e-9}, {"lam": 0.0},
                                     {"lam": 10.0, "lr": 0.05},
                                     {"betas": (0.0, 0.9), "eps": 1e-3}], ids=str)
def test_adam_hard_settings(dtype, decoupled, options):
    """Huge and tiny gradients, λ = 0, strong decay, other betas and eps: still torch's steps."""
    ours, ref = run_both((7,), dtype, decoupled, **options)
    np.testing.assert_allclose(ours, ref, **TOLERANCE[np.dtype(dtype)])


@pytest.mark.parametrize("bad", [{"lam": -0.1}, {"lr": -0.01}, {"eps": -1e-8},
                                 {"betas": (1.0, 0.999)}, {"betas": (0.9, -0.1)},
                                 {"lam": float("nan")}], ids=str)
def test_invalid_settings_refused_like_torch(bad):
    """A negative λ, lr or eps, a beta outside [0, 1) or a NaN λ raise ValueError, as torch's
    Adam and AdamW do."""
    settings = {"lr": 0.01, "lam": 0.1, "eps": 1e-8, "betas": (0.9, 0.999), **bad}
    for cls in (torch.optim.Adam, torch.optim.AdamW):
        with pytest.raises(ValueError, match="Invalid"):
            cls([torch.zeros(2, requires_grad=True)], lr=settings["lr"],
                weight_decay=settings["lam"], eps=settings["eps"], betas=settings["betas"])
    for decoupled in (False, True):
        with pytest.raises(ValueError, match="need lr, lam, eps >= 0"):
            adam(np.ones(2), np.ones(2), init_state(np.ones(2)), decoupled=decoupled,
                 **settings)


def test_same_as_the_optimizer_pages_steps():
    """Our flag-switched step equals adam_step (L2) and adamw_step (decoupled) of the
    optimizer pages over 20 steps."""
    rng = np.random.default_rng(3)
    theta = a = b = rng.normal(size=6)
    s_ours_l2, s_ours_dec = init_state(theta), init_state(theta)
    ours_l2 = ours_dec = theta
    sa, sb = adam_init([a]), adamw_init([b])
    for _ in range(20):
        g = rng.normal(size=6)
        ours_l2, s_ours_l2 = adam(ours_l2, g, s_ours_l2, lr=0.01, lam=0.2, decoupled=False)
        ours_dec, s_ours_dec = adam(ours_dec, g, s_ours_dec, lr=0.01, lam=0.2, decoupled=True)
        (a,), sa = adam_step([a], [g], sa, lr=0.01, weight_decay=0.2)
        (b,), sb = adamw_step([b], [g], sb, lr=0.01, weight_decay=0.2)
    np.testing.assert_allclose(ours_l2, a, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours_dec, b, rtol=1e-12, atol=1e-12)


def test_no_decay_makes_both_the_same():
    """With λ = 0 the L2 and decoupled steps are the same computation, bit for bit."""
    rng = np.random.default_rng(4)
    a = b = rng.normal(size=5)
    sa, sb = init_state(a), init_state(b)
    for _ in range(10):
        g = rng.normal(size=5)
        a, sa = adam(a, g, sa, lr=0.1, lam=0.0, decoupled=False)
        b, sb = adam(b, g, sb, lr=0.1, lam=0.0, decoupled=True)
    np.testing.assert_array_equal(a, b)


def test_first_step_of_adam_l2_ignores_the_size_of_lambda():
    """Step 1 of Adam + L2 moves each weight by lr·sign(g + λθ) whatever λ is; AdamW's step 1
    is (1 - lr·λ)θ - lr·sign(g) (up to eps: the step is lr·|g|/(|g| + eps), off by at most
    lr·eps/|g| with |g| >= 0.01 here)."""
    theta, g, lr = np.array([1.0, 1.0, -2.0]), np.array([10.0, 0.01, 0.5]), 0.1
    tol = lr * 1e-8 / 0.01 + 1e-15
    for lam in (0.01, 0.1, 1.0):
        l2, _ = adam(theta, g, init_state(theta), lr=lr, lam=lam, decoupled=False)
        np.testing.assert_allclose(l2, theta - lr * np.sign(g + lam * theta), atol=tol)
        dec, _ = adam(theta, g, init_state(theta), lr=lr, lam=lam, decoupled=True)
        np.testing.assert_allclose(dec, (1 - lr * lam) * theta - lr * np.sign(g), atol=tol)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_sgd_l2_is_decoupled_decay_of_lr_times_lambda(shape, dtype):
    """For plain SGD, L2 with λ equals weight decay d = lr·λ (rounding aside) and torch's
    SGD(weight_decay=λ), over 20 steps."""
    lr, lam = 0.1, 0.05
    rng = np.random.default_rng(0)
    a = b = rng.normal(size=shape).astype(dtype)
    p = torch.tensor(a.copy(), requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, weight_decay=lam)
    for _ in range(20):
        g = rng.normal(size=shape).astype(dtype)
        a, b = sgd_l2(a, g, lr, lam), sgd_decoupled(b, g, lr, decay=lr * lam)
        p.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(a, b, **TOLERANCE[np.dtype(dtype)])
    np.testing.assert_allclose(a, p.detach().numpy(), **TOLERANCE[np.dtype(dtype)])
    assert a.dtype == b.dtype == np.dtype(dtype)


def test_sgd_with_momentum_l2_and_decay_differ_in_torch():
    """With momentum, torch's SGD(weight_decay) (λθ enters the buffer) differs from decaying
    the weights directly by lr·λ: the page says the equivalence is for plain SGD only."""
    lr, lam, mu = 0.1, 0.1, 0.9
    g = torch.tensor([10.0, 0.01], dtype=torch.float64)
    p_l2 = torch.ones(2, dtype=torch.float64, requires_grad=True)
    p_dec = torch.ones(2, dtype=torch.float64, requires_grad=True)
    opt_l2 = torch.optim.SGD([p_l2], lr=lr, momentum=mu, weight_decay=lam)
    opt_dec = torch.optim.SGD([p_dec], lr=lr, momentum=mu)
    for t in range(3):
        with torch.no_grad():
            p_dec.mul_(1 - lr * lam)
        p_l2.grad, p_dec.grad = g * (-1) ** t, g * (-1) ** t
        opt_l2.step()
        opt_dec.step()
    assert (p_l2 - p_dec).abs().max() > 1e-3


# The decay demonstration: a loss gradient alternating ±s around θ, from θ = 1.
T, LR, LAM, EPS = 2000, 1e-3, 0.1, 1e-8
SCALES = (100.0, 10.0, 1.0, 0.1, 0.01)


def test_adam_l2_decays_weights_with_large_gradients_less():
    """Adam + L2: the final weight grows strictly with the gradient's size s."""
    finals = [decay_run(s, False)[-1] for s in SCALES]
    assert all(a > b for a, b in itertools.pairwise(finals))


@pytest.mark.parametrize("s", [100.0, 10.0])
def test_adam_l2_decay_rate_is_lr_lambda_over_s(s):
    """While λθ ≪ s, Adam + L2 decays like (1 - lr·λ/s)^T, plus the drift D that the
    alternating gradient causes on its own (measured with λ = 0). λθ/s ≤ 0.01 here, so the
    linearized rate is off by about 1%: allowed error 1% of the decay 1 - (1 - lr·λ/s)^T."""
    drift = decay_run(s, False, lam=0.0)[-1] - 1
    estimate = (1 - LR * LAM / s) ** T
    assert abs(decay_run(s, False)[-1] - (estimate + drift)) <= 0.01 * (1 - estimate)


def test_adamw_decay_does_not_depend_on_gradient_size():
    """AdamW's weight ends the same for every s (ε aside: the ratio m/(√v + ε) moves by at most
    ε/s relative, in steps of size ≤ lr·(1-β1)/√(1-β2) ≈ 3.2·lr, over T steps), and within
    |D| of (1 - lr·λ)^T."""
    finals = np.array([decay_run(s, True)[-1] for s in SCALES])
    ref = decay_run(1.0, True)[-1]
    bound = T * 3.2 * LR * EPS / np.array(SCALES)
    assert np.all(np.abs(finals - ref) <= bound)
    drift = abs(decay_run(1.0, True, lam=0.0)[-1] - 1)
    assert np.all(np.abs(finals - (1 - LR * LAM) ** T) <= drift)
