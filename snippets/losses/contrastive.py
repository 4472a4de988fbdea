r"""Contrastive loss for pairs of embeddings, on torch's `pairwise_distance`.

Reference: R. Hadsell, S. Chopra and Y. LeCun, "Dimensionality Reduction by Learning an
Invariant Mapping", CVPR 2006. torch has no built-in; it is checked against the formula
written in float64 torch on `torch.nn.functional.pairwise_distance` (same `eps`).
"""

# --8<-- [start:impl]
import numpy as np


def _reduce(loss, reduction):
    """Apply torch's `reduction` to per-pair losses (mean of nothing is NaN)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean() if loss.size else loss.dtype.type(np.nan)
    raise ValueError(f"unknown reduction {reduction!r}")


def _distance(x1, x2, eps):
    r"""As torch's `pairwise_distance`: $\lVert x_1 - x_2 + \epsilon \rVert_2$."""
    diff = x1 - x2 + eps  # (N, D); torch adds eps to every component
    return diff, np.sqrt((diff * diff).sum(axis=-1))  # (N, D), (N,)


def contrastive_loss(input1, input2, target, margin=1.0, eps=1e-6, reduction="mean"):
    r"""Contrastive loss of Hadsell, Chopra and LeCun (2006) on pairs of embeddings.

    $$\ell = y\,\tfrac{1}{2} D^2 + (1 - y)\,\tfrac{1}{2} \max(0,\ m - D)^2,
    \qquad D = \lVert x_1 - x_2 + \epsilon \rVert_2$$

    Similar pairs ($y = 1$) are pulled together; dissimilar pairs ($y = 0$) are pushed
    apart until they are at least $m$ apart. The paper writes $Y = 1 - y$.

    Args:
        input1: embeddings $x_1$, shape (N, D) or (D,).
        input2: embeddings $x_2$, same shape.
        target: $y$, 1 for a similar pair and 0 for a dissimilar one, shape (N,) or ().
        margin: $m > 0$. Default 1.
        eps: added to the difference before the norm, as in torch. Default 1e-6.
        reduction: "mean", "sum" or "none".

    Returns:
        A scalar, or shape (N,) / () for "none".
    """
    x1, x2 = np.asarray(input1), np.asarray(input2)
    y = np.asarray(target, dtype=x1.dtype)
    _, D = _distance(x1, x2, eps)
    loss = 0.5 * y * D**2 + 0.5 * (1 - y) * np.maximum(margin - D, 0) ** 2
    return _reduce(loss, reduction)


def contrastive_loss_grad(input1, input2, target, margin=1.0, eps=1e-6,
                          reduction="mean"):
    r"""Gradients of `contrastive_loss` w.r.t. `input1` and `input2`.

    For reduction "none", the gradients of the sum of the per-pair losses.

    With $u = x_1 - x_2 + \epsilon$ and $D = \lVert u \rVert$:

    $$\frac{\partial \ell}{\partial x_1} = y\,u - (1 - y)\max(0,\ m - D)\,\frac{u}{D}
    = -\frac{\partial \ell}{\partial x_2}$$

    The similar-pair term needs no division; for $D = 0$ the direction $u / D$ is taken
    as 0, as torch's norm does.

    Returns:
        A pair of arrays shaped like the inputs.
    """
    x1, x2 = np.asarray(input1), np.asarray(input2)
    y = np.asarray(target, dtype=x1.dtype)[..., None]  # (N, 1)
    u, D = _distance(x1, x2, eps)
    D = D[..., None]  # (N, 1)
    unit = np.divide(u, D, out=np.zeros_like(u), where=D > 0)  # u / D, 0 where D = 0
    g1 = y * u - (1 - y) * np.maximum(margin - D, 0) * unit  # (N, D)
    if reduction == "mean":
        g1 = g1 / max(D.size, 1)
    return g1.astype(x1.dtype), (-g1).astype(x1.dtype)
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch
    from torch.nn import functional

    a = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    b = np.array([[0.3, 0.4], [0.3, 0.4], [3.0, 4.0]])  # distances 0.5, 0.5, 5
    y = np.array([1.0, 0.0, 0.0])  # similar, dissimilar (too close), dissimilar (far)
    print("per pair:", contrastive_loss(a, b, y, margin=1.0, reduction="none"))

    def reference(t1, t2, t, margin=1.0):  # the formula, on torch's distance
        d = functional.pairwise_distance(t1, t2)  # p=2, eps=1e-6
        return (0.5 * t * d**2 + 0.5 * (1 - t) * torch.relu(margin - d) ** 2).mean()

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        x1, x2 = (rng.normal(size=(2, 100, 8)) * 0.3).astype(dtype)
        t = (rng.random(100) < 0.5).astype(dtype)
        t1 = torch.tensor(x1, requires_grad=True)
        t2 = torch.tensor(x2, requires_grad=True)
        ref = reference(t1, t2, torch.tensor(t), margin=2.0)
        ref.backward()
        g1, g2 = contrastive_loss_grad(x1, x2, t, margin=2.0)
        v_err = abs(contrastive_loss(x1, x2, t, margin=2.0) - ref.item())
        g_err = max(np.abs(g1 - t1.grad.numpy()).max(),
                    np.abs(g2 - t2.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check]
