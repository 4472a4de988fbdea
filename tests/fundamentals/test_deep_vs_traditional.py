"""Logistic loss and gradient against torch, the Newton fit, the integral image and Haar-like
features against torch.cumsum and direct sums, the window tagger, and the demonstrations of
snippets/fundamentals/deep_vs_traditional.py (simple model vs MLP, learned vs hand-made
features, context vs one label per word)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.fundamentals.deep_vs_traditional import (
    PAD,
    W_TRUE,
    accuracy_linear,
    accuracy_mlp,
    box_sum,
    circles,
    circles_accuracy,
    fit_logistic,
    fit_mlp,
    haar_two_rect,
    integral_image,
    learning_curve,
    linear_world,
    logistic_loss,
    sentences,
    tag,
    train_tagger,
    train_unigram,
    windows,
)
from tests.helpers import DTYPES, TOLERANCE, assert_matches, dtype_id


def torch_logistic(w, b, X, y):
    """torch's mean logistic loss and its autograd gradients with respect to w and b."""
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(X) @ wt + bt, torch.tensor(y))
    loss.backward()
    return loss, wt.grad, bt.grad


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("n", "d"), [(1, 1), (7, 3), (50, 10)])
def test_logistic_loss_and_gradient_match_torch(n, d, dtype):
    """Loss and gradients equal binary_cross_entropy_with_logits and autograd's."""
    rng = np.random.default_rng(n * d)
    X = rng.normal(size=(n, d)).astype(dtype)
    y = (rng.random(n) < 0.5).astype(dtype)
    w, b = rng.normal(size=d).astype(dtype), dtype(rng.normal())
    loss, gw, gb = logistic_loss(w, b, X, y)
    ref, rw, rb = torch_logistic(w, b, X, y)
    assert_matches(loss, ref)
    assert_matches(gw, rw)
    assert_matches(gb, rb)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_logistic_loss_huge_logits(dtype):
    """Logits of +-1e4 (right and wrong side) give finite loss and gradient equal to torch's:
    loss about 1e4 per wrong example, 0 per right one, gradient +-1/n."""
    X = np.array([[1.0], [-1.0], [1.0], [-1.0]], dtype=dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0], dtype=dtype)  # two right, two wrong
    w, b = np.array([1e4], dtype=dtype), dtype(0.0)
    loss, gw, gb = logistic_loss(w, b, X, y)
    ref, rw, rb = torch_logistic(w, b, X, y)
    assert np.isfinite(loss)
    assert np.all(np.isfinite(gw))
    assert_matches(loss, ref)
    assert_matches(gw, rw)
    assert_matches(gb, rb)
    np.testing.assert_allclose(loss, 2 * 1e4 / 4, rtol=1e-6)


def test_logistic_loss_at_zero_is_log2():
    """With all logits 0 the loss is log 2 whatever the labels (identity)."""
    X = np.random.default_rng(0).normal(size=(9, 3))
    y = (np.arange(9) % 2).astype(float)
    loss, _, _ = logistic_loss(np.zeros(3), 0.0, X, y)
    np.testing.assert_allclose(loss, np.log(2), rtol=1e-15)


@pytest.mark.parametrize("lam", [1e-2, 1.0])
def test_newton_fit_is_stationary(lam):
    """The fitted weights zero the gradient of the penalized loss (to 1e-10), and a small
    random move away raises it."""
    X, y = linear_world(200, seed=3)
    w, b = fit_logistic(X, y, lam=lam)
    loss, gw, gb = logistic_loss(w, b, X, y)
    assert np.abs(gw + lam * w).max() < 1e-10
    assert abs(gb) < 1e-10
    rng = np.random.default_rng(0)
    for _ in range(5):
        dw, db = 1e-3 * rng.normal(size=w.shape), 1e-3 * rng.normal()
        moved = logistic_loss(w + dw, b + db, X, y)[0] + lam / 2 * np.sum((w + dw) ** 2)
        assert moved > loss + lam / 2 * np.sum(w**2)


def test_newton_fit_stays_finite_on_separable_data():
    """On linearly separable data the L2 penalty keeps the weights finite, and the fit
    separates the training set."""
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y = np.array([0.0, 0.0, 1.0, 1.0])
    w, b = fit_logistic(X, y)
    assert np.all(np.isfinite(w))
    assert np.isfinite(b)
    assert accuracy_linear(w, b, X, y) == 1


def test_simple_model_wins_on_a_linear_problem():
    """Averaged over 10 seeds, logistic regression is as good as the MLP with 20 examples
    (gap -0.006 to +0.020 measured on six disjoint groups of 10 seeds; asserted >= -0.03) and
    better with 200 (gap 0.040 to 0.052 measured; asserted > 0.02), and with 1000 it is within
    0.02 of the true boundary's accuracy (-0.007 to +0.011 behind it measured for seeds 0-29)."""
    (_, lin20, mlp20), (_, lin200, mlp200) = learning_curve((20, 200), range(10))
    assert lin20 > mlp20 - 0.03
    assert lin200 > mlp200 + 0.02
    Xt, yt = linear_world(2000, seed=10_000)
    X, y = linear_world(1000, seed=0)
    assert accuracy_linear(*fit_logistic(X, y), Xt, yt) > accuracy_linear(W_TRUE, 0, Xt, yt) - 0.02


def test_mlp_fits_the_label_noise_of_the_linear_problem():
    """With 200 examples, of which about one in eight has the label the true boundary does not
    give, the MLP fits at least 99% of its training labels (100% measured for seeds 0-19)
    while logistic regression fits at most 95% (0.835 to 0.92 measured)."""
    for s in range(5):
        X, y = linear_world(200, seed=s)
        assert accuracy_mlp(fit_mlp(X, y, seed=s), X, y) >= 0.99
        assert accuracy_linear(*fit_logistic(X, y), X, y) <= 0.95


def test_on_circles_the_best_line_cuts_a_slice_and_logistic_weights_vanish():
    """The best vertical line x1 = c (any direction is as good, by symmetry) is right 60% to
    66% of the time (0.627 measured on 20,000 points), and logistic regression's weights on
    (x1, x2) shrink towards 0 as the sample grows (norm 0.01 to 0.07 measured at n = 2000 for
    seeds 0-4; asserted < 0.15): the line they draw is set by the noise of the sample."""
    X, y = circles(20_000, seed=10_000)
    best = max(np.mean((X[:, 0] > c) == y) for c in np.linspace(-3, 3, 121))
    assert 0.60 < best < 0.66
    for s in range(5):
        w, _ = fit_logistic(*circles(2000, seed=s))
        assert np.linalg.norm(w) < 0.15


def test_learned_features_win_on_circles_and_the_radius_catches_up():
    """On concentric circles (mean of 5 seeds), logistic regression on (x1, x2) is near chance
    (0.445 to 0.508 measured on six disjoint groups of 5 seeds; asserted < 0.6), the MLP beats
    it by more than 0.3 (0.46 to 0.52 measured), and logistic regression with the squared
    radius added is within 0.02 of the MLP or better (+0.003 to +0.010 measured)."""
    raw, mlp, rad = circles_accuracy(range(5))
    assert raw < 0.6
    assert mlp > raw + 0.3
    assert rad > mlp - 0.02


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", [(1, 1), (24, 24), (5, 17), (0, 3)])
def test_integral_image_matches_cumsum(shape, dtype):
    """The integral image is torch's double cumulative sum, with a zero first row and column."""
    img = np.random.default_rng(0).random(shape).astype(dtype)
    S = integral_image(img)
    assert S.shape == (shape[0] + 1, shape[1] + 1)
    assert S.dtype == dtype
    assert np.all(S[0] == 0)
    assert np.all(S[:, 0] == 0)
    ref = torch.tensor(img).cumsum(0).cumsum(1)
    # float32: sums of up to 576 values in [0, 1) differ by summation order; relative bound.
    assert_matches(S[1:, 1:], ref, atol=0, rtol=TOLERANCE[np.dtype(dtype)]["rtol"] * 10)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 23), st.integers(0, 23), st.data())
def test_box_sum_and_haar_equal_direct_sums(top, left, data):
    """Four look-ups give any rectangle's sum, and the Haar feature is the difference of its
    halves' direct sums (integer pixels, as float64 and as uint8: exact)."""
    h = data.draw(st.integers(0, 24 - top))
    w = data.draw(st.integers(0, (24 - left) // 2)) * 2
    dtype = data.draw(st.sampled_from([np.float64, np.uint8]))
    pixels = np.random.default_rng(top * 24 + left).integers(0, 256, size=(24, 24))
    img = pixels.astype(dtype)
    S = integral_image(img)
    assert box_sum(S, top, left, h, w) == pixels[top:top + h, left:left + w].sum()
    half = w // 2
    direct = (pixels[top:top + h, left:left + half].sum()
              - pixels[top:top + h, left + half:left + w].sum())
    assert haar_two_rect(S, top, left, h, w) == direct


def test_integral_image_of_uint8_pixels_does_not_wrap():
    """uint8 pixels (how images are stored) are summed in int64, as torch.cumsum does: a
    white 24 x 24 window sums to 255 * 576, and a feature can be negative."""
    img = np.full((24, 24), 255, dtype=np.uint8)
    S = integral_image(img)
    assert S.dtype == np.int64
    np.testing.assert_array_equal(S[1:, 1:], torch.tensor(img).cumsum(0).cumsum(1).numpy())
    assert S[24, 24] == 255 * 576
    img[:, :12] = 0  # dark left half
    assert haar_two_rect(integral_image(img), 0, 0, 24, 24) == -255 * 288


def test_haar_feature_refuses_an_odd_width():
    """A width that cannot be split into two equal halves raises ValueError."""
    S = integral_image(np.ones((4, 4)))
    with pytest.raises(ValueError, match="even"):
        haar_two_rect(S, 0, 0, 4, 3)


def test_haar_feature_changes_sign_when_mirrored():
    """Mirroring the window left-right negates a full-width two-rectangle feature."""
    img = np.random.default_rng(1).random((24, 24))
    a = haar_two_rect(integral_image(img), 0, 0, 24, 24)
    b = haar_two_rect(integral_image(img[:, ::-1].copy()), 0, 0, 24, 24)
    np.testing.assert_allclose(a, -b, rtol=1e-12)


def test_windows_pad_and_centre():
    """Each row is the word and its two neighbours on each side, padded at the ends."""
    vocab = {PAD: 0, "a": 1, "b": 2, "c": 3}
    np.testing.assert_array_equal(windows(["a", "b", "c"], vocab),
                                  [[0, 0, 1, 2, 3], [0, 1, 2, 3, 0], [1, 2, 3, 0, 0]])
    assert windows([], vocab).shape == (0, 5)


@pytest.mark.parametrize("seed", range(5))
def test_context_decides_the_label_of_florida(seed):
    """On 100 fresh sentences, the window tagger labels 'Florida' right at least 95% of the
    time as a place and as part of a title (100% measured for seeds 0-9), while one label per
    word gives 'Florida' one label in both contexts, so is right only as often as that label
    occurs (0.37 to 0.58 measured; asserted < 0.7)."""
    train = sentences(np.random.default_rng(seed), 60)
    model, vocab = train_tagger(train, seed=seed)
    unigram = train_unigram(train)
    test = sentences(np.random.default_rng(1000 + seed), 100)
    right = {"PLACE": [], "TITLE": []}
    context_free = []
    for words, labels in test:
        i = words.index("Florida")
        right[labels[i]].append(tag(model, vocab, words)[i] == labels[i])
        context_free.append(unigram["Florida"] == labels[i])
    assert np.mean(right["PLACE"]) >= 0.95
    assert np.mean(right["TITLE"]) >= 0.95
    assert np.mean(context_free) < 0.7
