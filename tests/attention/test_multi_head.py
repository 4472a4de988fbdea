"""Multi-head attention matches torch.nn.MultiheadAttention with the same weights copied in."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.attention.multi_head import MultiHeadAttention, attend, to_torch, torch_layout
from tests.helpers import TOLERANCE, assert_matches

DTYPES = (torch.float64, torch.float32)


def dtype_id(dtype):
    return str(dtype).removeprefix("torch.")


def run_both(ours, x_q, x_k, x_v, batch_first=True, **kwargs):
    """Outputs, weights and gradients (inputs, then weights under torch's names) of ours and of
    its torch copy on the same inputs; a fixed probe makes the loss."""
    ref = to_torch(ours, batch_first=batch_first)
    results = []
    for module in (ours, ref):
        q, k, v = (t.detach().clone().requires_grad_() for t in (x_q, x_k, x_v))
        if module is ref and not batch_first:
            y, w = module(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), **kwargs)
            y = y.transpose(0, 1)
        else:
            y, w = module(q, k, v, **kwargs)
        probe = torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view(y.shape)
        (y * probe).sum().backward()
        if module is ours:
            params = torch_layout(ours, get=lambda p: p.grad)
        else:
            params = {n: p.grad for n, p in ref.named_parameters()}
        grads = [q.grad, k.grad, v.grad] + [params[n] for n in sorted(params)]
        results.append((y, w, grads))
    return results


def assert_same(ours, x_q, x_k=None, x_v=None, **kwargs):
    """Assert values, weights and every gradient agree with torch within the shared tolerance."""
    x_k = x_q if x_k is None else x_k
    x_v = x_k if x_v is None else x_v
    (y, w, g), (y_ref, w_ref, g_ref) = run_both(ours, x_q, x_k, x_v, **kwargs)
    assert_matches(y.detach().numpy(), y_ref)
    assert (w is None) == (w_ref is None)
    if w is not None:
        assert_matches(w.detach().numpy(), w_ref)
    for a, b in zip(g, g_ref, strict=True):
        assert_matches(a.numpy(), b)


def make(dtype, C=16, H=4, seed=0, **kwargs):
    torch.manual_seed(seed)
    return MultiHeadAttention(C, H, **kwargs).to(dtype)


def inputs(dtype, B=2, T=5, C=16, seed=1, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, T, C, generator=g, dtype=torch.float64) * scale).to(dtype)


T = 5
CAUSAL = torch.ones(T, T, dtype=torch.bool).triu(1)
PAD = torch.tensor([[False] * T, [False, False, False, True, True]])
FLOAT_2D = torch.randn(T, T, generator=torch.Generator().manual_seed(2))
FLOAT_3D = torch.randn(2 * 4, T, T, generator=torch.Generator().manual_seed(3))
MASKS = {
    "none": {},
    "padding": {"key_padding_mask": PAD},
    "causal bool": {"attn_mask": CAUSAL},
    "both bool": {"attn_mask": CAUSAL, "key_padding_mask": PAD},
    "float 2-D": {"attn_mask": FLOAT_2D},
    "float per head": {"attn_mask": FLOAT_3D},
    "float padding": {"key_padding_mask": torch.where(PAD, -1e9, 0.0)},
}


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("mask", MASKS, ids=str)
def test_self_attention_matches_torch(mask, batch_first, dtype):
    """Self-attention (q = k = v): values, weights and gradients agree for every mask kind."""
    masks = {k: (m.to(dtype) if m.dtype != torch.bool else m) for k, m in MASKS[mask].items()}
    assert_same(make(dtype), inputs(dtype), batch_first=batch_first, **masks)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("need_weights", "average"), [(True, True), (True, False), (False, True)])
def test_weight_options_match_torch(need_weights, average, dtype):
    """need_weights=False returns None; average_attn_weights picks (B, T, S) or (B, H, T, S)."""
    ours = make(dtype)
    kwargs = {"need_weights": need_weights, "average_attn_weights": average,
              "key_padding_mask": PAD}
    assert_same(ours, inputs(dtype), **kwargs)
    _, w = ours(inputs(dtype), inputs(dtype), inputs(dtype), **kwargs)
    if need_weights:
        assert w.shape == ((2, T, T) if average else (2, 4, T, T))
    else:
        assert w is None


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize(("kdim", "vdim"), [(12, 12), (5, 3), (16, 16)])
def test_cross_attention_matches_torch(kdim, vdim, batch_first, dtype):
    """Queries from one sequence (T = 5), keys and values from another (S = 7), any widths."""
    ours = make(dtype, kdim=kdim, vdim=vdim)
    pad = torch.zeros(2, 7, dtype=torch.bool)
    pad[0, 4:] = True
    x = inputs(dtype)
    key, value = inputs(dtype, T=7, C=kdim, seed=4), inputs(dtype, T=7, C=vdim, seed=5)
    assert_same(ours, x, key, value, batch_first=batch_first, key_padding_mask=pad)


def test_torch_uses_separate_weights_when_kdim_differs():
    """With kdim or vdim != embed_dim torch holds q/k/v_proj_weight and no in_proj_weight."""
    ref = to_torch(make(torch.float64, kdim=12, vdim=12))
    names = {n for n, _ in ref.named_parameters()}
    assert {"q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias"} <= names
    assert ref.in_proj_weight is None
    assert ref.k_proj_weight.shape == (16, 12)
    packed = to_torch(make(torch.float64))
    assert packed.in_proj_weight.shape == (48, 16)
    assert packed.q_proj_weight is None


def test_in_proj_weight_is_q_then_k_then_v():
    """torch's in_proj_weight stacks [W_q; W_k; W_v]: its rows C..2C are our key projection."""
    ours = make(torch.float64)
    ref = to_torch(ours)
    torch.testing.assert_close(ref.in_proj_weight[16:32], ours.k_proj.weight, rtol=0, atol=0)
    torch.testing.assert_close(ref.in_proj_bias[32:], ours.v_proj.bias, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("B", "T_", "C", "H"),
                         [(1, 1, 8, 1), (3, 2, 8, 8), (2, 9, 12, 3), (0, 4, 8, 2)])
def test_shapes(B, T_, C, H, dtype):
    """One token, one head, one-wide heads (D = 1), and an empty batch all agree with torch."""
    assert_same(make(dtype, C=C, H=H), inputs(dtype, B=B, T=T_, C=C))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_large_inputs_saturate_like_torch(dtype):
    """Inputs scaled by 1e3 push the softmax to one-hot rows; ours still agrees with torch."""
    x = inputs(dtype, scale=1e3)
    ours = make(dtype)
    _, w = ours(x, x, x, average_attn_weights=False)
    assert w.detach().amax(-1).mean() > 0.99  # rows of each head are really near one-hot
    # Outputs here are ~1e3, gradients ~1e6: the float32 absolute floor scales with them.
    (y, w, g), (y_ref, w_ref, g_ref) = run_both(ours, x, x, x)
    atol = TOLERANCE[np.dtype(str(dtype).removeprefix("torch."))]["atol"]
    assert_matches(y.detach().numpy(), y_ref, atol=atol * 1e3)
    assert_matches(w.detach().numpy(), w_ref)
    for a, b in zip(g, g_ref, strict=True):
        assert_matches(a.numpy(), b, atol=atol * b.abs().max().item())


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_fully_masked_row_is_nan_like_torch(dtype):
    """A query that may look at no key gets NaN weights and output, in ours and in torch."""
    mask = torch.zeros(T, T, dtype=torch.bool)
    mask[0] = True  # query 0 sees nothing
    ours = make(dtype)
    x = inputs(dtype)
    (y, w, _), (y_ref, w_ref, _) = run_both(ours, x, x, x, attn_mask=mask)
    assert torch.isnan(y[:, 0]).all()
    assert torch.isnan(y_ref[:, 0]).all()
    assert torch.equal(torch.isnan(w), torch.isnan(w_ref))
    assert_matches(y[:, 1:].detach().numpy(), y_ref[:, 1:])


def test_fully_masked_row_without_weights_differs_from_torch():
    """With need_weights=False torch's fused path gives a fully masked query zero weights, so
    its output is the output bias b_o; ours stays NaN there and agrees everywhere else."""
    mask = torch.zeros(T, T, dtype=torch.bool)
    mask[0] = True  # query 0 sees nothing
    ours = make(torch.float64)
    x = inputs(torch.float64)
    y, _ = ours(x, x, x, attn_mask=mask, need_weights=False)
    y_ref, _ = to_torch(ours)(x, x, x, attn_mask=mask, need_weights=False)
    assert torch.isnan(y[:, 0]).all()
    assert not torch.isnan(y_ref).any()
    torch.testing.assert_close(y_ref[:, 0], ours.out_proj.bias.expand(2, 16), rtol=0, atol=0)
    assert_matches(y[:, 1:].detach().numpy(), y_ref[:, 1:])


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("kdim", [16, 12])
def test_without_biases_matches_torch(kdim, dtype):
    """bias=False: no projection has a bias, in ours and in torch; values and gradients agree."""
    ours = make(dtype, kdim=kdim, vdim=kdim, bias=False)
    assert all(m.bias is None for m in (ours.q_proj, ours.k_proj, ours.v_proj, ours.out_proj))
    assert to_torch(ours).in_proj_bias is None
    memory = inputs(dtype, T=7, C=kdim, seed=4)
    assert_same(ours, inputs(dtype), memory, memory, key_padding_mask=torch.zeros(2, 7).bool())


def test_float_mask_of_another_dtype():
    """torch refuses a float64 mask with float32 inputs; ours casts it to the scores' dtype."""
    ours = make(torch.float32)
    x = inputs(torch.float32)
    with pytest.raises(RuntimeError, match="dtype"):
        to_torch(ours)(x, x, x, attn_mask=FLOAT_2D.double())
    y, _ = ours(x, x, x, attn_mask=FLOAT_2D.double())
    y_ref, _ = to_torch(ours)(x, x, x, attn_mask=FLOAT_2D.float())
    assert_matches(y.detach().numpy(), y_ref)


def test_heads_must_divide_embed_dim():
    """embed_dim = 10 with 4 heads is refused with a ValueError (torch asserts)."""
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 4)
    with pytest.raises(AssertionError):
        torch.nn.MultiheadAttention(10, 4)


def test_padding_gets_zero_weight_and_rows_sum_to_one():
    """Padded keys get weight exactly 0 and every weight row sums to 1."""
    x = inputs(torch.float64)
    _, w = make(torch.float64)(x, x, x, key_padding_mask=PAD, average_attn_weights=False)
    assert (w[1, :, :, 3:] == 0).all()
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 4, T, dtype=torch.float64))


@settings(max_examples=25)
@given(T_=st.integers(1, 6), H=st.sampled_from([1, 2, 4]), seed=st.integers(0, 2**16))
def test_self_attention_is_permutation_equivariant(T_, H, seed):
    """Without masks, permuting the tokens permutes the outputs the same way (no positions)."""
    ours = make(torch.float64, C=8, H=H, seed=seed)
    x = inputs(torch.float64, B=1, T=T_, C=8, seed=seed)
    perm = torch.randperm(T_, generator=torch.Generator().manual_seed(seed))
    y, _ = ours(x, x, x)
    y_perm, _ = ours(x[:, perm], x[:, perm], x[:, perm])
    torch.testing.assert_close(y_perm, y[:, perm], rtol=1e-12, atol=1e-12)


@settings(max_examples=25)
@given(T_=st.integers(1, 6), S=st.integers(1, 6), D=st.integers(1, 5), seed=st.integers(0, 99))
def test_attend_matches_the_one_head_formula(T_, S, D, seed):
    """attend() equals softmax(q k^T / sqrt(D)) v written with explicit sums, for any T, S, D."""
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(1, 1, n, D, generator=g, dtype=torch.float64) for n in (T_, S, S))
    y, w = attend(q, k, v)
    scores = [[sum(q[0, 0, t, d] * k[0, 0, s, d] for d in range(D)) / math.sqrt(D)
               for s in range(S)] for t in range(T_)]
    expected = torch.softmax(torch.tensor(scores, dtype=torch.float64), dim=-1)
    torch.testing.assert_close(w[0, 0], expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(y[0, 0], expected @ v[0, 0], rtol=1e-12, atol=1e-12)


def test_torch_warns_on_mixed_mask_types():
    """A bool key_padding_mask with a float attn_mask: torch warns (deprecated), same result."""
    ours = make(torch.float64)
    x = inputs(torch.float64)
    float_pad = torch.where(PAD, float("-inf"), 0.0).double()
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        y_ref, _ = to_torch(ours)(x, x, x, key_padding_mask=PAD, attn_mask=FLOAT_2D.double())
    y, _ = ours(x, x, x, key_padding_mask=float_pad, attn_mask=FLOAT_2D.double())
    assert_matches(y.detach().numpy(), y_ref)


def test_batch_first_tensor_in_sequence_first_layer_runs_and_is_wrong():
    """A (B, T, C) tensor given to torch's default (T, B, C) layer raises nothing, but attends
    across the batch: its output differs from the right one."""
    ours = make(torch.float64)
    x = inputs(torch.float64)
    y_wrong, _ = to_torch(ours, batch_first=False)(x, x, x)
    y, _ = ours(x, x, x)
    assert y_wrong.shape == y.shape
    assert (y_wrong - y).abs().max() > 1e-3
