r"""Triplet margin loss: an anchor nearer its positive than its negative, by a margin.

References: F. Schroff, D. Kalenichenko and J. Philbin, "FaceNet: A Unified Embedding
for Face Recognition and Clustering", CVPR 2015 (arXiv:1503.03832); V. Balntas et al.,
"Learning local feature descriptors with triplets and shallow convolutional neural
networks", BMVC 2016 (the distance swap). Checked against
`torch.nn.functional.triplet_margin_loss`.
"""

# --8<-- [start:impl]
# --8<-- [start:reduce]
import numpy as np


def _reduce(loss, reduction):
    """Apply torch's `reduction` to per-triplet losses (mean of nothing is NaN)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean() if loss.size else loss.dtype.type(np.nan)
    raise ValueError(f"unknown reduction {reduction!r}")


def _scale(n, reduction):
    """d(reduced loss) / d(per-triplet loss) for n triplets: 1/n for "mean", else 1."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return 1.0 / max(n, 1) if reduction == "mean" else 1.0
# --8<-- [end:reduce]


# --8<-- [start:distance]
def pairwise_distance(x1, x2, p=2.0, eps=1e-6):
    r"""$\lVert x_1 - x_2 + \epsilon \rVert_p$ over the last axis, as torch's function.

    Args:
        x1: points, shape (N, D) or (D,); 0-d raises ValueError.
        x2: points, same shape.
        p: the norm order, $p \ge 1$ or `inf` (the largest component); smaller values
            raise ValueError.
        eps: added to every component of the difference. Default 1e-6.

    Returns:
        The distances (N,) and the difference $u = x_1 - x_2 + \epsilon$, (N, D).
    """
    if not p >= 1:
        raise ValueError(f"p must be >= 1 (or inf), got {p!r}")
    u = np.asarray(x1) - np.asarray(x2) + eps  # (N, D)
    if u.ndim == 0:
        raise ValueError("points need a feature axis: shape (D,) or (N, D)")
    if p == np.inf:
        return np.abs(u).max(axis=-1, initial=0), u
    return (np.abs(u) ** p).sum(axis=-1) ** (1 / p), u
# --8<-- [end:distance]


# --8<-- [start:distance-grad]
def pairwise_distance_grad(u, d, p=2.0):
    r"""Derivative of the distance w.r.t. $x_1$ (minus that w.r.t. $x_2$).

    $$\frac{\partial d}{\partial u_i} = \operatorname{sign}(u_i)
    \Bigl(\frac{|u_i|}{d}\Bigr)^{p-1},$$

    for $p = \infty$ the sign of the largest $|u_i|$, shared equally between ties, as
    in torch. It is 0 where $d = 0$, as torch's norm gives.

    Returns:
        An array shaped like `u`.
    """
    d = d[..., None]  # (N, 1)
    r = np.divide(np.abs(u), d, out=np.zeros_like(u), where=d != 0)  # |u_i| / d <= 1
    if p == np.inf:
        top = r == 1  # the components that reach the maximum
        ties = top.sum(axis=-1, keepdims=True, dtype=u.dtype)  # (N, 1)
        return np.sign(u) * top / np.maximum(ties, 1)
    return np.sign(u) * r ** (p - 1)
# --8<-- [end:distance-grad]


# --8<-- [start:loss]
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6,
                        swap=False, reduction="mean"):
    r"""Triplet loss, as `torch.nn.functional.triplet_margin_loss`.

    $$\ell(a, x^+, x^-) = \max\bigl(0,\ m + d(a, x^+) - d(a, x^-)\bigr),
    \qquad d(x, z) = \lVert x - z + \epsilon \rVert_p$$

    With `swap=True`, $d(a, x^-)$ is replaced by $\min(d(a, x^-),\ d(x^+, x^-))$: the
    harder of the two distances to the negative.

    Args:
        anchor: embeddings $a$, shape (N, D) or (D,).
        positive: embeddings $x^+$ of the same identity as `anchor`, same shape.
        negative: embeddings $x^-$ of another identity, same shape.
        margin: $m > 0$ (otherwise ValueError, as in torch). Default 1.
        p: the norm order, $p \ge 1$ or `inf`. Default 2.
        eps: added to each difference before the norm. Default 1e-6.
        swap: use the distance swap. Default False.
        reduction: "mean", "sum" or "none".

    Returns:
        A scalar, or shape (N,) / () for "none".
    """
    if not margin > 0:
        raise ValueError(f"margin must be > 0, got {margin!r}")
    a, pos, neg = np.asarray(anchor), np.asarray(positive), np.asarray(negative)
    d_ap, _ = pairwise_distance(a, pos, p, eps)
    d_an, _ = pairwise_distance(a, neg, p, eps)
    if swap:
        d_an = np.minimum(d_an, pairwise_distance(pos, neg, p, eps)[0])
    return _reduce(np.maximum(margin + d_ap - d_an, 0), reduction)
# --8<-- [end:loss]


# --8<-- [start:loss-grad]
def triplet_margin_loss_grad(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6,
                             swap=False, reduction="mean"):
    r"""Gradients of `triplet_margin_loss` w.r.t. anchor, positive and negative.

    When the hinge is active ($m + d_{ap} - d_{an} \ge 0$, kink included, as torch's
    `clamp_min`), $\partial \ell = \partial d_{ap} - \partial d_{an}$. With `swap`, a
    tie $d(a, x^-) = d(x^+, x^-)$ splits the gradient in half, as torch's `minimum`
    does. A NaN input gives NaN gradients for its triplet.

    Returns:
        Three arrays shaped like the inputs (gradients of the sum for "none").
    """
    if not margin > 0:
        raise ValueError(f"margin must be > 0, got {margin!r}")
    a, pos, neg = np.asarray(anchor), np.asarray(positive), np.asarray(negative)
    d_ap, u_ap = pairwise_distance(a, pos, p, eps)
    d_an, u_an = pairwise_distance(a, neg, p, eps)
    g_ap = pairwise_distance_grad(u_ap, d_ap, p)  # d d_ap / d a  (= -d d_ap / d pos)
    g_an = pairwise_distance_grad(u_an, d_an, p)  # d d_an / d a  (= -d d_an / d neg)
    w_an = np.ones_like(d_an)  # share of the gradient that goes to d(a, neg)
    g_pn = np.zeros_like(u_an)
    if swap:
        d_pn, u_pn = pairwise_distance(pos, neg, p, eps)
        g_pn = pairwise_distance_grad(u_pn, d_pn, p)  # d d_pn / d pos (= -... / d neg)
        w_an = np.where(d_an < d_pn, 1.0, np.where(d_an == d_pn, 0.5, 0.0))
        d_an = np.minimum(d_an, d_pn)
    active = np.heaviside(margin + d_ap - d_an, 1)  # 1 at the kink too; NaN stays NaN
    c = active[..., None] * _scale(active.size, reduction)  # (N, 1)
    w_an, w_pn = w_an[..., None], 1.0 - w_an[..., None]
    grad_a = c * (g_ap - w_an * g_an)
    grad_p = c * (-g_ap - w_pn * g_pn)
    grad_n = c * (w_an * g_an + w_pn * g_pn)
    return tuple(g.astype(a.dtype) for g in (grad_a, grad_p, grad_n))
# --8<-- [end:loss-grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch
    from torch.nn import functional

    anc = np.array([[0.0, 0.0], [0.0, 0.0]])
    pos = np.array([[1.0, 0.0], [1.0, 0.0]])
    neg = np.array([[0.0, 1.5], [0.0, 3.0]])  # 0.5 beyond the positive, then 2 beyond
    print("per triplet:", triplet_margin_loss(anc, pos, neg, reduction="none"))

    print("checked against torch.nn.functional.triplet_margin_loss")
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        a, po, ne = rng.normal(size=(3, 100, 8)).astype(dtype)
        v_err = g_err = 0.0
        for p, swap in ((2.0, False), (1.0, False), (1.5, True), (3.0, True),
                        (np.inf, False)):
            ts = [torch.tensor(v, requires_grad=True) for v in (a, po, ne)]
            ref = functional.triplet_margin_loss(*ts, margin=1.0, p=p, swap=swap)
            ref.backward()
            ours = triplet_margin_loss(a, po, ne, p=p, swap=swap)
            grads = triplet_margin_loss_grad(a, po, ne, p=p, swap=swap)
            v_err = max(v_err, abs(ours - ref.item()))
            for g, t in zip(grads, ts, strict=True):
                g_err = max(g_err, np.abs(g - t.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check]
