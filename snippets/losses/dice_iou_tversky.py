r"""Soft set-overlap losses on probabilities: Dice, IoU (Jaccard), Tversky, generalised Dice.

References: F. Milletari, N. Navab and S.-A. Ahmadi, "V-Net", 3DV 2016
(arXiv:1606.04797), Dice loss; M. A. Rahman and Y. Wang, "Optimizing
Intersection-Over-Union in Deep Neural Networks for Image Segmentation", ISVC 2016, IoU
loss; S. S. M. Salehi, D. Erdogmus and A. Gholipour, "Tversky loss function for image
segmentation using 3D fully convolutional deep networks", MLMI 2017 (arXiv:1706.05721);
C. H. Sudre et al., "Generalised Dice overlap as a deep learning loss function for highly
unbalanced segmentations", DLMIA 2017 (arXiv:1707.03237). torch has no built-in: each is
checked against its formula written directly in float64 torch, and against identities
such as Tversky(1/2, 1/2) = Dice.
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


def _scale(per_sample, reduction):
    """d(reduced loss) / d(per-sample loss): 1/N for "mean", else 1."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return 1.0 / max(per_sample.size, 1) if reduction == "mean" else 1.0
# --8<-- [end:reduce]


# --8<-- [start:counts]
def _counts(input, target, dim, *nonnegative):
    r"""Arrays, summed axes and the soft counts $TP$, $FP$, $FN$ summed over them.

    `nonnegative` are the smoothing and weights, refused if negative (or NaN).
    """
    if not all(v >= 0 for v in nonnegative):
        raise ValueError(f"smoothing and weights must be >= 0, got {nonnegative}")
    p = np.asarray(input)
    if p.ndim == 0:
        raise ValueError("input needs a batch axis: shape (N, ...)")
    g = np.asarray(target, dtype=p.dtype)
    dim = tuple(range(1, p.ndim)) if dim is None else dim  # default: one per sample
    tp = (p * g).sum(axis=dim)
    fp = (p * (1 - g)).sum(axis=dim)
    fn = ((1 - p) * g).sum(axis=dim)
    return p, g, dim, tp, fp, fn


def _back(x, dim):
    """Put a per-sample value back over the summed axes (to broadcast on `input`)."""
    return np.expand_dims(x, dim)
# --8<-- [end:counts]


# --8<-- [start:dice]
def dice_loss(input, target, smooth=1.0, dim=None, reduction="mean"):
    r"""Soft Dice loss (Sørensen–Dice), on probabilities.

    $$\ell = 1 - \frac{2\,TP + s}{\sum p + \sum g + s}
    = \frac{FP + FN}{2\,TP + FP + FN + s}$$

    Args:
        input: predicted probabilities $p \in [0, 1]$, shape (N, *).
        target: target mask $g \in [0, 1]$ (soft labels allowed), same shape.
        smooth: $s \ge 0$, added to numerator and denominator. Default 1.
        dim: axes summed into one score; default all but the first (one per sample).
        reduction: "mean", "sum" or "none" over the remaining axes.

    Returns:
        A scalar, or the per-sample losses for "none".
    """
    _, _, _, tp, fp, fn = _counts(input, target, dim, smooth)
    return _reduce((fp + fn) / (2 * tp + smooth + fp + fn), reduction)
# --8<-- [end:dice]


# --8<-- [start:dice-grad]
def dice_loss_grad(input, target, smooth=1.0, dim=None, reduction="mean"):
    r"""Gradient of `dice_loss` w.r.t. `input` (of the sum, for "none").

    With $A = 2\,TP + s$ and $E = FP + FN$:

    $$\frac{\partial \ell}{\partial p_i} = \frac{(1 - 2 g_i)\,A - 2 g_i E}{(A + E)^2}$$
    """
    p, g, dim, tp, fp, fn = _counts(input, target, dim, smooth)
    A, E = _back(2 * tp + smooth, dim), _back(fp + fn, dim)
    grad = ((1 - 2 * g) * A - 2 * g * E) / (A + E) ** 2
    return (grad * _scale(tp, reduction)).astype(p.dtype)
# --8<-- [end:dice-grad]


# --8<-- [start:iou]
def iou_loss(input, target, smooth=1.0, dim=None, reduction="mean"):
    r"""Soft IoU (Jaccard) loss, on probabilities.

    $$\ell = 1 - \frac{TP + s}{\sum p + \sum g - TP + s}
    = \frac{FP + FN}{TP + FP + FN + s}$$

    Args and returns as `dice_loss`.
    """
    _, _, _, tp, fp, fn = _counts(input, target, dim, smooth)
    return _reduce((fp + fn) / (tp + smooth + fp + fn), reduction)
# --8<-- [end:iou]


# --8<-- [start:iou-grad]
def iou_loss_grad(input, target, smooth=1.0, dim=None, reduction="mean"):
    r"""Gradient of `iou_loss` w.r.t. `input`, with $A = TP + s$ and $E = FP + FN$.

    $$\frac{\partial \ell}{\partial p_i} = \frac{(1 - 2 g_i)\,A - g_i E}{(A + E)^2}$$
    """
    p, g, dim, tp, fp, fn = _counts(input, target, dim, smooth)
    A, E = _back(tp + smooth, dim), _back(fp + fn, dim)
    grad = ((1 - 2 * g) * A - g * E) / (A + E) ** 2
    return (grad * _scale(tp, reduction)).astype(p.dtype)
# --8<-- [end:iou-grad]


# --8<-- [start:tversky]
def tversky_loss(input, target, alpha=0.5, beta=0.5, smooth=1.0, dim=None,
                 reduction="mean"):
    r"""Soft Tversky loss: false positives weigh $\alpha$, false negatives $\beta$.

    $$\ell = 1 - \frac{TP + s}{TP + \alpha\,FP + \beta\,FN + s}
    = \frac{\alpha\,FP + \beta\,FN}{TP + \alpha\,FP + \beta\,FN + s}$$

    $\alpha = \beta = \tfrac12$ gives the Dice loss with smoothing $2s$, $\alpha = \beta
    = 1$ the IoU loss with smoothing $s$.

    Args:
        input: predicted probabilities $p \in [0, 1]$, shape (N, *).
        target: target mask $g \in [0, 1]$ (soft labels allowed), same shape.
        alpha: weight of false positives, $\ge 0$. Default 0.5.
        beta: weight of false negatives, $\ge 0$. Default 0.5.
        smooth: $s \ge 0$. Default 1.
        dim: axes summed into one score; default all but the first (one per sample).
        reduction: "mean", "sum" or "none" over the remaining axes.

    Returns:
        A scalar, or the per-sample losses for "none".
    """
    _, _, _, tp, fp, fn = _counts(input, target, dim, smooth, alpha, beta)
    errors = alpha * fp + beta * fn
    return _reduce(errors / (tp + smooth + errors), reduction)
# --8<-- [end:tversky]


# --8<-- [start:tversky-grad]
def tversky_loss_grad(input, target, alpha=0.5, beta=0.5, smooth=1.0, dim=None,
                      reduction="mean"):
    r"""Gradient of `tversky_loss` w.r.t. `input` (of the sum, for "none").

    With $A = TP + s$ and $E = \alpha\,FP + \beta\,FN$:

    $$\frac{\partial \ell}{\partial p_i} =
    \frac{\bigl(\alpha (1 - g_i) - \beta g_i\bigr) A - g_i E}{(A + E)^2}$$
    """
    p, g, dim, tp, fp, fn = _counts(input, target, dim, smooth, alpha, beta)
    A, E = _back(tp + smooth, dim), _back(alpha * fp + beta * fn, dim)
    grad = ((alpha * (1 - g) - beta * g) * A - g * E) / (A + E) ** 2
    return (grad * _scale(tp, reduction)).astype(p.dtype)
# --8<-- [end:tversky-grad]


# --8<-- [start:gdl-weights]
def class_weights(target, dim):
    r"""Sudre's weights $1 / (\sum g)^2$ per sample and class, over the axes `dim`.

    A class absent from a sample would get $1/0 = \infty$; it gets the largest weight
    of the classes present in that sample instead, as MONAI does.

    Returns:
        An array of shape (N, C).
    """
    with np.errstate(divide="ignore"):
        w = 1 / target.sum(axis=dim) ** 2  # (N, C); inf where the class is absent
    present = np.where(np.isinf(w), 0, w)
    return np.where(np.isinf(w), present.max(axis=1, keepdims=True, initial=0), w)
# --8<-- [end:gdl-weights]


# --8<-- [start:gdl-terms]
def _gdl_terms(input, target, smooth):
    r"""Probabilities, target, weights $w_c$ (N, C), $A = 2 \sum_c w_c TP_c + s$ and
    $E = \sum_c w_c (FP_c + FN_c)$ (N,)."""
    if np.ndim(input) < 2:
        raise ValueError("input must have shape (N, C, ...)")
    spatial = tuple(range(2, np.ndim(input)))
    p, g, _, tp, fp, fn = _counts(input, target, spatial, smooth)  # counts: (N, C)
    w = class_weights(g, spatial)  # (N, C)
    A = 2 * (w * tp).sum(axis=1) + smooth  # (N,)
    E = (w * (fp + fn)).sum(axis=1)  # (N,): the weighted errors
    return p, g, w, A, E
# --8<-- [end:gdl-terms]


# --8<-- [start:gdl]
def generalized_dice_loss(input, target, smooth=0.0, reduction="mean"):
    r"""Generalised Dice loss of Sudre et al. (2017), one value per sample.

    $$\ell = 1 - \frac{2 \sum_c w_c\,TP_c + s}{\sum_c w_c (\sum p_c + \sum g_c) + s}
    = \frac{\sum_c w_c (FP_c + FN_c)}{\sum_c w_c (2\,TP_c + FP_c + FN_c) + s},
    \qquad w_c = \frac{1}{(\sum g_c)^2}$$

    Args:
        input: class probabilities, shape (N, C, ...) with the spatial axes last.
        target: one-hot (or soft) target of the same shape.
        smooth: $s \ge 0$, added to numerator and denominator. Default 0, as Sudre.
        reduction: "mean", "sum" or "none" over the N samples.

    Returns:
        A scalar, or shape (N,) for "none".
    """
    _, _, _, A, E = _gdl_terms(input, target, smooth)
    return _reduce(E / (A + E), reduction)
# --8<-- [end:gdl]


# --8<-- [start:gdl-grad]
def generalized_dice_loss_grad(input, target, smooth=0.0, reduction="mean"):
    r"""Gradient of `generalized_dice_loss` w.r.t. `input` (of the sum, for "none").

    The weights depend on the target only, so for class $c$ at pixel $i$:

    $$\frac{\partial \ell}{\partial p_{ci}} =
    w_c\,\frac{(1 - 2 g_{ci})\,A - 2 g_{ci} E}{(A + E)^2}$$
    """
    p, g, w, A, E = _gdl_terms(input, target, smooth)
    scale = _scale(A, reduction)
    w = _back(w, tuple(range(2, p.ndim)))  # (N, C, 1, ...)
    A, E = _back(A, tuple(range(1, p.ndim))), _back(E, tuple(range(1, p.ndim)))
    grad = w * ((1 - 2 * g) * A - 2 * g * E) / (A + E) ** 2
    return (grad * scale).astype(p.dtype)
# --8<-- [end:gdl-grad]
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

    print("checked against float64 formula in torch (Dice, IoU, Tversky)")
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
            v_err = max(v_err, abs(float(loss(p, g, **kw)) - ref.item()))  # in float64
            g_err = max(g_err, np.abs(grad(p, g, **kw) - pt.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - reference| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:check-gdl]
    def onehot(labels, C):  # (N, *spatial) class indices -> (N, C, *spatial)
        return np.moveaxis(np.eye(C)[labels], -1, 1)

    labels = np.array([[[0, 0, 0, 1], [0, 0, 0, 2], [0, 0, 0, 0]],
                       [[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 0, 0]]])  # class 2 absent
    g = onehot(labels, 3)  # (2, 3, 3, 4)
    p = 0.8 * g + 0.2 / 3  # a fair prediction: 0.87 on the true class
    with np.errstate(divide="ignore", invalid="ignore"):
        w_literal = 1 / g.sum(axis=(2, 3)) ** 2  # inf for the absent class
        terms = w_literal[..., None, None] * np.stack([2 * p * g, p + g])  # inf*0: nan
        literal = 1 - terms[0].sum(axis=(1, 2, 3)) / terms[1].sum(axis=(1, 2, 3))
    print("literal weights:", literal)
    print("ours           :", generalized_dice_loss(p, g, reduction="none"))

    def reference_gdl(p, g, s):  # Sudre's formula in float64 torch, weights as MONAI
        tp, sp, sg = (p * g).sum(dim=(2, 3)), p.sum(dim=(2, 3)), g.sum(dim=(2, 3))
        w = 1 / sg**2
        w_max = torch.where(w.isinf(), 0, w).max(dim=1, keepdim=True).values
        w = torch.where(w.isinf(), w_max, w)
        return (1 - (2 * (w * tp).sum(1) + s) / ((w * (sp + sg)).sum(1) + s)).mean()

    print("checked against float64 formula in torch (generalised Dice, absent class "
          "weighted as MONAI)")
    for dtype in (np.float64, np.float32):
        labels = rng.integers(0, 4, size=(4, 16, 16))
        labels[0][labels[0] == 3] = 0  # sample 0 has no class 3
        g = onehot(labels, 4).astype(dtype)
        logits = rng.normal(size=g.shape) + 2 * g
        p = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(dtype)
        v_err = g_err = 0.0
        for s in (0.0, 1e-5):
            pt = torch.tensor(p.astype(np.float64), requires_grad=True)
            ref = reference_gdl(pt, torch.tensor(g.astype(np.float64)), s)
            ref.backward()
            v_err = max(v_err, abs(float(generalized_dice_loss(p, g, s)) - ref.item()))
            grad = generalized_dice_loss_grad(p, g, s)
            g_err = max(g_err, np.abs(grad - pt.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - reference| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check-gdl]
