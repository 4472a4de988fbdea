"""GAN losses match torch: BCE with logits (minimax), mse_loss (least squares), autograd."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from snippets.losses.gan import (
    hinge_discriminator_loss,
    hinge_discriminator_loss_grad,
    hinge_generator_loss,
    hinge_generator_loss_grad,
    lsgan_discriminator_loss,
    lsgan_discriminator_loss_grad,
    lsgan_generator_loss,
    lsgan_generator_loss_grad,
    minimax_discriminator_loss,
    minimax_discriminator_loss_grad,
    non_saturating_generator_loss,
    non_saturating_generator_loss_grad,
    saturating_generator_loss,
    saturating_generator_loss_grad,
    wasserstein_critic_loss,
    wasserstein_critic_loss_grad,
    wasserstein_generator_loss,
    wasserstein_generator_loss_grad,
)
from tests.helpers import (
    DTYPES,
    HARD_VALUES,
    SHAPES,
    assert_matches,
    dtype_id,
    random_input,
    tensor,
)

F = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]
dtypes = pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
shapes = pytest.mark.parametrize("shape", SHAPES, ids=str)
reductions = pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")


def reduce_torch(loss, reduction):
    """torch's reduction of an elementwise loss tensor."""
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()


def bce(x, y, reduction):
    return F.binary_cross_entropy_with_logits(x, torch.full_like(x, y), reduction=reduction)


# Discriminator losses: (ours, ours_grad, torch reference on (real, fake, reduction)).
DISCRIMINATOR = {
    "minimax": (minimax_discriminator_loss, minimax_discriminator_loss_grad,
                lambda r, f, red: bce(r, 1.0, red) + bce(f, 0.0, red)),
    "wasserstein": (wasserstein_critic_loss, wasserstein_critic_loss_grad,
                    lambda r, f, red: reduce_torch(f - r, red)),
    "lsgan": (lsgan_discriminator_loss, lsgan_discriminator_loss_grad,
              lambda r, f, red: 0.5 * F.mse_loss(r, torch.ones_like(r), reduction=red)
              + 0.5 * F.mse_loss(f, torch.zeros_like(f), reduction=red)),
    "hinge": (hinge_discriminator_loss, hinge_discriminator_loss_grad,
              lambda r, f, red: reduce_torch(torch.relu(1 - r) + torch.relu(1 + f), red)),
}
# Generator losses: (ours, ours_grad, torch reference on (fake, reduction)).
GENERATOR = {
    "saturating": (saturating_generator_loss, saturating_generator_loss_grad,
                   lambda f, red: -bce(f, 0.0, red)),
    "non-saturating": (non_saturating_generator_loss, non_saturating_generator_loss_grad,
                       lambda f, red: bce(f, 1.0, red)),
    "wasserstein": (wasserstein_generator_loss, wasserstein_generator_loss_grad,
                    lambda f, red: reduce_torch(-f, red)),
    "lsgan": (lsgan_generator_loss, lsgan_generator_loss_grad,
              lambda f, red: 0.5 * F.mse_loss(f, torch.ones_like(f), reduction=red)),
    "hinge": (hinge_generator_loss, hinge_generator_loss_grad,
              lambda f, red: reduce_torch(-f, red)),
}


def check_discriminator(name, real, fake, reduction, **value_tol):
    ours, ours_grad, reference = DISCRIMINATOR[name]
    rt, ft = tensor(real, grad=True), tensor(fake, grad=True)
    ref = reference(rt, ft, reduction)
    ref.sum().backward()  # for "none": the gradient of the summed losses
    grad_real, grad_fake = ours_grad(real, fake, reduction=reduction)
    assert_matches(ours(real, fake, reduction=reduction), ref, **value_tol)
    assert_matches(grad_real, rt.grad)
    assert_matches(grad_fake, ft.grad)


def check_generator(name, fake, reduction, **value_tol):
    ours, ours_grad, reference = GENERATOR[name]
    ft = tensor(fake, grad=True)
    ref = reference(ft, reduction)
    ref.sum().backward()
    assert_matches(ours(fake, reduction=reduction), ref, **value_tol)
    assert_matches(ours_grad(fake, reduction=reduction), ft.grad)


def cancellation_atol(dtype, reduction, largest_term):
    """Absolute tolerance for a sum whose terms cancel (see the hard-input tests)."""
    if reduction == "none":
        return {}
    return {"atol": 8 * np.finfo(dtype).eps * largest_term}


@pytest.mark.parametrize("name", DISCRIMINATOR)
@reductions
@dtypes
@shapes
def test_discriminator_loss_matches_torch(name, shape, dtype, reduction):
    """Discriminator/critic loss and both gradients match the torch reference."""
    real = random_input(shape, dtype, seed=1)
    fake = random_input(shape, dtype, seed=2)
    check_discriminator(name, real, fake, reduction)


@pytest.mark.parametrize("name", GENERATOR)
@reductions
@dtypes
@shapes
def test_generator_loss_matches_torch(name, shape, dtype, reduction):
    """Generator loss and its gradient match the torch reference."""
    check_generator(name, random_input(shape, dtype, seed=3), reduction)


@pytest.mark.parametrize("name", DISCRIMINATOR)
@reductions
@dtypes
def test_discriminator_hard_logits(name, dtype, reduction):
    """Logits of ±1e4, ±0 and tiny values: finite, and equal to torch."""
    real, fake = HARD_VALUES.astype(dtype), HARD_VALUES[::-1].astype(dtype)
    # The Wasserstein terms fake - real run from -2e4 to 2e4 and sum to exactly 0: rounding
    # in a different summation order leaves a few ULPs of 2e4, so for the reduced value the
    # absolute tolerance follows the largest term (8 ULPs of 2e4), not the zero result.
    tol = cancellation_atol(dtype, reduction, 2e4)
    check_discriminator(name, real, fake, reduction, **tol)
    assert np.all(np.isfinite(DISCRIMINATOR[name][0](real, fake, reduction=reduction)))


@pytest.mark.parametrize("name", GENERATOR)
@reductions
@dtypes
def test_generator_hard_logits(name, dtype, reduction):
    """Generator losses at logits of ±1e4: finite, and equal to torch."""
    fake = HARD_VALUES.astype(dtype)
    # Same cancellation as above: terms up to ±1e4 (Wasserstein, hinge) that sum to 0.
    check_generator(name, fake, reduction, **cancellation_atol(dtype, reduction, 1e4))
    assert np.all(np.isfinite(GENERATOR[name][0](fake, reduction=reduction)))


@dtypes
def test_saturation(dtype):
    """At D(G(z)) ≈ 0 the saturating gradient vanishes and the non-saturating one is -1."""
    d = np.array([-1e4, -50.0], dtype=dtype)
    assert np.all(saturating_generator_loss_grad(d, "none") > -1e-20)
    assert_matches(non_saturating_generator_loss_grad(d, "none"), np.full(2, -1.0, dtype))


@pytest.mark.parametrize(("a", "b", "c"), [(0.0, 1.0, 1.0), (-1.0, 1.0, 0.0)],
                         ids=["coding-0-1", "coding-minus1-1-0"])
@dtypes
def test_lsgan_codings_match_mse_loss(a, b, c, dtype):
    """Both target codings of the paper match 0.5 * mse_loss against constant targets."""
    real, fake = random_input((6, 3), dtype, seed=4), random_input((6, 3), dtype, seed=5)
    rt, ft = tensor(real, grad=True), tensor(fake, grad=True)
    ref = 0.5 * F.mse_loss(rt, torch.full_like(rt, b)) + 0.5 * F.mse_loss(
        ft, torch.full_like(ft, a))
    ref.backward()
    grad_real, grad_fake = lsgan_discriminator_loss_grad(real, fake, a, b)
    assert_matches(lsgan_discriminator_loss(real, fake, a, b), ref)
    assert_matches(grad_real, rt.grad)
    assert_matches(grad_fake, ft.grad)
    ft = tensor(fake, grad=True)
    ref = 0.5 * F.mse_loss(ft, torch.full_like(ft, c))
    ref.backward()
    assert_matches(lsgan_generator_loss(fake, c), ref)
    assert_matches(lsgan_generator_loss_grad(fake, c), ft.grad)


@pytest.mark.parametrize("name", DISCRIMINATOR)
@reductions
@dtypes
def test_discriminator_nan_scores_like_torch(name, dtype, reduction):
    """NaN scores: values and gradients equal torch's (NaN, or ∓1 through the hinge's ReLU)."""
    real = np.array([np.nan, 0.5, 2.0, -3.0], dtype=dtype)
    fake = np.array([1.0, np.nan, -2.0, np.nan], dtype=dtype)
    with np.errstate(invalid="ignore"):  # numpy warns when logaddexp meets a NaN
        check_discriminator(name, real, fake, reduction)


@pytest.mark.parametrize("name", GENERATOR)
@reductions
@dtypes
def test_generator_nan_scores_like_torch(name, dtype, reduction):
    """NaN fake scores: generator values and gradients equal torch's."""
    with np.errstate(invalid="ignore"):  # numpy warns when logaddexp meets a NaN
        check_generator(name, np.array([np.nan, 0.5, -2.0], dtype=dtype), reduction)


@dtypes
def test_lsgan_targets_keep_the_dtype(dtype):
    """NumPy float64 targets a, b, c do not promote float32 scores (torch keeps float32)."""
    real, fake = random_input((5,), dtype, seed=6), random_input((5,), dtype, seed=7)
    a, b, c = np.float64(-1.0), np.float64(1.0), np.float64(0.0)
    assert lsgan_discriminator_loss(real, fake, a, b).dtype == dtype
    assert all(g.dtype == dtype for g in lsgan_discriminator_loss_grad(real, fake, a, b))
    assert lsgan_generator_loss(fake, c).dtype == dtype
    assert lsgan_generator_loss_grad(fake, c).dtype == dtype


def test_bad_reduction_and_shapes_raise():
    """An unknown reduction or mismatched real/fake shapes is an error, as in torch."""
    with pytest.raises(ValueError, match="reduction"):
        minimax_discriminator_loss(np.zeros(2), np.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="shape"):
        hinge_discriminator_loss(np.zeros(2), np.zeros(3))


logits = arrays(np.float64, st.integers(1, 20),
                elements=st.floats(-1e4, 1e4, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(logits)
def test_minimax_matches_bce_anywhere_in_range(d):
    """Property: for any logits in [-1e4, 1e4] the minimax loss equals torch's BCE terms."""
    check_discriminator("minimax", d, d[::-1].copy(), "none")


@settings(max_examples=60, deadline=None)
@given(logits)
def test_saturating_plus_non_saturating_is_minus_logit(f):
    """Property: log(1 - σ(f)) + (-log σ(f)) = -f exactly, so the two gradients sum to -1."""
    total = saturating_generator_loss(f, "none") + non_saturating_generator_loss(f, "none")
    np.testing.assert_allclose(total, -f, rtol=1e-12, atol=1e-12)
    grads = saturating_generator_loss_grad(f, "none") + non_saturating_generator_loss_grad(
        f, "none")
    np.testing.assert_allclose(grads, -1.0, rtol=0, atol=1e-15)
    # their difference is not -f: it is -softplus(f) - softplus(-f) <= -log 4
    difference = saturating_generator_loss(f, "none") - non_saturating_generator_loss(f, "none")
    assert np.all(difference <= -np.log(4) * (1 - 1e-12))


@settings(max_examples=60, deadline=None)
@given(logits)
def test_hinge_is_zero_exactly_beyond_the_margins(d):
    """Property: the hinge loss is 0 iff real scores are >= 1 and fake scores <= -1."""
    real, fake = d, d[::-1].copy()
    loss = hinge_discriminator_loss(real, fake, "none")
    assert np.all(loss >= 0)
    assert np.array_equal(loss == 0, (real >= 1) & (fake <= -1))


def test_tiny_losses_keep_relative_accuracy():
    """Where the loss is tiny (logit -100 on a fake) ours keeps full relative precision."""
    d = np.array([-30.0, -100.0, -700.0])
    exact = np.log1p(np.exp(d))  # no overflow for these d; the float64 reference formula
    np.testing.assert_allclose(minimax_discriminator_loss(-d, d, "none"), 2 * exact,
                               rtol=1e-15, atol=0)


def test_integer_scores_are_treated_as_float64():
    """Integer scores give the float64 results (NumPy would truncate 1/n and c = 0.5 to 0)."""
    real, fake = [2, -1], [0, 3]
    rf, ff = np.array(real, np.float64), np.array(fake, np.float64)
    for ours, args in ((wasserstein_critic_loss_grad, ()), (lsgan_discriminator_loss, (0.5, 1.5)),
                       (lsgan_discriminator_loss_grad, (0.5, 1.5)),
                       (hinge_discriminator_loss_grad, ()), (minimax_discriminator_loss, ())):
        np.testing.assert_array_equal(ours(real, fake, *args), ours(rf, ff, *args))
    for ours, args in ((wasserstein_generator_loss_grad, ()), (lsgan_generator_loss, (0.5,)),
                       (lsgan_generator_loss_grad, (0.5,)), (hinge_generator_loss_grad, ())):
        np.testing.assert_array_equal(ours(fake, *args), ours(ff, *args))
    np.testing.assert_array_equal(wasserstein_critic_loss_grad(real, fake)[0], [-0.5, -0.5])
