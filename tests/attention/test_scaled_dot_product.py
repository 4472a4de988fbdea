"""Scaled dot-product attention matches torch.nn.functional.scaled_dot_product_attention."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.attention.scaled_dot_product import (
    attention_dropout,
    attention_weights,
    causal_mask,
    scaled_dot_product_attention,
    softmax_rows,
)
from tests.helpers import TOLERANCE

TORCH_DTYPES = (torch.float64, torch.float32)
SHAPES = [  # q, k, v: batch dims, L != S, E != Ev, empty sizes
    pytest.param(((4, 8), (6, 8), (6, 5)), id="no-batch"),
    pytest.param(((1, 1, 8), (1, 1, 8), (1, 1, 3)), id="one-query-one-key"),
    pytest.param(((3, 5, 4), (3, 2, 4), (3, 2, 7)), id="L>S"),
    pytest.param(((2, 3, 4, 8), (2, 3, 9, 8), (2, 3, 9, 5)), id="batch-heads"),
    pytest.param(((2, 1, 3, 4, 6), (2, 1, 3, 5, 6), (2, 1, 3, 5, 2)), id="three-batch-dims"),
    pytest.param(((0, 4, 8), (0, 6, 8), (0, 6, 5)), id="empty-batch"),
    pytest.param(((2, 0, 8), (2, 6, 8), (2, 6, 5)), id="no-queries"),
    pytest.param(((2, 4, 8), (2, 0, 8), (2, 0, 5)), id="no-keys"),
]


def dtype_id(dtype):
    return str(dtype).removeprefix("torch.")


def tol(dtype):
    return TOLERANCE[np.dtype(str(dtype).removeprefix("torch."))]


def inputs(shapes, dtype, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(s, dtype=dtype, generator=g) * scale for s in shapes]


def both(qkv, seed=1, **kwargs):
    """Ours and torch's output and (q, k, v) gradients for one upstream gradient."""
    results = []
    for fn in (scaled_dot_product_attention, F.scaled_dot_product_attention):
        ins = [t.clone().requires_grad_() for t in qkv]
        out = fn(*ins, **kwargs)
        up = torch.randn(out.shape, dtype=out.dtype, generator=torch.Generator().manual_seed(seed))
        out.backward(up)
        results.append((out.detach(), [t.grad for t in ins]))
    return results


def assert_close(ours, ref, dtype, **override):
    assert ours.dtype == ref.dtype
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), **{**tol(dtype), **override})


def assert_same_results(results, dtype, **override):
    (out, grads), (ref, ref_grads) = results
    assert_close(out, ref, dtype, **override)
    for g, rg in zip(grads, ref_grads, strict=True):
        if rg is None:  # torch returns no gradient for an input of size 0
            assert g is None or g.numel() == 0
        else:
            assert_close(g, rg, dtype, **override)


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("kwargs", [{}, {"is_causal": True}, {"scale": 0.1}, {"scale": 2.0}],
                         ids=["plain", "causal", "scale0.1", "scale2"])
def test_value_and_gradients_match_torch(shapes, kwargs, dtype):
    """Output and d/dq, d/dk, d/dv agree with torch for every shape, scale and causal flag."""
    assert_same_results(both(inputs(shapes, dtype), **kwargs), dtype)


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("mask_shape", [(4, 6), (2, 1, 4, 6), (2, 3, 4, 6), (1, 6)], ids=str)
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_masks_match_torch(kind, mask_shape, dtype):
    """Boolean and additive masks, broadcast from several shapes, agree with torch."""
    qkv = inputs([(2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)], dtype)
    g = torch.Generator().manual_seed(3)
    keep = torch.rand(mask_shape, generator=g) > 0.4
    keep[..., 0] = True  # every query keeps one key: no fully masked row here
    if kind == "bool":
        mask = keep
    else:  # an additive mask carries real-valued biases as well as -inf
        mask = torch.randn(mask_shape, dtype=dtype, generator=g).masked_fill(~keep, -math.inf)
    assert_same_results(both(qkv, attn_mask=mask), dtype)


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=dtype_id)
def test_true_means_take_part(dtype):
    """A boolean mask keeps the keys marked True: the same as dropping the False keys outright."""
    q, k, v = inputs([(3, 4), (5, 4), (5, 2)], dtype)
    keep = torch.tensor([True, False, True, True, False])
    ours = scaled_dot_product_attention(q, k, v, attn_mask=keep)
    subset = scaled_dot_product_attention(q, k[keep], v[keep], scale=1 / 2)  # 1/sqrt(E = 4)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    assert_close(ours, subset, dtype)
    assert_close(ours, ref, dtype)


def test_key_padding_mask_of_multihead_attention_is_the_opposite():
    """nn.MultiheadAttention's key_padding_mask drops the keys marked True, the page's claim."""
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(4, 1, batch_first=True, dtype=torch.float64)
    x = torch.randn(1, 3, 4, dtype=torch.float64)
    padding = torch.tensor([[False, False, True]])  # True: the third key is padding
    with torch.no_grad():
        padded, _ = mha(x, x, x, key_padding_mask=padding)
        without, _ = mha(x, x[:, :2], x[:, :2])
    torch.testing.assert_close(padded, without, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_fully_masked_row_gives_zeros_like_torch(kind, dtype):
    """A query that may see no key gets output 0 and gradient 0, not NaN, exactly as torch."""
    qkv = inputs([(2, 4, 8), (2, 6, 8), (2, 6, 5)], dtype)
    keep = torch.ones(4, 6, dtype=torch.bool)
    keep[1] = False
    keep[3, 2:] = False
    mask = keep if kind == "bool" else torch.zeros(4, 6, dtype=dtype).masked_fill(~keep, -math.inf)
    results = both(qkv, attn_mask=mask)
    (out, grads), (ref, _) = results
    assert torch.equal(out[:, 1], torch.zeros_like(out[:, 1]))
    assert torch.equal(ref[:, 1], torch.zeros_like(ref[:, 1]))
    assert torch.equal(grads[0][:, 1], torch.zeros_like(grads[0][:, 1]))  # d/dq of that row
    assert all(torch.isfinite(g).all() for g in grads)
    assert_same_results(results, dtype)


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=dtype_id)
def test_huge_scores_match_torch(dtype):
    """Scores of order 1e4 (saturated softmax) agree with torch in value and gradient."""
    qkv = inputs([(2, 4, 8), (2, 6, 8), (2, 6, 5)], dtype, scale=1.0)
    qkv[0] = qkv[0] * 1e4  # scores ~ 1e4 / sqrt(8) * |k|: one key takes all the weight
    results = both(qkv)
    out, _ = results[0]
    assert torch.isfinite(out).all()
    # d/dq is 0 up to rounding in a saturated softmax; compare absolutely, scaled to |q| ~ 1e4
    assert_same_results(results, dtype, atol=tol(dtype)["atol"] * 1e4)


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=dtype_id)
def test_nan_spreads_to_its_row_only(dtype):
    """A NaN in one query makes that output row NaN and leaves the others, as in torch."""
    q, k, v = inputs([(4, 8), (6, 8), (6, 5)], dtype)
    q[2, 3] = math.nan
    ours = scaled_dot_product_attention(q, k, v)
    ref = F.scaled_dot_product_attention(q, k, v)
    assert torch.equal(torch.isnan(ours), torch.isnan(ref))
    assert torch.isnan(ours[2]).all()
    assert not torch.isnan(ours[[0, 1, 3]]).any()
    assert_close(ours[[0, 1, 3]], ref[[0, 1, 3]], dtype)


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=dtype_id)
def test_grouped_query_attention_matches_torch(dtype):
    """enable_gqa: 6 query heads share 2 key/value heads, as torch groups them."""
    qkv = inputs([(2, 6, 4, 8), (2, 2, 5, 8), (2, 2, 5, 3)], dtype)
    assert_same_results(both(qkv, enable_gqa=True), dtype)


@pytest.mark.parametrize(("L", "S"), [(3, 3), (2, 5), (5, 2)])
def test_causal_mask_is_top_left_aligned_like_torch(L, S):
    """is_causal lets query i see keys 0..i, counted from the top left also when L != S."""
    q, k, v = inputs([(L, 4), (S, 4), (S, 3)], torch.float64)
    expected = torch.tensor([[j <= i for j in range(S)] for i in range(L)])
    assert torch.equal(causal_mask(L, S), expected)
    ours = scaled_dot_product_attention(q, k, v, is_causal=True)
    assert_close(ours, scaled_dot_product_attention(q, k, v, attn_mask=expected), torch.float64)
    assert_close(ours, F.scaled_dot_product_attention(q, k, v, is_causal=True), torch.float64)


def test_causal_flag_and_mask_together_are_refused():
    """attn_mask with is_causal=True raises a ValueError (torch raises a RuntimeError)."""
    q, k, v = inputs([(3, 4), (3, 4), (3, 2)], torch.float64)
    mask = torch.ones(3, 3, dtype=torch.bool)
    with pytest.raises(ValueError, match="not both"):
        scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=True)
    with pytest.raises(RuntimeError):
        F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=True)


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_matches_torch_with_the_same_seed(p, dtype):
    """With dropout and the same seed, output and gradients equal torch's."""
    qkv = inputs([(2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 4)], dtype)
    results = []
    for fn in (scaled_dot_product_attention, F.scaled_dot_product_attention):
        ins = [t.clone().requires_grad_() for t in qkv]
        torch.manual_seed(11)
        out = fn(*ins, dropout_p=p)
        out.sum().backward()
        results.append((out.detach(), [t.grad for t in ins]))
    assert_same_results(results, dtype)
    assert not torch.equal(results[0][0], both(qkv)[0][0])  # dropout did change the output


def test_dropout_edges():
    """dropout_p = 0 changes nothing, dropout_p = 1 gives zeros (as torch), p outside [0, 1] is
    refused with a ValueError, where torch raises for p > 1 and treats p < 0 as 0."""
    q, k, v = inputs([(4, 8), (6, 8), (6, 5)], torch.float64)
    assert torch.equal(scaled_dot_product_attention(q, k, v, dropout_p=0.0),
                       scaled_dot_product_attention(q, k, v))
    assert torch.equal(scaled_dot_product_attention(q, k, v, dropout_p=1.0),
                       torch.zeros(4, 5, dtype=torch.float64))
    assert torch.equal(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0),
                       torch.zeros(4, 5, dtype=torch.float64))
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="dropout_p"):
            scaled_dot_product_attention(q, k, v, dropout_p=p)
    with pytest.raises(RuntimeError):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)
    assert torch.equal(F.scaled_dot_product_attention(q, k, v, dropout_p=-0.1),
                       F.scaled_dot_product_attention(q, k, v))


def test_dropped_rows_no_longer_sum_to_one_but_do_on_average():
    """After dropout a row sums to (sum of kept weights) / (1 - p), and to 1 on average.

    Each row sum is sum_j xi_j w_j / (1 - p) with xi_j ~ Bernoulli(1 - p): its mean is 1 and its
    variance p / (1 - p) * sum_j w_j^2 <= p / (1 - p). The mean of N independent rows is
    therefore within 6 standard deviations, 6 sqrt(p / ((1 - p) N)), of 1 except with
    probability below 1e-8.
    """
    p, N = 0.2, 20_000
    g = torch.Generator().manual_seed(0)
    q = torch.randn(N, 1, 8, dtype=torch.float64, generator=g)
    k = torch.randn(N, 10, 8, dtype=torch.float64, generator=g)
    w = attention_weights(q, k, scale=1.0)  # (N, 1, 10)
    dropped = attention_dropout(w, p, generator=g)
    sums = dropped.sum(-1).flatten()
    kept = (dropped != 0).double()
    torch.testing.assert_close(sums, (w * kept).sum(-1).flatten() / (1 - p))
    assert (sums >= 0).all()
    assert (sums <= 1 / (1 - p) + 1e-12).all()
    assert (sums - 1).abs().max() > 0.1  # individual rows are far from 1
    assert abs(sums.mean().item() - 1) < 6 * math.sqrt(p / ((1 - p) * N))


@settings(max_examples=50, deadline=None)
@given(L=st.integers(1, 6), S=st.integers(1, 6), seed=st.integers(0, 2**31 - 1))
def test_output_is_a_convex_combination_of_values_and_ignores_key_order(L, S, seed):
    """Each output lies between the smallest and largest value; permuting keys with their
    values changes nothing."""
    q, k, v = inputs([(L, 4), (S, 4), (S, 3)], torch.float64, seed=seed, scale=3.0)
    out = scaled_dot_product_attention(q, k, v)
    assert (out >= v.min(0).values - 1e-12).all()
    assert (out <= v.max(0).values + 1e-12).all()
    perm = torch.randperm(S, generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(scaled_dot_product_attention(q, k[perm], v[perm]), out,
                               rtol=1e-12, atol=1e-12)
    weights = softmax_rows(q @ k.T / 2)
    torch.testing.assert_close(weights.sum(-1), torch.ones(L, dtype=torch.float64),
                               rtol=1e-12, atol=1e-12)


def test_finite_large_negative_mask_on_a_whole_row_is_not_a_mask():
    """A whole row masked with -1e9 instead of -inf is not zeroed: softmax ignores a constant
    shift, so in float64 the row equals the unmasked one; in float32 -1e9 swamps the scores
    (spacing of floats near 1e9 is 64) and the row is the plain mean of the values.
    Also: a plain softmax over an all -inf row is NaN."""
    q, k, v = inputs([(2, 4), (5, 4), (5, 3)], torch.float64)
    mask = torch.zeros(2, 5, dtype=torch.float64)
    mask[0] = -1e9
    unmasked = scaled_dot_product_attention(q, k, v)
    for fn in (scaled_dot_product_attention, F.scaled_dot_product_attention):
        # -1e9 + s is rounded to a multiple of 2**-23 ~ 1.2e-7, which moves the weights by
        # a relative ~2.4e-7 at most; the values are of order 1
        torch.testing.assert_close(fn(q, k, v, attn_mask=mask), unmasked, rtol=0, atol=1e-6)
        q32, k32, v32, m32 = (t.float() for t in (q, k, v, mask))
        torch.testing.assert_close(fn(q32, k32, v32, attn_mask=m32)[0], v32.mean(0),
                                   rtol=2e-6, atol=1e-6)
    assert torch.isnan(torch.softmax(torch.full((3,), -math.inf), dim=-1)).all()


def test_causal_single_query_sees_only_the_first_key():
    """With L = 1 query and S keys, is_causal=True (top-left) returns the first value only."""
    q, k, v = inputs([(1, 4), (5, 4), (5, 3)], torch.float64)
    torch.testing.assert_close(scaled_dot_product_attention(q, k, v, is_causal=True), v[:1],
                               rtol=0, atol=0)
    torch.testing.assert_close(F.scaled_dot_product_attention(q, k, v, is_causal=True), v[:1],
                               rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("mask_dtype", [torch.int64, torch.uint8], ids=str)
def test_integer_mask_is_refused_like_torch(mask_dtype):
    """A mask that is neither bool nor float raises (torch: RuntimeError) instead of being added
    to the scores as if it were an additive mask."""
    q, k, v = inputs([(3, 4), (5, 4), (5, 2)], torch.float64)
    mask = torch.ones(3, 5, dtype=mask_dtype)
    with pytest.raises(TypeError, match="bool or float"):
        scaled_dot_product_attention(q, k, v, attn_mask=mask)
    with pytest.raises(RuntimeError):
        F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


@pytest.mark.parametrize(("L", "S", "E", "Ev"), [(16, 16, 8, 8), (5, 32, 4, 6), (64, 3, 2, 1)])
def test_multiply_adds_are_l_s_e_plus_l_s_ev_as_for_torch(L, S, E, Ev):
    """The page's cost figure counts L·S·E + L·S·Ev multiply-adds per call for ours, the same
    count torch's FlopCounterMode gives its own SDPA (which is what makes the work quadratic in
    the length for self-attention)."""
    from torch.utils.flop_counter import FlopCounterMode

    q, k, v = torch.randn(2, L, E), torch.randn(2, S, E), torch.randn(2, S, Ev)
    counts = []
    for fn in (scaled_dot_product_attention, F.scaled_dot_product_attention):
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            fn(q, k, v)
        counts.append(counter.get_total_flops() // 2)
    assert counts == [2 * L * S * (E + Ev)] * 2
