r"""Soft set-overlap losses on probabilities: Dice, IoU (Jaccard) and Tversky.

References: F. Milletari, N. Navab and S.-A. Ahmadi, "V-Net", 3DV 2016
(arXiv:1606.04797), Dice loss; M. A. Rahman and Y. Wang, "Optimizing
Intersection-Over-Union in Deep Neural Networks for Image Segmentation", ISVC 2016, IoU
loss; S. S. M. Salehi, D. Erdogmus and A. Gholipour, "Tversky loss function for image
segmentation using 3D fully convolutional deep networks", MLMI 2017 (arXiv:1706.05721).
torch has no built-in: each is checked against its formula written directly in float64
torch, and against the identities Tversky(1/2, 1/2) = Dice and Tversky(1, 1) = IoU.
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


def _prepare(input, target, dim):
    """Arrays of one dtype, and the axes to sum (default: all but the first)."""
    p = np.asarray(input)
    g = np.asarray(target, dtype=p.dtype)
    return p, g, tuple(range(1, p.ndim)) if dim is None else dim


def _counts(input, target, dim):
    r"""Soft counts summed over `dim`: $TP = \sum pg$, $\sum p$ and $\sum g$."""
    p, g, dim = _prepare(input, target, dim)
    return (p * g).sum(axis=dim), p.sum(axis=dim), g.sum(axis=dim)


def _back(x, dim):
    """Put a per-sample value back over the summed axes (to broadcast on `input`)."""
    return np.expand_dims(x, dim)


def _scale(per_sample, reduction):
    """d(reduced loss) / d(per-sample loss): 1/N for "mean", else 1."""
    return 1.0 / max(per_sample.size, 1) if reduction == "mean" else 1.0


def tversky_loss(input, target, alpha=0.5, beta=0.5, smooth=1.0, dim=None,
                 reduction="mean"):
    r"""Soft Tversky loss: false positives weigh $\alpha$, false negatives $\beta$.

    $$\ell = 1 - \frac{TP + s}{TP + \alpha\,FP + \beta\,FN + s},\quad
    TP = \sum p g,\ FP = \sum p (1 - g),\ FN = \sum (1 - p) g$$

    $\alpha = \beta = \tfrac12$ gives the Dice loss (with $2s$ for its smoothing) and
    $\alpha = \beta = 1$ the IoU loss (same $s$).

    Args:
        input: predicted probabilities $p \in [0, 1]$, shape (N, *).
        target: target mask $g \in [0, 1]$ (soft labels allowed), same shape.
        alpha: weight of false positives. Default 0.5.
        beta: weight of false negatives. Default 0.5.
        smooth: $s \ge 0$, added to numerator and denominator. With $s > 0$ an empty
            target predicted empty costs 0; with $s = 0$ it is 0/0 = NaN.
        dim: axes summed into one score; default all but the first (one per sample).
        reduction: "mean", "sum" or "none" over the remaining axes.

    Returns:
        A scalar, or the per-sample losses for "none".
    """
    tp, sp, sg = _counts(input, target, dim)
    den = tp + alpha * (sp - tp) + beta * (sg - tp) + smooth  # FP = Σp-TP, FN = Σg-TP
    return _reduce(1 - (tp + smooth) / den, reduction)


def tversky_loss_grad(input, target, alpha=0.5, beta=0.5, smooth=1.0, dim=None,
                      reduction="mean"):
    r"""Gradient of `tversky_loss` with respect to `input` (of the sum, for "none").

    With numerator $A = TP + s$ and denominator $B = TP + \alpha FP + \beta FN + s$:

    $$\frac{\partial \ell}{\partial p_i} = -\frac{g_i B - A\,\bigl((1 - \alpha - \beta)
    g_i + \alpha\bigr)}{B^2}$$

    Returns:
        An array shaped like `input`.
    """
    p, g, dim = _prepare(input, target, dim)
    tp, sp, sg = _counts(p, g, dim)
    A = tp + smooth
    B = tp + alpha * (sp - tp) + beta * (sg - tp) + smooth
    grad = -(g * _back(B, dim) - _back(A, dim) * ((1 - alpha - beta) * g + alpha))
    return (grad / _back(B, dim) ** 2 * _scale(tp, reduction)).astype(p.dtype)


def dice_loss(input, target, smooth=1.0, dim=None, reduction="mean"):
    r"""Soft Dice loss (Sørensen–Dice), on probabilities.

    $$\ell = 1 - \frac{2\sum p g + s}{\sum p + \sum g + s}$$

    Args and returns as `tversky_loss`; `smooth` enters once in each term.
    """
    tp, sp, sg = _counts(input, target, dim)
    return _reduce(1 - (2 * tp + smooth) / (sp + sg + smooth), reduction)


def dice_loss_grad(input, target, smooth=1.0, dim=None, reduction="mean"):
    r"""Gradient of `dice_loss` w.r.t. `input`, with $S = \sum p + \sum g + s$.

    $$\frac{\partial \ell}{\partial p_i} = -\frac{2 g_i S - (2\,TP + s)}{S^2}$$
    """
    p, g, dim = _prepare(input, target, dim)
    tp, sp, sg = _counts(p, g, dim)
    A, S = _back(2 * tp + smooth, dim), _back(sp + sg + smooth, dim)
    return (-(2 * g * S - A) / S**2 * _scale(tp, reduction)).astype(p.dtype)


def iou_loss(input, target, smooth=1.0, dim=None, reduction="mean"):
    r"""Soft IoU (Jaccard) loss, on probabilities.

    $$\ell = 1 - \frac{\sum p g + s}{\sum p + \sum g - \sum p g + s}$$

    Args and returns as `tversky_loss`.
    """
    tp, sp, sg = _counts(input, target, dim)
    return _reduce(1 - (tp + smooth) / (sp + sg - tp + smooth), reduction)


def iou_loss_grad(input, target, smooth=1.0, dim=None, reduction="mean"):
    r"""Gradient of `iou_loss` w.r.t. `input`, with $U = \sum p + \sum g - TP + s$.

    $$\frac{\partial \ell}{\partial p_i} = -\frac{g_i U - (TP + s)(1 - g_i)}{U^2}$$
    """
    p, g, dim = _prepare(input, target, dim)
    tp, sp, sg = _counts(p, g, dim)
    A, U = _back(tp + smooth, dim), _back(sp + sg - tp + smooth, dim)
    return (-(g * U - A * (1 - g)) / U**2 * _scale(tp, reduction)).astype(p.dtype)
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch

    target = np.array([[0, 1, 1, 1, 0, 0]], dtype=float)
    pred = np.array([[0.1, 0.9, 0.8, 0.2, 0.6, 0.0]])
    for name, f in (("dice", dice_loss), ("iou", iou_loss), ("tversky(0.3,0.7)",
                    lambda p, g: tversky_loss(p, g, alpha=0.3, beta=0.7))):
        print(f"{name:>17}: {f(pred, target):.4f}")

    def reference(p, g, alpha, beta, s):  # the Tversky formula in float64 torch
        tp = (p * g).sum(dim=(1, 2))
        fp, fn = (p * (1 - g)).sum(dim=(1, 2)), ((1 - p) * g).sum(dim=(1, 2))
        return (1 - (tp + s) / (tp + alpha * fp + beta * fn + s)).mean()

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        p = rng.random((4, 16, 16)).astype(dtype)
        g = (rng.random((4, 16, 16)) < 0.3).astype(dtype)
        v_err = g_err = 0.0
        tv = {"alpha": 0.3, "beta": 0.7}
        cases = (  # ours, its gradient, its options; alpha, beta, smooth of the formula
            (dice_loss, dice_loss_grad, {}, 0.5, 0.5, 0.5),  # Dice's s is 2 x Tversky's
            (iou_loss, iou_loss_grad, {}, 1.0, 1.0, 1.0),
            (tversky_loss, tversky_loss_grad, tv, 0.3, 0.7, 1.0),
        )
        for loss, grad, kw, alpha, beta, s in cases:
            pt = torch.tensor(p.astype(np.float64), requires_grad=True)
            ref = reference(pt, torch.tensor(g.astype(np.float64)), alpha, beta, s)
            ref.backward()
            v_err = max(v_err, abs(loss(p, g, **kw) - ref.item()))
            g_err = max(g_err, np.abs(grad(p, g, **kw) - pt.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check]
