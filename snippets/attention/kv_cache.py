r"""A key-value cache for causal self-attention: generate token by token without recomputing.

References: Vaswani et al., "Attention Is All You Need", NeurIPS 2017 (causal
self-attention); Pope et al., "Efficiently Scaling Transformer Inference", MLSys 2023 (the
cost of the cache). Checked against `torch.nn.functional.scaled_dot_product_attention` with
`is_causal=True` over the whole sequence.
"""

# --8<-- [start:impl]
# --8<-- [start:attention]
import math

import torch
import torch.nn.functional as F
from torch import nn


class CausalSelfAttention(nn.Module):
    r"""Multi-head self-attention in which token t sees tokens 1..t only.

    $$y_t = \operatorname{softmax}_{s \le t}\!\Big(\frac{q_t \cdot k_s}{\sqrt{D}}\Big) v_s
    \text{ per head, concatenated, then } W_o$$

    Args:
        embed_dim: C.
        num_heads: H, dividing C; each head has width D = C / H.
    """

    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim)  # rows [W_q; W_k; W_v]
        self.proj = nn.Linear(embed_dim, embed_dim)

    def split_heads(self, x):  # (B, T, C) -> q, k, v, each (B, H, T, D)
        B, T, C = x.shape
        H, D = self.num_heads, C // self.num_heads
        q, k, v = self.qkv(x).split(C, dim=2)  # 3 x (B, T, C)
        return [t.view(B, T, H, D).transpose(1, 2) for t in (q, k, v)]  # (B, H, T, D)

    def merge_heads(self, y):  # (B, H, T, D) -> (B, T, C)
        B, H, T, D = y.shape
        return self.proj(y.transpose(1, 2).reshape(B, T, H * D))

    def forward(self, x):  # the whole sequence at once, x: (B, T, C)
        T = x.shape[1]
        q, k, v = self.split_heads(x)  # (B, H, T, D) each
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, H, T, T)
        future = torch.ones(T, T, dtype=torch.bool).triu(1)  # True above the diagonal
        scores = scores.masked_fill(future, float("-inf"))
        y = F.softmax(scores, dim=-1) @ v  # (B, H, T, T) @ (B, H, T, D) -> (B, H, T, D)
        return self.merge_heads(y)  # (B, T, C)
# --8<-- [end:attention]


# --8<-- [start:step]
def step(attn, x_t, cache=None):
    r"""Attend from one new token to itself and to every cached token.

    Args:
        attn: a CausalSelfAttention.
        x_t: the new token, shape (B, 1, C).
        cache: None, or `(k, v)` with the keys and values of the t earlier tokens,
            each (B, H, t, D).

    Returns:
        `(y_t, cache)`: the output for the new token, (B, 1, C), and the cache grown
        by one position, each (B, H, t + 1, D).
    """
    q, k, v = attn.split_heads(x_t)  # (B, H, 1, D) each: only the new token
    if cache is not None:
        k = torch.cat([cache[0], k], dim=2)  # (B, H, t + 1, D)
        v = torch.cat([cache[1], v], dim=2)  # (B, H, t + 1, D)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, H, 1, t + 1)
    y = F.softmax(scores, dim=-1) @ v  # no mask: every cached token is in the past
    return attn.merge_heads(y), (k, v)  # (B, 1, C)
# --8<-- [end:step]


# --8<-- [start:generate]
def run_cached(attn, x):
    """Feed x (B, T, C) through `step` one token at a time; return outputs and cache."""
    cache, outputs = None, []
    for t in range(x.shape[1]):
        y_t, cache = step(attn, x[:, t : t + 1], cache)  # x[:, t:t+1]: (B, 1, C)
        outputs.append(y_t)
    return torch.cat(outputs, dim=1), cache  # (B, T, C)
# --8<-- [end:generate]
# --8<-- [end:impl]


# --8<-- [start:reference]
def torch_reference(attn, x):
    """The same layer through torch's fused causal attention over the whole sequence."""
    q, k, v = attn.split_heads(x)  # (B, H, T, D) each
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, H, T, D)
    return attn.merge_heads(y)  # (B, T, C)


def max_errors(attn, x):
    """Largest |cached - torch| in the outputs and gradients (input and weights)."""
    found = []
    for run in (lambda x: run_cached(attn, x)[0], lambda x: torch_reference(attn, x)):
        attn.zero_grad()
        xs = x.detach().clone().requires_grad_()
        y = run(xs)  # (B, T, C)
        probe = torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view(y.shape)
        (y * probe).sum().backward()
        grads = [p.grad.clone() for p in attn.parameters()]
        found.append([y.detach(), xs.grad, *grads])
    diffs = [(a - b).abs().max().item() for a, b in zip(*found, strict=True)]
    return diffs[0], max(diffs[1:])
# --8<-- [end:reference]


# --8<-- [start:cost]
def matmul_macs(fn, *args):
    """Multiply-adds in the matrix products run by fn(*args), counted by torch."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn(*args)
    return counter.get_total_flops() // 2  # torch counts a multiply-add as 2 flops


def cost_of_token(attn, x, t):
    """Multiply-adds to produce the output of token t (1-based) of x, (1, T, C):
    by rerunning the layer on the first t tokens, and by one cached step."""
    _, k, v = attn.split_heads(x[:, : t - 1])  # what the cache holds after t - 1 tokens
    cache = (k, v) if t > 1 else None
    without = matmul_macs(attn, x[:, :t])
    with_cache = matmul_macs(step, attn, x[:, t - 1 : t], cache)
    return without, with_cache
# --8<-- [end:cost]


# --8<-- [start:memory]
def cache_elements(layers, heads, head_dim, tokens, batch=1):
    r"""Elements a KV cache holds: a key and a value per layer, head, channel and token.

    $$2 \cdot L \cdot H \cdot D \cdot T \text{ per sequence}$$
    """
    return 2 * layers * heads * head_dim * tokens * batch
# --8<-- [end:memory]


if __name__ == "__main__":
    # --8<-- [start:check]
    torch.manual_seed(0)
    B, T, C, H = 2, 6, 16, 4
    attn = CausalSelfAttention(C, H).double()
    x = torch.randn(B, T, C, dtype=torch.float64)
    y_cached, (k, v) = run_cached(attn, x)
    print("cached outputs:", tuple(y_cached.shape), " cache k, v:", tuple(k.shape))
    print("max |cached - full|:", f"{(y_cached - attn(x)).abs().max().item():.1e}")

    reference = "torch.nn.functional.scaled_dot_product_attention (is_causal=True)"
    print(f"checked against {reference}")
    for dtype in (torch.float64, torch.float32):
        torch.manual_seed(0)
        attn = CausalSelfAttention(C, H).to(dtype)
        value, grad = max_errors(attn, torch.randn(B, T, C, dtype=dtype))
        name = str(dtype).removeprefix("torch.")
        print(f"{name}: max |ours - torch| value {value:.1e}, grad {grad:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:check_cost]
    torch.manual_seed(0)
    C, H = 64, 4
    attn = CausalSelfAttention(C, H)
    x = torch.randn(1, 512, C)
    print("token t   multiply-adds without cache   with cache   ratio")
    for t in (64, 128, 256, 512):
        without, with_cache = cost_of_token(attn, x, t)
        print(f"{t:7d}   {without:27,d}   {with_cache:10,d}   {without / with_cache:5.0f}")
    # --8<-- [end:check_cost]

    # --8<-- [start:check_memory]
    _, (k, v) = run_cached(CausalSelfAttention(16, 4), torch.randn(3, 10, 16))
    print("our cache after 10 tokens:", k.numel() + v.numel(), "elements;",
          "formula:", cache_elements(layers=1, heads=4, head_dim=4, tokens=10, batch=3))
    n = cache_elements(layers=12, heads=12, head_dim=64, tokens=1024)  # GPT-2 small
    print(f"GPT-2 small, 1024 tokens: {n:,} elements, {n * 2 / 2**20:.0f} MiB in float16")
    # --8<-- [end:check_memory]
