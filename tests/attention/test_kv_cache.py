"""Token-by-token attention with a key-value cache equals full causal attention."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.attention.kv_cache import (
    CausalSelfAttention,
    cache_elements,
    cost_of_token,
    max_errors,
    run_cached,
    step,
    torch_reference,
)
from tests.helpers import TOLERANCE, assert_matches

DTYPES = (torch.float64, torch.float32)


def dtype_id(dtype):
    return str(dtype).removeprefix("torch.")


def make(C, H, dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    return CausalSelfAttention(C, H).to(dtype)


def inputs(B, T, C, dtype=torch.float64, seed=1, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, T, C, generator=g, dtype=torch.float64) * scale).to(dtype)


@settings(max_examples=40, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 9), H=st.sampled_from([1, 2, 4]),
       D=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_cached_equals_full_causal_attention(B, T, H, D, seed):
    """For any batch, length, heads and head width, the cached outputs equal the full causal
    pass and torch's fused causal attention, and the cache holds every token's key and value."""
    attn = make(H * D, H, seed=seed)
    x = inputs(B, T, H * D, seed=seed)
    y_cached, (k, v) = run_cached(attn, x)
    torch.testing.assert_close(y_cached, attn(x), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(y_cached, torch_reference(attn, x), rtol=1e-12, atol=1e-12)
    _, k_full, v_full = attn.split_heads(x)
    assert k.shape == v.shape == (B, H, T, D)
    torch.testing.assert_close(k, k_full, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(v, v_full, rtol=1e-12, atol=1e-12)


def outputs_and_grads(attn, x, run):
    """Output and gradients (input, then every weight) of sum(run(x) * probe)."""
    attn.zero_grad()
    xs = x.detach().clone().requires_grad_()
    y = run(xs)
    probe = torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view(y.shape)
    (y * probe).sum().backward()
    return [y.detach(), xs.grad] + [p.grad.clone() for p in attn.parameters()]


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("B", "T", "C", "H"), [(1, 1, 8, 2), (2, 6, 16, 4), (3, 12, 12, 3)])
def test_values_and_gradients_match_torch(B, T, C, H, dtype):
    """Cached outputs and their gradients agree with torch's causal SDPA in both precisions.

    A weight's gradient sums B*T per-token contributions, each rounded differently on the two
    paths (one token at a time vs all at once), so its absolute floor is B*T times the shared
    one; outputs and the input's gradient keep the shared tolerance.
    """
    attn = make(C, H, dtype)
    x = inputs(B, T, C, dtype)
    ours = outputs_and_grads(attn, x, lambda x: run_cached(attn, x)[0])
    ref = outputs_and_grads(attn, x, lambda x: torch_reference(attn, x))
    atol = TOLERANCE[torch.empty(0, dtype=dtype).numpy().dtype]["atol"]
    for i, (a, b) in enumerate(zip(ours, ref, strict=True)):
        assert_matches(a.numpy(), b, **({} if i < 2 else {"atol": atol * B * T}))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_max_errors_reports_small_numbers(dtype):
    """The check's max_errors stays within the dtype's absolute tolerance on the page's case."""
    attn = make(16, 4, dtype)
    value, grad = max_errors(attn, inputs(2, 6, 16, dtype))
    atol = TOLERANCE[torch.empty(0, dtype=dtype).numpy().dtype]["atol"]
    assert value < atol
    assert grad < 10 * atol  # gradients of the weights are sums over 12 tokens, up to ~5


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_large_inputs(dtype):
    """Inputs scaled by 30 push the softmax rows to near one-hot; cached still equals full.

    The two paths round the scores s differently by up to about max|s| * eps, which moves each
    softmax weight by that relative amount and the output by about max|s| * eps * max|v|;
    that is the absolute tolerance (0.01 in float32 here, 2e-11 in float64).
    """
    attn = make(16, 4, dtype)
    x = inputs(2, 8, 16, dtype, scale=30.0)
    q, k, v = attn.split_heads(x)
    scores = q @ k.transpose(-2, -1) / 2  # D = 4
    assert scores.abs().max() > 100  # saturated: exp differences of e^100
    atol = (scores.abs().max() * torch.finfo(dtype).eps * v.abs().max()).item()
    y_cached, _ = run_cached(attn, x)
    assert_matches(y_cached.detach().numpy(), torch_reference(attn, x), atol=atol)


def test_first_step_needs_no_cache():
    """The first token attends only to itself: step with no cache equals the full pass on it."""
    attn = make(8, 2)
    x = inputs(2, 1, 8)
    y, (k, _) = step(attn, x)
    torch.testing.assert_close(y, attn(x), rtol=1e-12, atol=1e-12)
    assert k.shape == (2, 2, 1, 4)


@pytest.mark.parametrize("C", [16, 64])
@pytest.mark.parametrize("t", [1, 2, 17, 100])
def test_cost_formulas(t, C):
    """Counted multiply-adds equal the derived counts: without a cache the layer reprojects t
    tokens (4 t C^2) and forms t x t scores and sums (2 t^2 C); with one, it projects one token
    (4 C^2) and forms 1 x t of each (2 t C). Their ratio is exactly t."""
    attn = make(C, 4, torch.float32)
    x = inputs(1, 100, C, torch.float32)
    without, with_cache = cost_of_token(attn, x, t)
    assert without == 4 * t * C * C + 2 * t * t * C
    assert with_cache == 4 * C * C + 2 * t * C
    assert without == t * with_cache


@pytest.mark.parametrize(("L", "B", "T", "H", "D"), [(1, 1, 1, 1, 1), (2, 3, 7, 2, 4),
                                                   (3, 2, 5, 4, 2)])
def test_memory_formula_counts_a_real_cache(L, B, T, H, D):
    """A stack of L layers run token by token holds exactly 2 L H D T elements per sequence."""
    torch.manual_seed(0)
    h, held = inputs(B, T, H * D), 0
    for _ in range(L):
        h, (k, v) = run_cached(CausalSelfAttention(H * D, H).double(), h)
        held += k.numel() + v.numel()
    assert held == cache_elements(L, H, D, T, batch=B)
    assert cache_elements(L, H, D, T) * B == held


def test_gpt2_small_cache_size():
    """GPT-2 small (12 layers, 12 heads of width 64) at 1024 tokens: 2*12*12*64*1024 elements."""
    assert cache_elements(12, 12, 64, 1024) == 18_874_368
