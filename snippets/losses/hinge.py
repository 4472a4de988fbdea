r"""Hinge loss: the binary form on a signed score, and the multi-class form of torch.

Reference: C. Cortes and V. Vapnik, "Support-Vector Networks", Machine Learning 20,
1995; J. Weston and C. Watkins, "Support Vector Machines for Multi-Class Pattern
Recognition", ESANN 1999. The multi-class loss is checked against
`torch.nn.functional.multi_margin_loss`, the binary one against its direct formula.
"""

# --8<-- [start:impl]
import numpy as np


def _reduce(loss, reduction):
    """Apply torch's `reduction` to per-sample losses (mean of nothing is NaN)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean() if loss.size else loss.dtype.type(np.nan)
    raise ValueError(f"unknown reduction {reduction!r}")


def _scale(loss, reduction):
    """d(reduced loss) / d(per-sample loss): 1/N for "mean", else 1."""
    return 1.0 / max(loss.size, 1) if reduction == "mean" else 1.0


def hinge_loss(input, target, margin=1.0, p=1, reduction="mean"):
    r"""Binary hinge loss on a real score and a label in $\{-1, +1\}$.

    $$\ell(s, y) = \max(0,\ m - y\,s)^p$$

    With $p = 1$ this is the loss of the soft-margin SVM; $p = 2$ is the squared hinge.

    Args:
        input: scores $s$, any shape.
        target: labels $y \in \{-1, +1\}$, same shape as `input`.
        margin: $m$, the score a correct example must reach to cost nothing. Default 1.
        p: 1 or 2. Default 1.
        reduction: "mean", "sum" or "none".

    Returns:
        A scalar, or an array shaped like `input` for "none".
    """
    s, y = np.asarray(input), np.asarray(target, dtype=np.asarray(input).dtype)
    return _reduce(np.maximum(margin - y * s, 0) ** p, reduction)


def hinge_loss_grad(input, target, margin=1.0, p=1, reduction="mean"):
    r"""Gradient of `hinge_loss` with respect to `input` (of the sum, for "none").

    $$\frac{\partial \ell}{\partial s} = -p\,y\,\max(0,\ m - y\,s)^{p-1}\,
    [m - y\,s > 0]$$

    At the kink $m - y s = 0$ it returns 0, as torch's `relu` does.

    Returns:
        An array shaped like `input`.
    """
    s, y = np.asarray(input), np.asarray(target, dtype=np.asarray(input).dtype)
    z = margin - y * s
    grad = -p * y * np.maximum(z, 0) ** (p - 1) * (z > 0)
    return (grad * _scale(z, reduction)).astype(s.dtype)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    r"""Multi-class hinge loss, as `torch.nn.functional.multi_margin_loss`.

    Every wrong class $i$ whose score comes within $m$ of the true class $y$ costs:

    $$\ell(x, y) = \frac{1}{C} \sum_{i \ne y} w_y \max(0,\ m - x_y + x_i)^p$$

    As in torch's code (not its docs), the weight $w_y$ multiplies the powered term.

    Args:
        input: scores, shape (N, C) or (C,).
        target: class indices in [0, C), shape (N,) or ().
        p: 1 or 2. Default 1.
        margin: $m$. Default 1.
        weight: optional per-class weights $w$, shape (C,).
        reduction: "mean" (plain mean over N), "sum" or "none".

    Returns:
        A scalar, or shape (N,) / () for "none".
    """
    x = np.asarray(input)
    y = np.asarray(target)[..., None]  # (N, 1)
    C = x.shape[-1]
    z = margin - np.take_along_axis(x, y, axis=-1) + x  # (N, C): m - x_y + x_i
    wrong = np.arange(C) != y  # (N, C): leave out i == y
    w_y = 1.0 if weight is None else np.asarray(weight, dtype=x.dtype)[y]  # (N, 1)
    loss = (w_y * np.maximum(z, 0) ** p * wrong).sum(axis=-1) / C  # (N,)
    return _reduce(loss.astype(x.dtype), reduction)


def multi_margin_loss_grad(input, target, p=1, margin=1.0, weight=None,
                           reduction="mean"):
    r"""Gradient of `multi_margin_loss` w.r.t. `input` (of the sum, for "none").

    For $i \ne y$: $\partial \ell / \partial x_i = \frac{p\, w_y}{C} \max(0, z_i)^{p-1}
    [z_i > 0]$ with $z_i = m - x_y + x_i$, and $\partial \ell / \partial x_y$ is minus
    their sum. Zero at the kink $z_i = 0$, as in torch.

    Returns:
        An array shaped like `input`.
    """
    x = np.asarray(input)
    y = np.asarray(target)[..., None]  # (N, 1)
    C = x.shape[-1]
    z = margin - np.take_along_axis(x, y, axis=-1) + x  # (N, C)
    wrong = np.arange(C) != y  # (N, C)
    w_y = 1.0 if weight is None else np.asarray(weight, dtype=x.dtype)[y]  # (N, 1)
    g = w_y * p * np.maximum(z, 0) ** (p - 1) * (z > 0) * wrong / C  # d/dx_i, i != y
    g = g - (~wrong) * g.sum(axis=-1, keepdims=True)  # d/dx_y = -sum of the others
    return (g * _scale(z[..., 0], reduction)).astype(x.dtype)
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch
    from torch.nn import functional

    scores = np.array([2.0, 0.4, -0.3, -3.0])
    labels = np.array([1.0, 1.0, 1.0, -1.0])
    print("binary hinge per example:", hinge_loss(scores, labels, reduction="none"))

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        x = rng.normal(size=(64, 5)).astype(dtype)
        y = rng.integers(0, 5, size=64)
        w = rng.uniform(0.5, 2.0, size=5).astype(dtype)
        s = rng.normal(size=64).astype(dtype)
        sign = np.where(rng.random(64) < 0.5, -1.0, 1.0).astype(dtype)
        v_err = g_err = 0.0
        for p in (1, 2):
            xt = torch.tensor(x, requires_grad=True)
            wt = torch.tensor(w)
            ref = functional.multi_margin_loss(xt, torch.tensor(y), p=p, weight=wt)
            ref.backward()
            v_err = max(v_err, abs(multi_margin_loss(x, y, p=p, weight=w) - ref.item()))
            g = multi_margin_loss_grad(x, y, p=p, weight=w)
            g_err = max(g_err, np.abs(g - xt.grad.numpy()).max())
            st = torch.tensor(s, requires_grad=True)  # binary: direct formula in torch
            ref = (torch.relu(1 - torch.tensor(sign) * st) ** p).mean()
            ref.backward()
            v_err = max(v_err, abs(hinge_loss(s, sign, p=p) - ref.item()))
            g = hinge_loss_grad(s, sign, p=p)
            g_err = max(g_err, np.abs(g - st.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check]
