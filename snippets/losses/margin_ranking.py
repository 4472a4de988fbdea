r"""Margin ranking loss: a pairwise hinge on the difference of two scores.

References: R. Herbrich, T. Graepel and K. Obermayer, "Large Margin Rank Boundaries for
Ordinal Regression", Advances in Large Margin Classifiers, MIT Press, 2000; T. Joachims,
"Optimizing Search Engines using Clickthrough Data", KDD 2002. Checked against
`torch.nn.functional.margin_ranking_loss`.
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


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    r"""Hinge on the score difference of a pair, as torch's `margin_ranking_loss`.

    $$\ell(x_1, x_2, y) = \max\bigl(0,\ -y\,(x_1 - x_2) + m\bigr)$$

    $y = 1$ says $x_1$ should rank higher than $x_2$ (by at least $m$); $y = -1$ says
    the opposite.

    Args:
        input1: scores $x_1$, any shape.
        input2: scores $x_2$, same shape.
        target: $y \in \{-1, +1\}$, same shape.
        margin: $m \ge 0$. Default 0, as in torch.
        reduction: "mean", "sum" or "none".

    Returns:
        A scalar, or an array shaped like the inputs for "none".
    """
    x1, x2 = np.asarray(input1), np.asarray(input2)
    y = np.asarray(target, dtype=x1.dtype)
    return _reduce(np.maximum(-y * (x1 - x2) + margin, 0), reduction)


def margin_ranking_loss_grad(input1, input2, target, margin=0.0, reduction="mean"):
    r"""Gradients of `margin_ranking_loss` w.r.t. `input1` and `input2`.

    For reduction "none", the gradients of the sum of the per-pair losses.

    $$\frac{\partial \ell}{\partial x_1} = -y\,[-y(x_1 - x_2) + m \ge 0],
    \qquad \frac{\partial \ell}{\partial x_2} = -\frac{\partial \ell}{\partial x_1}$$

    At the kink (hinge exactly 0) the pair counts as active, as in torch's `clamp_min`.

    Returns:
        A pair of arrays, each shaped like the inputs.
    """
    x1, x2 = np.asarray(input1), np.asarray(input2)
    y = np.asarray(target, dtype=x1.dtype)
    active = -y * (x1 - x2) + margin >= 0
    scale = 1.0 / max(x1.size, 1) if reduction == "mean" else 1.0
    g1 = (-y * active * scale).astype(x1.dtype)
    return g1, -g1
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch
    from torch.nn import functional

    a = np.array([3.0, 1.0, 0.5, 2.0])
    b = np.array([1.0, 2.0, 0.0, 2.5])
    y = np.array([1.0, 1.0, 1.0, -1.0])  # 1: a should beat b; -1: b should beat a
    print("per pair, margin 1:", margin_ranking_loss(a, b, y, 1.0, reduction="none"))

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        x1, x2 = rng.normal(size=(2, 200)).astype(dtype)
        t = np.where(rng.random(200) < 0.5, -1.0, 1.0).astype(dtype)
        v_err = g_err = 0.0
        for reduction in ("mean", "sum", "none"):
            t1 = torch.tensor(x1, requires_grad=True)
            t2 = torch.tensor(x2, requires_grad=True)
            ref = functional.margin_ranking_loss(t1, t2, torch.tensor(t), 0.5,
                                                 reduction=reduction)
            ref.sum().backward()
            ours = margin_ranking_loss(x1, x2, t, 0.5, reduction)
            g1, g2 = margin_ranking_loss_grad(x1, x2, t, 0.5, reduction)
            v_err = max(v_err, np.abs(ours - ref.detach().numpy()).max())
            g_err = max(g_err, np.abs(g1 - t1.grad.numpy()).max(),
                        np.abs(g2 - t2.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check]
