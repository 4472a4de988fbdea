r"""Multi-head attention from scratch, for self-attention and cross-attention.

Reference: Vaswani et al., "Attention Is All You Need", NeurIPS 2017. Checked against
`torch.nn.MultiheadAttention` with the same weights copied in.
"""

# --8<-- [start:impl]
# --8<-- [start:attend]
import math

import torch
import torch.nn.functional as F
from torch import nn


def attend(q, k, v, bias=None):
    r"""Scaled dot-product attention of every head at once.

    $$\operatorname{softmax}\!\Big(\frac{q k^\top}{\sqrt{D}} + M\Big)\, v$$

    Args:
        q: queries, shape (B, H, T, D).
        k: keys, shape (B, H, S, D).
        v: values, shape (B, H, S, D).
        bias: None, or an additive mask $M$ broadcastable to (B, H, T, S), with
            $-\infty$ where a query may not look.

    Returns:
        `(y, weights)`: y of shape (B, H, T, D) and the weights, (B, H, T, S).
    """
    D = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(D)  # (B,H,T,D) @ (B,H,D,S): (B,H,T,S)
    if bias is not None:
        scores = scores + bias
    weights = F.softmax(scores, dim=-1)  # each row sums to 1 over the S keys
    return weights @ v, weights  # (B,H,T,S) @ (B,H,S,D) -> (B,H,T,D)
# --8<-- [end:attend]


# --8<-- [start:masks]
def additive_mask(attn_mask, key_padding_mask, B, H, T, S, dtype):
    r"""Turn torch-style masks into one additive mask, or None.

    A boolean mask is True where attention is forbidden (it becomes $-\infty$);
    a float mask is added to the scores as it is.

    Args:
        attn_mask: None, (T, S) or (B * H, T, S), bool or float.
        key_padding_mask: None or (B, S), bool or float; True marks padding.
        B: number of sequences in the batch.
        H: number of heads.
        T: query length.
        S: key length.
        dtype: the float dtype of the scores.

    Returns:
        None or a float tensor broadcastable to (B, H, T, S).
    """
    def as_float(m):
        if m.dtype == torch.bool:
            return torch.zeros(m.shape, dtype=dtype).masked_fill(m, float("-inf"))
        return m.to(dtype)

    bias = None
    if attn_mask is not None:
        bias = as_float(attn_mask)
        if bias.dim() == 3:
            bias = bias.view(B, H, T, S)  # (B*H, T, S) -> (B, H, T, S)
    if key_padding_mask is not None:
        pad = as_float(key_padding_mask).view(B, 1, 1, S)  # one row per sequence
        bias = pad if bias is None else bias + pad
    return bias
# --8<-- [end:masks]


# --8<-- [start:module]
class MultiHeadAttention(nn.Module):
    r"""Multi-head attention with batch-first inputs, as `nn.MultiheadAttention`.

    $$\operatorname{MHA}(X_q, X_k, X_v) = \operatorname{concat}(h_1, \dots, h_H)\,
    W_o^\top + b_o, \quad h_i = \operatorname{softmax}\!\Big(\frac{Q_i K_i^\top}
    {\sqrt{D}}\Big) V_i$$

    Args:
        embed_dim: C, the width of the queries and of the output.
        num_heads: H; C must be divisible by H, and D = C / H.
        kdim: width of the keys (default C).
        vdim: width of the values (default C).
        bias: whether the four projections have biases.
    """

    def __init__(self, embed_dim, num_heads, kdim=None, vdim=None, bias=True):
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError("embed_dim must be divisible by num_heads")
        self.num_heads = num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(kdim or embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(vdim or embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(self, query, key, value, key_padding_mask=None, attn_mask=None,
                need_weights=True, average_attn_weights=True):
        B, T, C = query.shape  # batch, query length, embedding width
        S = key.shape[1]  # key (and value) length
        H = self.num_heads
        D = C // H  # width of one head
        q = self.q_proj(query).view(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
        k = self.k_proj(key).view(B, S, H, D).transpose(1, 2)  # (B, H, S, D)
        v = self.v_proj(value).view(B, S, H, D).transpose(1, 2)  # (B, H, S, D)
        bias = additive_mask(attn_mask, key_padding_mask, B, H, T, S, q.dtype)
        y, weights = attend(q, k, v, bias)  # (B, H, T, D), (B, H, T, S)
        y = y.transpose(1, 2).reshape(B, T, C)  # heads side by side again: (B, T, C)
        y = self.out_proj(y)  # (B, T, C)
        if not need_weights:
            return y, None
        return y, weights.mean(dim=1) if average_attn_weights else weights
# --8<-- [end:module]
# --8<-- [end:impl]


# --8<-- [start:to_torch]
def torch_layout(mha, get=lambda p: p.detach()):
    """Our parameters (or gradients, with get=lambda p: p.grad) by torch's names."""
    w = [get(m.weight) for m in (mha.q_proj, mha.k_proj, mha.v_proj)]
    if w[0].shape == w[1].shape == w[2].shape:  # kdim = vdim = embed_dim: packed
        out = {"in_proj_weight": torch.cat(w)}  # [W_q; W_k; W_v], (3C, C)
    else:
        names = ("q_proj_weight", "k_proj_weight", "v_proj_weight")
        out = dict(zip(names, w, strict=True))
    if mha.q_proj.bias is not None:
        b = [get(m.bias) for m in (mha.q_proj, mha.k_proj, mha.v_proj)]
        out["in_proj_bias"] = torch.cat(b)  # (3C,)
        out["out_proj.bias"] = get(mha.out_proj.bias)
    out["out_proj.weight"] = get(mha.out_proj.weight)
    return out


def to_torch(mha, batch_first=True):
    """An nn.MultiheadAttention holding exactly the weights of `mha`."""
    C = mha.q_proj.out_features
    ref = nn.MultiheadAttention(
        C, mha.num_heads, dropout=0.0, bias=mha.q_proj.bias is not None,
        kdim=mha.k_proj.in_features, vdim=mha.v_proj.in_features,
        batch_first=batch_first,
    ).to(mha.q_proj.weight.dtype)
    ref.load_state_dict(torch_layout(mha))  # strict: every name must match
    return ref
# --8<-- [end:to_torch]


# --8<-- [start:compare]
def max_errors(ours, ref, inputs, run):
    """Largest |ours - ref| over the outputs and every gradient (inputs and weights).

    `run(module, *inputs)` returns `(y, weights)` batch-first; weights may be None.
    """
    found = []
    for module in (ours, ref):
        module.zero_grad()
        xs = [x.detach().clone().requires_grad_() for x in inputs]
        y, w = run(module, *xs)
        probe = torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view(y.shape)
        (y * probe).sum().backward()  # d/dy of this loss is the fixed probe
        if module is ours:
            params = torch_layout(ours, get=lambda p: p.grad)
        else:
            params = {name: p.grad for name, p in ref.named_parameters()}
        outputs = [y] if w is None else [y, w]
        grads = [x.grad for x in xs] + [params[n] for n in sorted(params)]
        found.append((outputs, grads))
    (out_a, grad_a), (out_b, grad_b) = found

    def worst(a, b):
        return max((x - y).abs().max().item() for x, y in zip(a, b, strict=True))

    return worst(out_a, out_b), worst(grad_a, grad_b)


def report(reference, make, run, inputs, batch_first=True):
    """Print the errors of a fresh `make()` against its torch copy, both precisions."""
    print(f"checked against {reference}")
    for dtype in (torch.float64, torch.float32):
        torch.manual_seed(0)
        ours = make().to(dtype)
        ref = to_torch(ours, batch_first=batch_first)
        value, grad = max_errors(ours, ref, [x.to(dtype) for x in inputs], run)
        name = str(dtype).removeprefix("torch.")
        print(f"{name}: max |ours - torch| value {value:.1e}, grad {grad:.1e}")
# --8<-- [end:compare]


if __name__ == "__main__":
    # --8<-- [start:check_self]
    torch.manual_seed(0)
    B, T, C, H = 2, 5, 16, 4
    x = torch.randn(B, T, C, dtype=torch.float64)
    causal = torch.ones(T, T, dtype=torch.bool).triu(1)  # True above the diagonal: future
    pad = torch.tensor([[False] * 5, [False, False, False, True, True]])  # (B, S)

    mha = MultiHeadAttention(C, H).double()
    y, w = mha(x, x, x, key_padding_mask=pad, attn_mask=causal)
    print("y:", tuple(y.shape), " weights:", tuple(w.shape))
    print("weights of sequence 2, averaged over heads (its last two keys are padding):")
    print(w[1].detach().numpy().round(2))

    def self_attention(m, x):  # q = k = v = x
        return m(x, x, x, key_padding_mask=pad, attn_mask=causal)

    report("torch.nn.MultiheadAttention (self-attention, bool masks, batch_first=True)",
           lambda: MultiHeadAttention(C, H), self_attention, [x])
    # --8<-- [end:check_self]

    # --8<-- [start:check_layout]
    scores_bias = torch.randn(B * H, T, T, dtype=torch.float64)  # float mask, one per head

    def time_first(m, x):  # torch's default layout is (T, B, C): transpose in and out
        options = {"attn_mask": scores_bias.to(x.dtype), "average_attn_weights": False}
        if isinstance(m, MultiHeadAttention):
            return m(x, x, x, **options)
        x = x.transpose(0, 1)  # (T, B, C)
        y, w = m(x, x, x, **options)
        return y.transpose(0, 1), w  # weights come back (B, H, T, S) in both layouts

    report("torch.nn.MultiheadAttention (batch_first=False, float mask, weights per head)",
           lambda: MultiHeadAttention(C, H), time_first, [x], batch_first=False)
    # --8<-- [end:check_layout]

    # --8<-- [start:check_cross]
    S, C_mem = 7, 12  # the memory: 7 tokens of width 12, read by 5 queries of width 16
    memory = torch.randn(B, S, C_mem, dtype=torch.float64)
    memory_pad = torch.zeros(B, S, dtype=torch.bool)
    memory_pad[0, 5:] = True  # sequence 1 of the memory has two padding tokens

    cross = MultiHeadAttention(C, H, kdim=C_mem, vdim=C_mem).double()
    y, w = cross(x, memory, memory, key_padding_mask=memory_pad)
    print("y:", tuple(y.shape), " weights:", tuple(w.shape))
    print("torch's parameters:", [n for n, _ in to_torch(cross).named_parameters()])

    def cross_attention(m, x, memory):  # queries from x, keys and values from memory
        return m(x, memory, memory, key_padding_mask=memory_pad)

    report("torch.nn.MultiheadAttention (cross-attention, kdim = vdim = 12)",
           lambda: MultiHeadAttention(C, H, kdim=C_mem, vdim=C_mem), cross_attention,
           [x, memory])
    # --8<-- [end:check_cross]
