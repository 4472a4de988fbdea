"""Additive (Bahdanau) attention against its float64 formula, finite differences and Keras."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.attention.additive import additive_attention, additive_scores, random_parameters
from tests.helpers import TOLERANCE

TORCH_DTYPES = (torch.float64, torch.float32)


def dtype_id(dtype):
    return str(dtype).removeprefix("torch.")


def formula(s, h, W, U, v, values=None, keep=None):
    """Contexts from the paper's equations, one (i, j) at a time, in float64 Python arithmetic;
    `keep` (a list of booleans per key) leaves keys out; a row with no key gives zeros."""
    s, h, W, U, v = (t.double().tolist() for t in (s, h, W, U, v))
    values = h if values is None else values.double().tolist()
    keep = [True] * len(h) if keep is None else keep
    out = []
    for s_i in s:
        e = [sum(v[a] * math.tanh(sum(w * x for w, x in zip(W[a], s_i, strict=True))
                                  + sum(u * x for u, x in zip(U[a], h_j, strict=True)))
                 for a in range(len(v))) for h_j in h]
        kept = [j for j in range(len(h)) if keep[j]]
        width = len(values[0]) if values else 0
        if not kept:
            out.append([0.0] * width)
            continue
        top = max(e[j] for j in kept)
        z = sum(math.exp(e[j] - top) for j in kept)
        out.append([sum(math.exp(e[j] - top) / z * values[j][m] for j in kept)
                    for m in range(width)])
    width = len(values[0]) if values else 0
    return torch.tensor(out, dtype=torch.float64).reshape(len(s), width)


def data(B, L, S, Dq, Dk, A, dtype, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed + 100)
    s = torch.randn(*B, L, Dq, generator=g, dtype=torch.float64) * scale
    h = torch.randn(*B, S, Dk, generator=g, dtype=torch.float64)
    params = random_parameters(Dq, Dk, A, seed=seed)
    return [t.to(dtype) for t in (s, h, *params)]


def tol(dtype):
    return TOLERANCE[np.dtype(dtype_id(dtype))]


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=dtype_id)
@pytest.mark.parametrize(
    ("L", "S", "Dq", "Dk", "A"),
    [(1, 1, 1, 1, 1), (3, 5, 6, 4, 8), (4, 2, 3, 7, 5), (0, 3, 2, 2, 2)],
    ids=["all-ones", "L<S", "L>S", "no-queries"],
)
def test_value_matches_the_float64_formula(L, S, Dq, Dk, A, dtype):
    """Contexts equal the formula for unbatched inputs of several shapes, both precisions."""
    s, h, W, U, v = data((), L, S, Dq, Dk, A, dtype)
    ours, alpha = additive_attention(s, h, W, U, v)
    assert ours.dtype == dtype
    assert alpha.shape == (L, S)
    np.testing.assert_allclose(ours.double().numpy(), formula(s, h, W, U, v).numpy(), **tol(dtype))


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=dtype_id)
def test_batch_dimensions_separate_values_and_masks(dtype):
    """With batch dims (2, 3), separate values (Dv = 2) and a per-sequence mask, every sequence
    equals the formula on its own."""
    s, h, W, U, v = data((2, 3), 4, 5, 3, 6, 7, dtype)
    values = torch.randn(2, 3, 5, 2, dtype=dtype)
    keep = torch.rand(2, 3, 1, 5, generator=torch.Generator().manual_seed(1)) > 0.4
    keep[..., 0] = True
    ours, _ = additive_attention(s, h, W, U, v, mask=keep, values=values)
    for b in range(2):
        for c in range(3):
            ref = formula(s[b, c], h[b, c], W, U, v, values[b, c], keep[b, c, 0].tolist())
            np.testing.assert_allclose(ours[b, c].double().numpy(), ref.numpy(), **tol(dtype))


@pytest.mark.parametrize("with_dead_row", [False, True], ids=["masked", "fully-masked-row"])
def test_gradients_match_finite_differences(with_dead_row):
    """torch.autograd.gradcheck in float64 on all five inputs, with a mask (and a query that
    may see no key, whose gradient must be zero rather than NaN)."""
    s, h, W, U, v = data((2,), 3, 4, 3, 2, 5, torch.float64)
    keep = torch.tensor([[True, False, True, True]] * 3)
    if with_dead_row:
        keep[1] = False
    inputs = [t.clone().requires_grad_() for t in (s, h, W, U, v)]
    assert torch.autograd.gradcheck(lambda *t: additive_attention(*t, mask=keep)[0], inputs)
    assert torch.autograd.gradcheck(lambda *t: additive_attention(*t, mask=keep)[1], inputs)
    additive_attention(*inputs, mask=keep)[0].sum().backward()
    assert all(torch.isfinite(t.grad).all() for t in inputs)
    if with_dead_row:
        assert torch.equal(inputs[0].grad[:, 1], torch.zeros_like(inputs[0].grad[:, 1]))


def test_true_means_take_part_and_dead_rows_are_zero():
    """Masked keys get weight exactly 0, the rest match attention over the kept keys only, and
    a query with no key left gets zero weights and a zero context."""
    s, h, W, U, v = data((), 3, 5, 4, 4, 6, torch.float64)
    keep = torch.tensor([[True, False, True, False, True]] * 2 + [[False] * 5])
    ctx, alpha = additive_attention(s, h, W, U, v, mask=keep)
    sub_ctx, sub_alpha = additive_attention(s[:2], h[keep[0]], W, U, v)
    assert torch.equal(alpha[:2, ~keep[0]], torch.zeros(2, 2, dtype=torch.float64))
    torch.testing.assert_close(alpha[:2, keep[0]], sub_alpha, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ctx[:2], sub_ctx, rtol=1e-12, atol=1e-12)
    assert torch.equal(ctx[2], torch.zeros(4, dtype=torch.float64))
    assert torch.equal(alpha[2], torch.zeros(5, dtype=torch.float64))


def test_no_keys_gives_zero_contexts():
    """S = 0: the context of every query is zero (an empty average), not NaN."""
    s, h, W, U, v = data((), 3, 0, 2, 2, 4, torch.float64)
    ctx, alpha = additive_attention(s, h, W, U, v)
    assert alpha.shape == (3, 0)
    assert torch.equal(ctx, torch.zeros(3, 2, dtype=torch.float64))


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=dtype_id)
def test_huge_inputs_saturate_without_overflow(dtype):
    """Queries of size 1e4 saturate tanh: scores stay within sum |v| and the result is finite
    and matches the formula."""
    s, h, W, U, v = data((), 3, 4, 5, 5, 6, dtype, scale=1e4)
    e = additive_scores(s, h, W, U, v)
    assert (e.abs() <= v.abs().sum() * (1 + 1e-6)).all()
    ours, _ = additive_attention(s, h, W, U, v)
    assert torch.isfinite(ours).all()
    np.testing.assert_allclose(ours.double().numpy(), formula(s, h, W, U, v).numpy(), **tol(dtype))


def test_nan_query_spreads_to_its_row_only():
    """A NaN in one query gives a NaN context for that query and leaves the others intact."""
    s, h, W, U, v = data((), 3, 4, 2, 2, 3, torch.float64)
    s[1, 0] = math.nan
    ctx, _ = additive_attention(s, h, W, U, v)
    assert torch.isnan(ctx[1]).all()
    assert not torch.isnan(ctx[[0, 2]]).any()


@settings(max_examples=50, deadline=None)
@given(L=st.integers(1, 4), S=st.integers(1, 6), A=st.integers(1, 8), seed=st.integers(0, 10**6),
       scale=st.sampled_from([0.1, 1.0, 100.0]))
def test_weights_are_bounded_away_from_zero(L, S, A, seed, scale):
    """|e_ij| <= ||v||_1, so every unmasked weight is at least exp(-2 ||v||_1) / S, rows sum
    to 1, and the context lies between the smallest and largest key entries."""
    s, h, W, U, v = data((), L, S, 3, 3, A, torch.float64, seed=seed, scale=scale)
    ctx, alpha = additive_attention(s, h, W, U, v)
    bound = math.exp(-2 * v.abs().sum().item()) / S
    assert (alpha >= bound * (1 - 1e-12)).all()
    torch.testing.assert_close(alpha.sum(-1), torch.ones(L, dtype=torch.float64),
                               rtol=1e-12, atol=1e-12)
    assert (ctx >= h.min(0).values - 1e-12).all()
    assert (ctx <= h.max(0).values + 1e-12).all()


@pytest.fixture(scope="module")
def keras():
    import keras

    assert keras.backend.backend() == "torch", "tests/conftest.py selects Keras' torch backend"
    return keras


def test_keras_additive_attention_is_the_unprojected_case(keras):
    """keras.layers.AdditiveAttention(use_scale=True) is this attention with W = U = I and v its
    `scale`; with a value mask, True keeps a key (float32, Keras runs in float32)."""
    layer = keras.layers.AdditiveAttention(use_scale=True)
    g = torch.Generator().manual_seed(0)
    q, k, val = (torch.randn(2, n, 4, generator=g) for n in (3, 5, 5))
    keep = torch.tensor([[True, True, False, True, True], [True, False, False, True, True]])
    out, w = layer([q.numpy(), val.numpy(), k.numpy()], mask=[None, keep.numpy()],
                   return_attention_scores=True)
    scale = layer.weights[0].value.detach().clone()  # a torch tensor under the torch backend
    eye = torch.eye(4)
    ctx, alpha = additive_attention(q, k, eye, eye, scale, mask=keep[:, None, :], values=val)
    torch.testing.assert_close(alpha, torch.as_tensor(w.detach().cpu().numpy()), **tol_t32())
    torch.testing.assert_close(ctx, torch.as_tensor(out.detach().cpu().numpy()), **tol_t32())


def test_keras_fully_masked_row_is_uniform_ours_is_zero(keras):
    """With every key masked, Keras spreads the weight evenly (it masks with a large finite
    number), where this code returns zeros as torch's scaled_dot_product_attention does."""
    layer = keras.layers.AdditiveAttention(use_scale=True)
    q, k = torch.randn(1, 2, 4), torch.randn(1, 3, 4)
    none = np.zeros((1, 3), dtype=bool)
    _, w = layer([q.numpy(), k.numpy(), k.numpy()], mask=[None, none],
                 return_attention_scores=True)
    np.testing.assert_allclose(w.detach().cpu().numpy(), np.full((1, 2, 3), 1 / 3), rtol=1e-6)
    eye = torch.eye(4)
    scale = layer.weights[0].value.detach().clone()  # a torch tensor under the torch backend
    _, alpha = additive_attention(q, k, eye, eye, scale, mask=torch.zeros(1, 1, 3, dtype=bool))
    assert torch.equal(alpha, torch.zeros(1, 2, 3))


def tol_t32():
    """float32 tolerances of tests/helpers.py for torch.testing.assert_close."""
    return TOLERANCE[np.dtype(np.float32)]


def test_keras_without_scale_is_v_all_ones(keras):
    """keras.layers.AdditiveAttention(use_scale=False) is this attention with W = U = I and v a
    vector of ones (float32)."""
    layer = keras.layers.AdditiveAttention(use_scale=False)
    g = torch.Generator().manual_seed(2)
    q, k = torch.randn(2, 3, 4, generator=g), torch.randn(2, 5, 4, generator=g)
    out, w = layer([q.numpy(), k.numpy()], return_attention_scores=True)
    eye = torch.eye(4)
    ctx, alpha = additive_attention(q, k, eye, eye, torch.ones(4))
    torch.testing.assert_close(alpha, torch.as_tensor(w.detach().cpu().numpy()), **tol_t32())
    torch.testing.assert_close(ctx, torch.as_tensor(out.detach().cpu().numpy()), **tol_t32())
