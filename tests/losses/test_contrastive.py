"""Contrastive losses: the pair loss matches the Hadsell et al. formula on torch's
pairwise_distance; InfoNCE, CLIP and NT-Xent match torch's cross_entropy on the same logits."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch.nn import functional

from snippets.losses.contrastive import (
    contrastive_loss,
    contrastive_loss_grad,
    info_nce_loss,
    info_nce_loss_grad,
    normalize,
    nt_xent_loss,
    nt_xent_loss_grad,
    softmax_xent,
)
from tests.helpers import DTYPES, assert_matches, dtype_id, random_input, tensor
from tests.losses import _ranking_refs as refs

REDUCTIONS = [pytest.param(r, id=f"reduction-{r}") for r in ("mean", "sum", "none")]


def _check(x1, x2, y, margin, reduction, eps=1e-6, **tol):
    t1, t2 = tensor(x1, grad=True), tensor(x2, grad=True)
    ref = refs.contrastive(t1, t2, tensor(y), margin, eps, reduction)
    ref.sum().backward()
    g1, g2 = contrastive_loss_grad(x1, x2, y, margin, eps, reduction)
    assert_matches(contrastive_loss(x1, x2, y, margin, eps, reduction), ref, **tol)
    assert_matches(g1, t1.grad, **tol)
    assert_matches(g2, t2.grad, **tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.5, 2.0], ids=lambda m: f"margin-{m}")
@pytest.mark.parametrize("shape", [(1, 3), (16, 8), (40, 1), (5,), (0, 4)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_matches_reference(dtype, shape, margin, reduction):
    """Values and gradients equal autograd of the formula, batched, unbatched and empty."""
    x1 = random_input(shape, dtype, seed=0, scale=0.5)
    x2 = random_input(shape, dtype, seed=1, scale=0.5)
    y = (np.random.default_rng(2).random(shape[:-1]) < 0.5).astype(dtype)
    _check(x1, x2, y, margin, reduction)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype):
    """Identical pairs, pairs 1e4 apart, pairs differing by 1e-6 of their size, and a zero
    distance with eps = 0 (gradient 0)."""
    x1 = np.array([[0.0, 0.0], [1e4, -1e4], [2.0, 3.0], [2.0, 3.0], [5.0, -7.0]], dtype=dtype)
    x2 = np.array([[0.0, 0.0], [-1e4, 1e4], [2.0, 3.0], [2.0, 3.0], [5.000005, -7.0]],
                  dtype=dtype)
    y = np.array([1.0, 0.0, 1.0, 0.0, 0.0], dtype=dtype)
    _check(x1, x2, y, 1.0, "sum")
    _check(x1, x2, y, 1.0, "sum", eps=0.0)


def test_eps_is_added_like_pairwise_distance():
    """The distance is ||x1 - x2 + eps||, as torch's: identical points sit sqrt(d) eps apart."""
    x = np.zeros((1, 4))
    d = functional.pairwise_distance(torch.tensor(x), torch.tensor(x)).item()
    assert d == pytest.approx(2e-6, rel=1e-12)
    dissimilar = np.zeros(1)
    assert contrastive_loss(x, x, dissimilar) == pytest.approx(0.5 * (1 - d) ** 2, rel=1e-12)
    assert contrastive_loss(x, x, dissimilar, eps=0.0) == 0.5


def test_nan_gives_nan_for_its_pair_only():
    """A NaN coordinate: NaN loss and NaN gradient rows for that pair, as the torch formula."""
    x1 = np.array([[np.nan, 0.0], [1.0, 0.0]])
    x2 = np.array([[0.0, 0.0], [0.0, 0.5]])
    for y in (np.array([1.0, 1.0]), np.array([0.0, 0.0])):
        _check(x1, x2, y, 2.0, "none")
        g1, g2 = contrastive_loss_grad(x1, x2, y, 2.0, reduction="none")
        assert np.all(np.isnan(g1[0]))
        assert np.all(np.isnan(g2[0]))
        assert np.all(np.isfinite(g1[1]))
        assert np.all(np.isfinite(g2[1]))


def test_bad_arguments_are_refused():
    """0-d embeddings and margins <= 0 raise ValueError (no feature axis; no push at all)."""
    with pytest.raises(ValueError, match="feature axis"):
        contrastive_loss(np.array(1.0), np.array(2.0), np.array(1.0))
    for margin in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="margin must be > 0"):
            contrastive_loss(np.zeros((1, 2)), np.ones((1, 2)), np.zeros(1), margin)
        with pytest.raises(ValueError, match="margin must be > 0"):
            contrastive_loss_grad(np.zeros((1, 2)), np.ones((1, 2)), np.zeros(1), margin)


def test_torch_embedding_losses_use_minus_one_not_zero():
    """torch's embedding losses take y in {1, -1}: cosine_embedding_loss silently returns 0
    for y = 0, and hinge_embedding_loss with y = 0 adds both of its terms, d + max(0, m - d)."""
    a = torch.tensor([[1.0, 2.0], [0.5, -1.0]], dtype=torch.float64)
    one = torch.ones(2, dtype=torch.float64)
    cosine = functional.cosine_embedding_loss
    torch.testing.assert_close(cosine(a, a, -one, reduction="none"), one)  # cos 1, y = -1
    torch.testing.assert_close(cosine(a, -a, one, reduction="none"), 2 * one)  # cos -1, y = 1
    for b in (a, -a):
        assert torch.all(cosine(a, b, 0 * one, reduction="none") == 0)  # y = 0: nothing
    d = torch.tensor([0.2, 0.5, 2.0], dtype=torch.float64)
    out = functional.hinge_embedding_loss(d, torch.zeros(3, dtype=torch.float64),
                                          reduction="none")
    torch.testing.assert_close(out, d + torch.clamp_min(1 - d, 0), rtol=0, atol=0)


@settings(max_examples=50, deadline=None)
@given(d=st.floats(0, 10), margin=st.floats(0.1, 5))
def test_dissimilar_pairs_beyond_margin_cost_nothing(d, margin):
    """For y = 0 the loss is 0.5 max(0, m - D)^2: zero once the pair is m apart (eps = 0)."""
    x1, x2 = np.array([[0.0, 0.0]]), np.array([[d, 0.0]])
    loss = contrastive_loss(x1, x2, np.zeros(1), margin, eps=0.0)
    np.testing.assert_allclose(loss, 0.5 * max(margin - d, 0) ** 2, rtol=1e-12, atol=1e-12)


# InfoNCE, CLIP (symmetric InfoNCE) and NT-Xent against cross_entropy on the same logits.

def _infonce(symmetric):
    def loss(z1, z2, tau, reduction):
        return info_nce_loss(z1, z2, tau, symmetric, reduction)

    def grad(z1, z2, tau, reduction):
        return info_nce_loss_grad(z1, z2, tau, symmetric, reduction)

    return loss, grad


BATCH_LOSSES = [
    pytest.param(*_infonce(False), refs.info_nce, id="infonce"),
    pytest.param(*_infonce(True), refs.clip, id="clip"),
    pytest.param(nt_xent_loss, nt_xent_loss_grad, refs.nt_xent, id="nt-xent"),
]


def _assert_rows_match(ours, expected):
    """float32 gradients through the normalisation. Its backward pass, (g - u (u.g)) / |z|,
    subtracts terms as large as the row's largest entry, so rounding costs a few float32 ULPs
    *of that entry* in every entry of the row: the absolute bound is 8 ULPs of each row's
    largest entry, on top of the shared float32 tolerance."""
    expected = expected.numpy()
    assert ours.dtype == expected.dtype
    assert ours.shape == expected.shape
    row_max = np.abs(expected).max(axis=-1, keepdims=True)
    bound = 2e-6 * np.abs(expected) + 1e-6 + 8 * np.spacing(row_max)
    assert np.all(np.abs(ours - expected) <= bound), np.abs(ours - expected).max()


def _check_batch(loss, grad, ref_fn, z1, z2, tau, reduction):
    t1, t2 = tensor(z1, grad=True), tensor(z2, grad=True)
    ref = ref_fn(t1, t2, tau, reduction)
    if ref.numel():
        ref.sum().backward()
    g1, g2 = grad(z1, z2, tau, reduction)
    assert_matches(loss(z1, z2, tau, reduction), ref)
    for ours, t in ((g1, t1), (g2, t2)):
        expected = t.grad if t.grad is not None else torch.zeros_like(t)
        if z1.dtype == np.float32:
            _assert_rows_match(ours, expected)
        else:
            assert_matches(ours, expected)


@pytest.mark.parametrize(("loss", "grad", "ref_fn"), BATCH_LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("tau", [0.05, 0.1, 1.0], ids=lambda t: f"tau-{t}")
@pytest.mark.parametrize("shape", [(1, 4), (2, 3), (8, 16), (33, 5)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_batch_losses_match_cross_entropy(dtype, shape, tau, reduction, loss, grad, ref_fn):
    """Values and gradients w.r.t. both embedding batches equal autograd through torch's
    normalize and cross_entropy, for every batch size (1 included), temperature, reduction."""
    z1, z2 = random_input(shape, dtype, seed=0), random_input(shape, dtype, seed=1)
    _check_batch(loss, grad, ref_fn, z1, z2, tau, reduction)


@pytest.mark.parametrize(("loss", "grad", "ref_fn"), BATCH_LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_batch_losses_empty_batch(reduction, loss, grad, ref_fn):
    """No pairs: NaN for the mean, 0 for the sum, an empty array for none, as torch gives;
    the gradients are empty (N = 0, d = 3)."""
    z = np.zeros((0, 3))
    _check_batch(loss, grad, ref_fn, z, z, 0.1, reduction)


@pytest.mark.parametrize(("loss", "grad", "ref_fn"), BATCH_LOSSES)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_batch_losses_hard_inputs(dtype, loss, grad, ref_fn):
    """Embeddings of size 1e4 and 1e-8 (cosine ignores the scale), an exact duplicate pair,
    and a zero vector (normalize gives 0; its gradient is g / eps, about 1e12, as torch's)."""
    z1 = np.array([[1e4, -2e4, 3e4], [1e-8, 2e-8, 0.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]],
                  dtype=dtype)
    z2 = np.array([[2e4, -1e4, 1e4], [1.0, 2.0, 0.0], [1.0, 2.0, 3.0], [0.5, 1.0, -1.0]],
                  dtype=dtype)
    _check_batch(loss, grad, ref_fn, z1, z2, 0.1, "sum")


@pytest.mark.parametrize(("loss", "grad", "ref_fn"), BATCH_LOSSES)
def test_batch_losses_nan(loss, grad, ref_fn):
    """A NaN coordinate makes every loss that sees it NaN, as in torch."""
    z1 = np.array([[np.nan, 1.0], [1.0, 0.0], [0.0, 1.0]])
    z2 = np.array([[1.0, 1.0], [1.0, 0.2], [0.3, 1.0]])
    t1, t2 = tensor(z1), tensor(z2)
    assert_matches(loss(z1, z2, 0.1, "none"), ref_fn(t1, t2, 0.1, "none"))
    assert np.isnan(loss(z1, z2, 0.1, "mean"))


def test_refuses_bad_shapes_and_temperatures():
    """Embeddings must be (N, d) and the temperature > 0: anything else raises ValueError."""
    z = np.ones((2, 3))
    for bad in (np.ones(3), np.array(1.0), np.ones((2, 3, 1))):
        with pytest.raises(ValueError, match=r"one shape \(N, d\)"):
            info_nce_loss(bad, bad)
        with pytest.raises(ValueError, match=r"zero-dimensional|one shape"):  # numpy: 0-d
            nt_xent_loss_grad(bad, bad)
    with pytest.raises(ValueError, match=r"one shape \(N, d\)"):
        info_nce_loss(z, np.ones((3, 3)))  # every row of z1 needs its own positive
    for tau in (0.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="temperature must be > 0"):
            info_nce_loss_grad(z, z, tau)
        with pytest.raises(ValueError, match="temperature must be > 0"):
            nt_xent_loss(z, z, tau)


def test_target_gradient_keeps_its_relative_accuracy():
    """P_target - 1 is minus the sum of the other probabilities: in float32 it stays accurate
    where torch's float32 cross_entropy, computing P - 1, rounds it to exactly 0."""
    logits = np.array([[10.0, -10.0, -10.0], [0.0, 1.0, 2.0]])
    target = np.array([0, 2])
    exact = tensor(logits, grad=True)
    functional.cross_entropy(exact, torch.tensor(target), reduction="sum").backward()
    rough = tensor(logits.astype(np.float32), grad=True)
    functional.cross_entropy(rough, torch.tensor(target), reduction="sum").backward()
    assert rough.grad[0, 0] == 0  # torch float32: 1 - P_target rounded away
    loss, g = softmax_xent(logits.astype(np.float32), target)
    assert g.dtype == np.float32
    assert loss.dtype == np.float32
    np.testing.assert_allclose(g, exact.grad.numpy(), rtol=2e-6, atol=0)


EMBED = arrays(np.float64, (2, 5, 3), elements=st.floats(-10, 10)).filter(
    lambda z: np.all(np.linalg.norm(z, axis=-1) > 1e-3))


@settings(max_examples=40, deadline=None)
@given(z=EMBED, scale=arrays(np.float64, (2, 5, 1), elements=st.floats(1e-3, 1e3)))
def test_cosine_losses_ignore_the_length_of_each_embedding(z, scale):
    """Rescaling each embedding by a positive factor changes none of the three losses."""
    for fn in (info_nce_loss, nt_xent_loss):
        np.testing.assert_allclose(fn(*(z * scale), 0.2, reduction="none"),
                                   fn(*z, 0.2, reduction="none"), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(info_nce_loss(*(z * scale), 0.2, True, "none"),
                               info_nce_loss(*z, 0.2, True, "none"), rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(z=EMBED)
def test_clip_loss_is_symmetric(z):
    """CLIP's loss treats its two batches alike: swapping them changes nothing."""
    np.testing.assert_allclose(info_nce_loss(z[0], z[1], 0.1, True, "none"),
                               info_nce_loss(z[1], z[0], 0.1, True, "none"),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 7])
def test_collapsed_embeddings_cost_log_of_the_candidates(n):
    """All embeddings equal: every logit ties, so InfoNCE costs log N and NT-Xent
    log(2N - 1), the loss of a uniform guess; a batch of one costs 0 (no negatives)."""
    z = np.ones((n, 4))
    np.testing.assert_allclose(info_nce_loss(z, z, 0.1, reduction="none"), np.log(n),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(nt_xent_loss(z, z, 0.1, reduction="none"), np.log(2 * n - 1),
                               rtol=1e-12, atol=1e-15)
    assert normalize(z).dtype == z.dtype


@pytest.mark.parametrize(("loss", "grad", "ref_fn"), BATCH_LOSSES)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_one_dimensional_embeddings_have_zero_gradient(dtype, loss, grad, ref_fn):
    """With d = 1 every cosine is +-1 whatever the lengths, so the gradients are exactly 0
    (torch's carry rounding noise there); the values equal torch's."""
    z1, z2 = random_input((9, 1), dtype, seed=0), random_input((9, 1), dtype, seed=1)
    assert_matches(loss(z1, z2, 0.1, "none"), ref_fn(tensor(z1), tensor(z2), 0.1, "none"))
    for g in grad(z1, z2, 0.1, "sum"):
        assert g.dtype == dtype
        assert np.all(g == 0)


def test_unknown_reduction_is_refused():
    """A misspelt reduction raises ValueError in every loss and gradient."""
    z, y = np.ones((2, 3)), np.ones(2)
    for call in (lambda: contrastive_loss(z, z, y, reduction="avg"),
                 lambda: contrastive_loss_grad(z, z, y, reduction="avg"),
                 lambda: info_nce_loss(z, z, reduction="avg"),
                 lambda: info_nce_loss_grad(z, z, reduction="avg"),
                 lambda: nt_xent_loss(z, z, reduction="avg"),
                 lambda: nt_xent_loss_grad(z, z, reduction="avg")):
        with pytest.raises(ValueError, match="unknown reduction"):
            call()
