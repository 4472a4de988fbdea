r"""Scaled dot-product attention with masks, causal masking and attention dropout.

Reference: Vaswani et al., "Attention Is All You Need", NeurIPS 2017. Checked against
`torch.nn.functional.scaled_dot_product_attention`.
"""

# --8<-- [start:impl]
# --8<-- [start:causal_mask]
import math

import torch


def causal_mask(L, S, device=None):
    r"""Boolean mask that lets query $i$ see keys $j \le i$ (top-left aligned, as torch).

    $$M_{ij} = [\, j \le i \,]$$

    Args:
        L: number of queries.
        S: number of keys.
        device: where to put the mask.

    Returns:
        A bool tensor of shape (L, S), True where the query may attend to the key.
    """
    return torch.ones(L, S, dtype=torch.bool, device=device).tril()  # (L, S)
# --8<-- [end:causal_mask]


# --8<-- [start:mask_to_bias]
def mask_to_bias(attn_mask, L, S, dtype, is_causal=False, device=None):
    r"""Turn a boolean or additive mask into an additive bias on the scores.

    $$b_{ij} = \begin{cases} 0 & M_{ij} \text{ true} \\ -\infty & \text{otherwise} \end{cases}
    \quad\text{(boolean } M\text{)}, \qquad b = M \quad\text{(float } M\text{)}$$

    Args:
        attn_mask: None, a bool tensor (True = take part) or a float tensor added to the
            scores; it must broadcast to (..., L, S). Other dtypes raise a TypeError.
        L: number of queries.
        S: number of keys.
        dtype: float dtype of the scores.
        is_causal: add the causal mask; torch refuses it together with `attn_mask`.
        device: where to build the causal mask.

    Returns:
        A float tensor that broadcasts to (..., L, S), or None when nothing is masked.
    """
    if is_causal:
        if attn_mask is not None:
            raise ValueError("pass either attn_mask or is_causal=True, not both")
        attn_mask = causal_mask(L, S, device)
    if attn_mask is None:
        return None
    if not (attn_mask.dtype == torch.bool or attn_mask.is_floating_point()):
        raise TypeError(f"attn_mask must be bool or float, got {attn_mask.dtype}")
    if attn_mask.dtype == torch.bool:  # True = take part, False = -inf
        bias = torch.zeros(attn_mask.shape, dtype=dtype, device=attn_mask.device)
        return bias.masked_fill(~attn_mask, float("-inf"))
    return attn_mask  # already additive: 0 to keep, -inf (or a large negative) to drop
# --8<-- [end:mask_to_bias]


# --8<-- [start:softmax_rows]
def softmax_rows(scores):
    r"""Softmax over the last axis that returns zeros on a row whose scores are all $-\infty$.

    $$w_{ij} = \frac{e^{s_{ij}}}{\sum_{j'} e^{s_{ij'}}}, \qquad w_{i\cdot} = 0
    \text{ if } s_{ij} = -\infty \text{ for every } j$$

    Args:
        scores: float tensor of shape (..., L, S).

    Returns:
        A tensor of the same shape whose rows sum to 1, or to 0 on fully masked rows.
    """
    dead = (scores == float("-inf")).all(dim=-1, keepdim=True)  # (..., L, 1)
    scores = scores.masked_fill(dead, 0.0)  # a finite row: no NaN, not even in backward
    return torch.softmax(scores, dim=-1).masked_fill(dead, 0.0)  # (..., L, S)
# --8<-- [end:softmax_rows]


# --8<-- [start:attention_dropout]
def attention_dropout(weights, p, generator=None):
    r"""Inverted dropout on attention weights: drop each with probability $p$, scale the rest.

    $$\tilde w_{ij} = \frac{\xi_{ij}}{1 - p}\, w_{ij}, \qquad \xi_{ij} \sim
    \operatorname{Bernoulli}(1 - p)$$

    Drawn as torch's CPU dropout draws it, so the same seed gives the same mask.

    Args:
        weights: attention weights of shape (..., L, S).
        p: drop probability, $0 \le p \le 1$.
        generator: optional torch.Generator.

    Returns:
        The weights after dropout, same shape.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout_p must be in [0, 1], got {p}")
    if p == 0.0:
        return weights
    if p == 1.0:
        return torch.zeros_like(weights)  # every weight dropped
    keep = torch.empty_like(weights).bernoulli_(1 - p, generator=generator)  # 1 or 0
    return weights * (keep / (1 - p))  # rows no longer sum to 1
# --8<-- [end:attention_dropout]


# --8<-- [start:sdpa]
def scaled_dot_product_attention(
    q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
    enable_gqa=False, generator=None,
):
    r"""Scaled dot-product attention, with torch's argument names and conventions.

    $$\operatorname{Attention}(Q, K, V) = \operatorname{softmax}\!\Big(\frac{Q K^\top}
    {\sqrt{E}} + B\Big) V$$

    Args:
        q: queries, shape (..., L, E).
        k: keys, shape (..., S, E).
        v: values, shape (..., S, Ev).
        attn_mask: None, bool (True = take part) or float (added to the scores),
            broadcastable to (..., L, S).
        dropout_p: probability of dropping each attention weight; always applied when
            positive (pass 0.0 at evaluation, as with torch).
        is_causal: mask query $i$ from keys $j > i$ (top-left aligned when L != S).
        scale: factor on $QK^\top$; default $1/\sqrt{E}$.
        enable_gqa: let q have more heads (dim -3) than k and v, a multiple of theirs.
        generator: optional torch.Generator for the dropout mask.

    Returns:
        The output, shape (..., L, Ev). A query that may attend to no key gets zeros.
    """
    *_, L, E = q.shape
    S = k.shape[-2]
    if enable_gqa:  # each group of q heads shares one k/v head
        group = q.shape[-3] // k.shape[-3]
        k = k.repeat_interleave(group, dim=-3)  # (..., H, S, E)
        v = v.repeat_interleave(group, dim=-3)  # (..., H, S, Ev)
    scale = 1 / math.sqrt(E) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * scale  # (.., L, E) @ (.., E, S) -> (.., L, S)
    bias = mask_to_bias(attn_mask, L, S, q.dtype, is_causal, q.device)
    if bias is not None:
        scores = scores + bias  # (..., L, S)
    weights = softmax_rows(scores)  # (..., L, S), rows sum to 1 (or 0 if fully masked)
    weights = attention_dropout(weights, dropout_p, generator)
    return weights @ v  # (..., L, S) @ (..., S, Ev) -> (..., L, Ev)
# --8<-- [end:sdpa]
# --8<-- [end:impl]


def attention_weights(q, k, attn_mask=None, is_causal=False, scale=None):
    r"""The weights $\operatorname{softmax}(QK^\top s + B)$ alone (no dropout), for figures.

    Args:
        q: queries, shape (..., L, E).
        k: keys, shape (..., S, E).
        attn_mask: as in `scaled_dot_product_attention`.
        is_causal: as in `scaled_dot_product_attention`.
        scale: as in `scaled_dot_product_attention`.

    Returns:
        The weights, shape (..., L, S).
    """
    L, E = q.shape[-2:]
    S = k.shape[-2]
    scale = 1 / math.sqrt(E) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * scale  # (..., L, S)
    bias = mask_to_bias(attn_mask, L, S, q.dtype, is_causal)
    return softmax_rows(scores if bias is None else scores + bias)


if __name__ == "__main__":
    # --8<-- [start:example]
    torch.manual_seed(0)
    B, H, L, S, E, Ev = 2, 3, 4, 6, 8, 5  # batch, heads, queries, keys, widths
    q = torch.randn(B, H, L, E)
    k = torch.randn(B, H, S, E)
    v = torch.randn(B, H, S, Ev)
    out = scaled_dot_product_attention(q, k, v)
    print("output shape", tuple(out.shape))  # (B, H, L, Ev)

    # with V = I the output is the weight matrix itself: (L, L) @ (L, L) -> (L, L)
    w = scaled_dot_product_attention(q[0, 0], k[0, 0, :L], torch.eye(L), is_causal=True)
    print("causal weights of one head (row i sees keys 0..i):")
    print(w.numpy().round(3))
    print("row sums", w.sum(-1).numpy().round(6))
    # --8<-- [end:example]

    # --8<-- [start:masked_row]
    import torch.nn.functional as F

    mask = torch.ones(L, S, dtype=torch.bool)
    mask[1] = False  # query 1 may attend to nothing
    bias = torch.zeros(L, S).masked_fill(~mask, float("-inf"))  # the same, additive
    for m in (mask, bias):
        ours = scaled_dot_product_attention(q[0, 0], k[0, 0], v[0, 0], attn_mask=m)
        ref = F.scaled_dot_product_attention(q[0, 0], k[0, 0], v[0, 0], attn_mask=m)
        print(f"{m.dtype!s:14} row 1: ours {ours[1].tolist()}")
        print(f"{'':14}        torch {ref[1].tolist()}")
    # --8<-- [end:masked_row]

    # --8<-- [start:dropout_demo]
    g = torch.Generator().manual_seed(1)
    scores = torch.randn(2, 3, 4, 6, generator=g)  # (B, H, L, S)
    w = softmax_rows(scores)  # (B, H, L, S), every row sums to 1
    dropped = attention_dropout(w, 0.2, generator=g)
    sums = dropped.sum(-1)  # (B, H, L): one sum per query
    print("row sums before dropout:", w.sum(-1).flatten()[:6].numpy().round(4))
    print("row sums after dropout: ", sums.flatten()[:6].numpy().round(4))
    print(f"after, over {sums.numel()} rows: min {sums.min():.3f}, max {sums.max():.3f}, "
          f"mean {sums.mean():.3f}")
    # --8<-- [end:dropout_demo]

    # --8<-- [start:check]
    import torch.nn.functional as F

    def max_err(a, b):
        return (a - b).abs().max().item()

    cases = [  # (shapes of q, k, v, keyword arguments)
        ((4, 8), (6, 8), (6, 5), {}),
        ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5), {"is_causal": True}),
        ((2, 3, 5, 8), (2, 3, 5, 8), (2, 3, 5, 8), {"scale": 0.3}),
        ((2, 4, 5, 8), (2, 2, 7, 8), (2, 2, 7, 3), {"enable_gqa": True}),
        ((2, 1, 4, 8), (2, 1, 6, 8), (2, 1, 6, 5), {"mask": "bool"}),
        ((2, 1, 4, 8), (2, 1, 6, 8), (2, 1, 6, 5), {"mask": "float"}),
    ]
    print("checked against torch.nn.functional.scaled_dot_product_attention")
    for dtype in (torch.float64, torch.float32):
        g = torch.Generator().manual_seed(0)
        value_err = grad_err = 0.0
        for *shapes, kwargs in cases:
            kwargs = dict(kwargs)
            q, k, v = (torch.randn(s, dtype=dtype, generator=g) for s in shapes)
            L, S = shapes[0][-2], shapes[1][-2]
            kind = kwargs.pop("mask", None)
            if kind is not None:
                keep = torch.rand(L, S, generator=g) > 0.3
                keep[:, 0] = True  # every query sees at least key 0
                kwargs["attn_mask"] = keep if kind == "bool" else torch.randn(
                    L, S, dtype=dtype, generator=g).masked_fill(~keep, float("-inf"))
            ins = [t.clone().requires_grad_() for t in (q, k, v)]
            ref_ins = [t.clone().requires_grad_() for t in (q, k, v)]
            ours = scaled_dot_product_attention(*ins, **kwargs)
            ref = F.scaled_dot_product_attention(*ref_ins, **kwargs)
            up = torch.randn(ours.shape, dtype=dtype, generator=g)  # upstream gradient
            ours.backward(up)
            ref.backward(up)
            value_err = max(value_err, max_err(ours, ref))
            pairs = zip(ins, ref_ins, strict=True)
            grad_err = max(grad_err, *(max_err(a.grad, b.grad) for a, b in pairs))
        name = str(dtype).removeprefix("torch.")
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:check_dropout]
    print("checked against torch.nn.functional.scaled_dot_product_attention, dropout")
    for dtype in (torch.float64, torch.float32):
        q, k, v = (torch.randn(2, 3, L, E, dtype=dtype) for _ in range(3))
        ins = [t.clone().requires_grad_() for t in (q, k, v)]
        ref_ins = [t.clone().requires_grad_() for t in (q, k, v)]
        torch.manual_seed(7)  # the same seed: the same dropout mask
        ours = scaled_dot_product_attention(*ins, dropout_p=0.2)
        torch.manual_seed(7)
        ref = F.scaled_dot_product_attention(*ref_ins, dropout_p=0.2)
        (ours.sum()).backward()
        (ref.sum()).backward()
        pairs = zip(ins, ref_ins, strict=True)
        grad_err = max(max_err(a.grad, b.grad) for a, b in pairs)
        name = str(dtype).removeprefix("torch.")
        value_err = max_err(ours, ref)
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check_dropout]
