r"""Hinge loss: the binary form on a signed score, and the multi-class form of torch.

Reference: C. Cortes and V. Vapnik, "Support-Vector Networks", Machine Learning 20,
1995; J. Weston and C. Watkins, "Support Vector Machines for Multi-Class Pattern
Recognition", ESANN 1999. The multi-class loss is checked against
`torch.nn.functional.multi_margin_loss`; the binary one against the same function on the
two scores $(0, s)$, which gives half the binary hinge.
"""

# --8<-- [start:impl]
# --8<-- [start:reduce]
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


def _scale(n, reduction):
    """d(reduced loss) / d(per-sample loss) for n samples: 1/n for "mean", else 1."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return 1.0 / max(n, 1) if reduction == "mean" else 1.0


def _check_power(p):
    """Refuse a power other than 1 or 2, as torch's multi_margin_loss does."""
    if p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")


def _check_target(y, C):
    """Refuse class indices outside [0, C), as torch does (NumPy would wrap -1)."""
    if np.any((y < 0) | (y >= C)):
        raise ValueError(f"target must be class indices in [0, {C}), got {y.ravel()}")
# --8<-- [end:reduce]


# --8<-- [start:binary]
def hinge_loss(input, target, margin=1.0, p=1, reduction="mean"):
    r"""Binary hinge loss on a real score and a label in $\{-1, +1\}$.

    $$\ell(s, y) = \max(0,\ m - y\,s)^p$$

    With $p = 1$ this is the loss of the soft-margin SVM; $p = 2$ is the squared hinge.
    The label is used as given: a label 0 (instead of $-1$) makes the loss the constant
    $\max(0, m)^p$ with zero gradient.

    Args:
        input: scores $s$, any shape.
        target: labels $y \in \{-1, +1\}$, same shape as `input`.
        margin: $m$, the value $y\,s$ must reach to cost nothing. Default 1.
        p: 1 or 2 (anything else raises ValueError). Default 1.
        reduction: "mean", "sum" or "none".

    Returns:
        A scalar, or an array shaped like `input` for "none". NaN scores give NaN.
    """
    _check_power(p)
    s = np.asarray(input)
    y = np.asarray(target, dtype=s.dtype)
    return _reduce(np.maximum(margin - y * s, 0) ** p, reduction)
# --8<-- [end:binary]


# --8<-- [start:binary-grad]
def hinge_loss_grad(input, target, margin=1.0, p=1, reduction="mean"):
    r"""Gradient of `hinge_loss` with respect to `input` (of the sum, for "none").

    $$\frac{\partial \ell}{\partial s} = -p\,y\,\max(0,\ m - y\,s)^{p-1}\,
    [m - y\,s > 0]$$

    At the kink $m - y s = 0$ it returns 0, as torch's `relu` does; a NaN score gives a
    NaN gradient.

    Returns:
        An array shaped like `input`.
    """
    _check_power(p)
    s = np.asarray(input)
    y = np.asarray(target, dtype=s.dtype)
    z = margin - y * s
    step = np.heaviside(z, 0)  # 1 where z > 0, 0 at the kink and below, NaN for NaN
    grad = -p * y * np.maximum(z, 0) ** (p - 1) * step
    return (grad * _scale(z.size, reduction)).astype(s.dtype)
# --8<-- [end:binary-grad]


# --8<-- [start:multi]
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    r"""Multi-class hinge loss, as `torch.nn.functional.multi_margin_loss`.

    Every wrong class $i$ whose score comes within $m$ of the true class $y$ costs:

    $$\ell(x, y) = \frac{1}{C} \sum_{i \ne y} w_y \max(0,\ m - x_y + x_i)^p$$

    The weight $w_y$ multiplies the powered term, as in torch.

    Args:
        input: scores, shape (N, C) or (C,); other shapes raise ValueError.
        target: class indices in [0, C), shape (N,) or (); others raise ValueError.
        p: 1 or 2 (anything else raises ValueError). Default 1.
        margin: $m$. Default 1.
        weight: optional per-class weights $w$, shape (C,).
        reduction: "mean" (plain mean over N), "sum" or "none".

    Returns:
        A scalar, or shape (N,) / () for "none". A NaN score gives NaN (torch skips it).
    """
    _check_power(p)
    x = np.asarray(input)
    if x.ndim not in (1, 2):
        raise ValueError(f"input must have shape (C,) or (N, C), got {x.shape}")
    y = np.asarray(target)[..., None]  # (N, 1)
    C = x.shape[-1]
    _check_target(y, C)
    z = margin - np.take_along_axis(x, y, axis=-1) + x  # (N, C): m - x_y + x_i
    w_y = 1.0 if weight is None else np.asarray(weight, dtype=x.dtype)[y]  # (N, 1)
    terms = np.where(np.arange(C) != y, w_y * np.maximum(z, 0) ** p, 0)  # no i = y
    return _reduce((terms.sum(axis=-1) / C).astype(x.dtype), reduction)
# --8<-- [end:multi]


# --8<-- [start:multi-grad]
def multi_margin_loss_grad(input, target, p=1, margin=1.0, weight=None,
                           reduction="mean"):
    r"""Gradient of `multi_margin_loss` w.r.t. `input` (of the sum, for "none").

    For $i \ne y$: $\partial \ell / \partial x_i = \frac{p\, w_y}{C} \max(0, z_i)^{p-1}
    [z_i > 0]$ with $z_i = m - x_y + x_i$, and $\partial \ell / \partial x_y$ is minus
    their sum. Zero at the kink $z_i = 0$, as in torch.

    Returns:
        An array shaped like `input`.
    """
    _check_power(p)
    x = np.asarray(input)
    if x.ndim not in (1, 2):
        raise ValueError(f"input must have shape (C,) or (N, C), got {x.shape}")
    y = np.asarray(target)[..., None]  # (N, 1)
    C = x.shape[-1]
    _check_target(y, C)
    z = margin - np.take_along_axis(x, y, axis=-1) + x  # (N, C)
    w_y = 1.0 if weight is None else np.asarray(weight, dtype=x.dtype)[y]  # (N, 1)
    wrong = np.arange(C) != y  # (N, C)
    g = w_y * p * np.maximum(z, 0) ** (p - 1) * np.heaviside(z, 0) / C  # d/dx_i
    g = np.where(wrong, g, 0)
    g = np.where(wrong, g, -g.sum(axis=-1, keepdims=True))  # d/dx_y: minus the rest
    return (g * _scale(z[..., 0].size, reduction)).astype(x.dtype)
# --8<-- [end:multi-grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch
    from torch.nn import functional

    scores = np.array([2.0, 0.4, -0.3, -3.0])
    labels = np.array([1.0, 1.0, 1.0, -1.0])
    print("hinge, labels +-1:", hinge_loss(scores, labels, reduction="none"))
    print("last label 0     :", hinge_loss(scores, [1, 1, 1, 0], reduction="none"))

    def report(name, v_err, g_err):
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")

    rng = np.random.default_rng(0)
    print("checked against torch.nn.functional.multi_margin_loss")
    for dtype in (np.float64, np.float32):
        x = rng.normal(size=(64, 5)).astype(dtype)
        y = rng.integers(0, 5, size=64)
        w = rng.uniform(0.5, 2.0, size=5).astype(dtype)
        v_err = g_err = 0.0
        for p in (1, 2):
            xt = torch.tensor(x, requires_grad=True)
            ref = functional.multi_margin_loss(xt, torch.tensor(y), p=p,
                                               weight=torch.tensor(w))
            ref.backward()
            v_err = max(v_err, abs(multi_margin_loss(x, y, p=p, weight=w) - ref.item()))
            g = multi_margin_loss_grad(x, y, p=p, weight=w)
            g_err = max(g_err, np.abs(g - xt.grad.numpy()).max())
        report(np.dtype(dtype).name, v_err, g_err)
    # --8<-- [end:check]

    # --8<-- [start:check-binary]
    print("checked against 2 * torch.nn.functional.multi_margin_loss on scores (0, s)")
    for dtype in (np.float64, np.float32):
        s = rng.normal(size=64).astype(dtype)
        sign = np.where(rng.random(64) < 0.5, -1.0, 1.0).astype(dtype)
        v_err = g_err = 0.0
        for p in (1, 2):
            st = torch.tensor(s, requires_grad=True)
            pair = torch.stack([torch.zeros_like(st), st], dim=1)  # (N, 2): (0, s)
            cls = torch.tensor(sign > 0).long()  # class 1 for y = +1, 0 for y = -1
            ref = 2 * functional.multi_margin_loss(pair, cls, p=p, reduction="none")
            ref.sum().backward()
            ours = hinge_loss(s, sign, p=p, reduction="none")
            v_err = max(v_err, np.abs(ours - ref.detach().numpy()).max())
            g = hinge_loss_grad(s, sign, p=p, reduction="sum")
            g_err = max(g_err, np.abs(g - st.grad.numpy()).max())
        report(np.dtype(dtype).name, v_err, g_err)
    # --8<-- [end:check-binary]
