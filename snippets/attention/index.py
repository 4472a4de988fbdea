r"""Attention as a soft dictionary lookup: a weighted average of values by query-key match.

With a sharpness $\beta$, the weights are $\operatorname{softmax}(\beta\, K q)$: $\beta = 0$
averages all values, a large $\beta$ returns the value of the best-matching key.
Reference: Graves, Wayne and Danihelka, "Neural Turing Machines" (2014) for content-based
addressing; Vaswani et al. (2017) for the scaled form. Checked against
`torch.nn.functional.scaled_dot_product_attention`.
"""

# --8<-- [start:impl]
# --8<-- [start:lookup]
import torch


def soft_lookup(query, keys, values, sharpness=1.0):
    r"""Read from a key-value memory by similarity: softmax weights, then a weighted average.

    $$a = \operatorname{softmax}(\beta\, K q), \qquad \text{output} = \sum_j a_j v_j$$

    Args:
        query: shape (..., E).
        keys: shape (S, E), one key per row.
        values: shape (S, Ev), the value stored under each key.
        sharpness: finite $\beta \ge 0$; 0 averages all values, large values pick one.

    Returns:
        The output, shape (..., Ev), and the weights, shape (..., S).
    """
    if not 0 <= sharpness < float("inf"):  # also refuses NaN
        raise ValueError(f"sharpness must be finite and >= 0, got {sharpness}")
    scores = sharpness * (query @ keys.T)  # (..., E) @ (E, S) -> (..., S): similarity
    weights = torch.softmax(scores, dim=-1)  # (..., S): positive, sum to 1
    return weights @ values, weights  # (..., S) @ (S, Ev) -> (..., Ev)
# --8<-- [end:lookup]


# --8<-- [start:memory]
def memory():
    r"""A small memory: four unit-length keys in 3-D and the number stored under each.

    Returns:
        The keys, shape (4, 3), and the values, shape (4, 1), both float64.
    """
    keys = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0],
                         [0.6, 0.8, 0.0]], dtype=torch.float64)
    values = torch.tensor([[10.0], [20.0], [30.0], [40.0]], dtype=torch.float64)
    return keys, values  # (S, E), (S, Ev)
# --8<-- [end:memory]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:demo]
    keys, values = memory()  # (S, E) = (4, 3) unit vectors, (S, Ev) = (4, 1)
    query = torch.tensor([0.1, 0.9, 0.2], dtype=torch.float64)  # closest to key 1
    print("similarity q . k_j:", (keys @ query).numpy())
    for beta in (0.0, 1.0, 10.0, 100.0):
        out, w = soft_lookup(query, keys, values, sharpness=beta)
        print(f"sharpness {beta:5}: weights {w.numpy().round(3)}  output {out.item():.3f}")
    # --8<-- [end:demo]

    # --8<-- [start:check]
    import torch.nn.functional as F

    print("checked against torch.nn.functional.scaled_dot_product_attention")
    for dtype in (torch.float64, torch.float32):
        g = torch.Generator().manual_seed(0)
        q = torch.randn(5, 3, dtype=dtype, generator=g).requires_grad_()  # 5 queries
        k, v = (t.to(dtype).requires_grad_() for t in memory())
        ours, _ = soft_lookup(q, k, v, sharpness=2.5)
        ins = [t.detach().clone().requires_grad_() for t in (q, k, v)]
        ref = F.scaled_dot_product_attention(*ins, scale=2.5)  # sharpness is torch's scale
        ours.sum().backward()
        ref.sum().backward()
        value_err = (ours - ref).abs().max().item()
        grad_err = max((a.grad - b.grad).abs().max().item()
                       for a, b in zip((q, k, v), ins, strict=True))
        name = str(dtype).removeprefix("torch.")
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]
