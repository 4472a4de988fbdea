r"""Triplet margin loss: an anchor nearer its positive than its negative, by a margin.

References: F. Schroff, D. Kalenichenko and J. Philbin, "FaceNet: A Unified Embedding
for Face Recognition and Clustering", CVPR 2015 (arXiv:1503.03832); V. Balntas et al.,
"Learning local feature descriptors with triplets and shallow convolutional neural
networks", BMVC 2016 (the distance swap). Checked against
`torch.nn.functional.triplet_margin_loss`.
"""

# --8<-- [start:impl]
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


def pairwise_distance(x1, x2, p=2.0, eps=1e-6):
    r"""$\lVert x_1 - x_2 + \epsilon \rVert_p$ over the last axis, as torch's function.

    Returns:
        The distances (N,) and the difference $u = x_1 - x_2 + \epsilon$, (N, D).
    """
    u = x1 - x2 + eps  # (N, D)
    return (np.abs(u) ** p).sum(axis=-1) ** (1.0 / p), u


def pairwise_distance_grad(u, d, p=2.0):
    r"""Derivative of the distance: $\operatorname{sign}(u)\,|u|^{p-1} / d^{p-1}$.

    It is taken as 0 where $d = 0$, as torch's norm does.
    """
    d = d[..., None]  # (N, 1)
    num = np.sign(u) * np.abs(u) ** (p - 1)  # (N, D)
    return np.divide(num, d ** (p - 1), out=np.zeros_like(u), where=d > 0)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6,
                        swap=False, reduction="mean"):
    r"""Triplet loss, as `torch.nn.functional.triplet_margin_loss`.

    $$\ell(a, p, n) = \max\bigl(0,\ m + d(a, p) - d(a, n)\bigr),
    \qquad d(x, y) = \lVert x - y + \epsilon \rVert_p$$

    With `swap=True`, $d(a, n)$ is replaced by $\min(d(a, n),\ d(p, n))$: the harder
    of the two distances to the negative.

    Args:
        anchor: embeddings, shape (N, D) or (D,).
        positive: embeddings of the same identity as `anchor`, same shape.
        negative: embeddings of another identity, same shape.
        margin: $m > 0$. Default 1.
        p: the norm degree, $p \ge 1$. Default 2.
        eps: added to each difference before the norm. Default 1e-6.
        swap: use the distance swap. Default False.
        reduction: "mean", "sum" or "none".

    Returns:
        A scalar, or shape (N,) / () for "none".
    """
    a, pos, neg = np.asarray(anchor), np.asarray(positive), np.asarray(negative)
    d_ap, _ = pairwise_distance(a, pos, p, eps)
    d_an, _ = pairwise_distance(a, neg, p, eps)
    if swap:
        d_an = np.minimum(d_an, pairwise_distance(pos, neg, p, eps)[0])
    return _reduce(np.maximum(margin + d_ap - d_an, 0), reduction)


def triplet_margin_loss_grad(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6,
                             swap=False, reduction="mean"):
    r"""Gradients of `triplet_margin_loss` w.r.t. anchor, positive and negative.

    When the hinge is active ($m + d_{ap} - d_{an} \ge 0$, kink included, as torch's
    `clamp_min`), $\partial \ell = \partial d_{ap} - \partial d_{an}$. With `swap`, a
    tie $d(a, n) = d(p, n)$ splits the gradient in half, as torch's `minimum` does.

    Returns:
        Three arrays shaped like the inputs (gradients of the sum for "none").
    """
    a, pos, neg = np.asarray(anchor), np.asarray(positive), np.asarray(negative)
    d_ap, u_ap = pairwise_distance(a, pos, p, eps)
    d_an, u_an = pairwise_distance(a, neg, p, eps)
    g_ap = pairwise_distance_grad(u_ap, d_ap, p)  # d d_ap / d a  (= -d d_ap / d pos)
    g_an = pairwise_distance_grad(u_an, d_an, p)  # d d_an / d a  (= -d d_an / d neg)
    w_an = np.ones_like(d_an)  # share of the gradient that goes to d(a, n)
    g_pn = np.zeros_like(u_an)
    if swap:
        d_pn, u_pn = pairwise_distance(pos, neg, p, eps)
        g_pn = pairwise_distance_grad(u_pn, d_pn, p)  # d d_pn / d pos (= -... / d neg)
        w_an = np.where(d_an < d_pn, 1.0, np.where(d_an == d_pn, 0.5, 0.0))
        d_an = np.minimum(d_an, d_pn)
    active = (margin + d_ap - d_an >= 0).astype(a.dtype)  # (N,)
    if reduction == "mean":
        active = active / max(active.size, 1)
    c = active[..., None]  # (N, 1)
    w_an, w_pn = w_an[..., None], 1.0 - w_an[..., None]
    grad_a = c * (g_ap - w_an * g_an)
    grad_p = c * (-g_ap - w_pn * g_pn)
    grad_n = c * (w_an * g_an + w_pn * g_pn)
    return tuple(g.astype(a.dtype) for g in (grad_a, grad_p, grad_n))
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch
    from torch.nn import functional

    anc = np.array([[0.0, 0.0], [0.0, 0.0]])
    pos = np.array([[1.0, 0.0], [1.0, 0.0]])
    neg = np.array([[0.0, 1.5], [0.0, 3.0]])  # 0.5 beyond the positive, then 2 beyond
    print("per triplet:", triplet_margin_loss(anc, pos, neg, reduction="none"))

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        a, po, ne = rng.normal(size=(3, 100, 8)).astype(dtype)
        v_err = g_err = 0.0
        for p, swap in ((2.0, False), (1.0, False), (3.0, True)):
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
