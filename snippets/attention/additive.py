r"""Additive (Bahdanau) attention: scores from a one-hidden-layer network of query and key.

Reference: Bahdanau, Cho and Bengio, "Neural Machine Translation by Jointly Learning to
Align and Translate", ICLR 2015. Checked against the float64 formula and, for the
gradient, against finite differences (`torch.autograd.gradcheck`).
"""

# --8<-- [start:impl]
# --8<-- [start:scores]
import torch


def additive_scores(s, h, W, U, v):
    r"""Alignment scores $e_{ij} = v^\top \tanh(W s_i + U h_j)$ for every query and key.

    $$e_{ij} = v^\top \tanh(W s_i + U h_j)$$

    Args:
        s: queries (decoder states), shape (..., L, Dq).
        h: keys (encoder annotations), shape (..., S, Dk).
        W: query projection, shape (A, Dq).
        U: key projection, shape (A, Dk).
        v: output vector, shape (A,).

    Returns:
        Scores of shape (..., L, S).
    """
    Ws = s @ W.T  # (..., L, Dq) @ (Dq, A) -> (..., L, A)
    Uh = h @ U.T  # (..., S, Dk) @ (Dk, A) -> (..., S, A): once per sequence
    hidden = torch.tanh(Ws[..., :, None, :] + Uh[..., None, :, :])  # (..., L, S, A)
    return hidden @ v  # (..., L, S, A) @ (A,) -> (..., L, S)
# --8<-- [end:scores]


# --8<-- [start:attend]
def additive_attention(s, h, W, U, v, mask=None, values=None):
    r"""Bahdanau attention: softmax of the additive scores over the keys, then average.

    $$\alpha_{ij} = \frac{e^{e_{ij}}}{\sum_{j'} e^{e_{ij'}}}, \qquad
    c_i = \sum_j \alpha_{ij} h_j$$

    Args:
        s: queries, shape (..., L, Dq).
        h: keys, shape (..., S, Dk); also the values unless `values` is given.
        W: query projection, shape (A, Dq).
        U: key projection, shape (A, Dk).
        v: output vector, shape (A,).
        mask: optional bool tensor broadcastable to (..., L, S); True = take part.
        values: optional values, shape (..., S, Dv); default `h`, as in the paper.

    Returns:
        The contexts, shape (..., L, Dv), and the weights, shape (..., L, S). A query
        whose keys are all masked gets zero weights and a zero context.
    """
    values = h if values is None else values
    e = additive_scores(s, h, W, U, v)  # (..., L, S)
    if mask is not None:
        e = e.masked_fill(~mask, float("-inf"))  # False = left out
    dead = (e == float("-inf")).all(dim=-1, keepdim=True)  # (..., L, 1): no key left
    alpha = torch.softmax(e.masked_fill(dead, 0.0), dim=-1).masked_fill(dead, 0.0)
    return alpha @ values, alpha  # (..., L, S) @ (..., S, Dv) -> (..., L, Dv)
# --8<-- [end:attend]
# --8<-- [end:impl]


def random_parameters(Dq, Dk, A, dtype=torch.float64, seed=0):
    r"""Random $W$, $U$, $v$ of the shapes `additive_attention` expects.

    Args:
        Dq: query width.
        Dk: key width.
        A: width of the hidden layer.
        dtype: float dtype.
        seed: random seed.

    Returns:
        The tuple (W, U, v) with shapes (A, Dq), (A, Dk), (A,).
    """
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(A, Dq, generator=g, dtype=dtype) / Dq**0.5
    U = torch.randn(A, Dk, generator=g, dtype=dtype) / Dk**0.5
    v = torch.randn(A, generator=g, dtype=dtype) / A**0.5
    return W, U, v


if __name__ == "__main__":
    # --8<-- [start:example]
    g = torch.Generator().manual_seed(0)
    B, L, S, Dq, Dk, A = 2, 3, 5, 6, 4, 8  # batch, queries, keys, widths, hidden
    s = torch.randn(B, L, Dq, generator=g, dtype=torch.float64)  # decoder states
    h = torch.randn(B, S, Dk, generator=g, dtype=torch.float64)  # encoder annotations
    W = torch.randn(A, Dq, generator=g, dtype=torch.float64) / Dq**0.5
    U = torch.randn(A, Dk, generator=g, dtype=torch.float64) / Dk**0.5
    v = torch.randn(A, generator=g, dtype=torch.float64) / A**0.5
    keep = torch.tensor([True, True, True, False, False])  # the last two keys: padding
    context, alpha = additive_attention(s, h, W, U, v, mask=keep)
    print("context", tuple(context.shape), " weights", tuple(alpha.shape))
    print("weights of the first sequence (rows: queries, columns: keys):")
    print(alpha[0].numpy().round(3))
    # --8<-- [end:example]

    # --8<-- [start:check]
    import math

    def formula(s, h, W, U, v):
        """Contexts from the three equations, one (i, j) at a time, in float64 Python."""
        s, h, W, U, v = (t.double().tolist() for t in (s, h, W, U, v))
        A = len(v)
        contexts = []
        for s_i in s:
            e = [sum(v[a] * math.tanh(sum(W[a][m] * x for m, x in enumerate(s_i))
                                      + sum(U[a][m] * x for m, x in enumerate(h_j)))
                     for a in range(A)) for h_j in h]
            top = max(e)
            z = sum(math.exp(e_j - top) for e_j in e)
            alpha = [math.exp(e_j - top) / z for e_j in e]
            contexts.append([sum(a_j * h_j[m] for a_j, h_j in zip(alpha, h, strict=True))
                             for m in range(len(h[0]))])
        return torch.tensor(contexts, dtype=torch.float64)

    print("checked against float64 formula")
    for dtype in (torch.float64, torch.float32):
        params = [t.to(dtype) for t in (W, U, v)]
        err = max((additive_attention(s[b].to(dtype), h[b].to(dtype), *params)[0].double()
                   - formula(s[b], h[b], *params)).abs().max().item() for b in range(B))
        print(f"{str(dtype)[6:]}: max |ours - reference| value {err:.1e}")

    inputs = [t.clone().requires_grad_() for t in (s, h, W, U, v)]
    ok = torch.autograd.gradcheck(lambda *t: additive_attention(*t, mask=keep)[0], inputs)
    print("gradcheck in float64 (autograd against finite differences):", ok)
    # --8<-- [end:check]
