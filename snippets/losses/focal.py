r"""Focal loss: cross-entropy that down-weights the examples a model already gets right.

Reference: T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollár, "Focal Loss for Dense
Object Detection", ICCV 2017 (arXiv:1708.02002). torch has no built-in: the binary form
is checked against torchvision's `sigmoid_focal_loss` formula written out in torch, and
with gamma = 0 and no alpha both forms must equal torch's cross-entropy.
"""

# --8<-- [start:impl]
import numpy as np


def _reduce(loss, reduction):
    """Apply torch's `reduction` to per-element losses (mean of nothing is NaN)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean() if loss.size else loss.dtype.type(np.nan)
    raise ValueError(f"unknown reduction {reduction!r}")


def _scale(loss, reduction):
    """d(reduced loss) / d(per-element loss): 1/N for "mean", else 1."""
    return 1.0 / max(loss.size, 1) if reduction == "mean" else 1.0


def _sigmoid_pair(x):
    r"""$\sigma(x)$, $1 - \sigma(x)$ and $e^{-|x|}$, without overflow for any $x$."""
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    big, small = 1 / (1 + e), e / (1 + e)
    pos = x >= 0
    return np.where(pos, big, small), np.where(pos, small, big), e


def sigmoid_focal_loss(input, target, alpha=0.25, gamma=2.0, reduction="mean"):
    r"""Binary focal loss on logits, elementwise (one sigmoid per output).

    $$\ell = -\alpha_t\,(1 - p_t)^\gamma \log p_t,\quad p = \sigma(x),\quad
    p_t = p\,t + (1 - p)(1 - t),\quad \alpha_t = \alpha\,t + (1 - \alpha)(1 - t)$$

    $-\log p_t$ is the binary cross-entropy with logits, computed stably as
    $\max(x, 0) - x t + \log(1 + e^{-|x|})$, and
    $1 - p_t = t\,\sigma(-x) + (1 - t)\,\sigma(x)$ is a sum of two non-negative terms,
    never a cancelling difference.

    Args:
        input: logits $x$, any shape.
        target: $t \in [0, 1]$ (usually 0 or 1), same shape.
        alpha: weight of the positive class, or None for no weighting. Default 0.25.
        gamma: focusing parameter $\gamma \ge 0$; 0 gives cross-entropy. Default 2.
        reduction: "mean", "sum" or "none" (torchvision's default is "none").

    Returns:
        A scalar, or an array shaped like `input` for "none".
    """
    x = np.asarray(input)
    t = np.asarray(target, dtype=x.dtype)
    p, one_minus_p, e = _sigmoid_pair(x)
    ce = np.maximum(x, 0) - x * t + np.log1p(e)  # -log p_t
    q = t * one_minus_p + (1 - t) * p  # 1 - p_t
    loss = q**gamma * ce
    if alpha is not None:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return _reduce(loss, reduction)


def sigmoid_focal_loss_grad(input, target, alpha=0.25, gamma=2.0, reduction="mean"):
    r"""Gradient of `sigmoid_focal_loss` w.r.t. `input` (of the sum, for "none").

    With $q = 1 - p_t$ and $c = -\log p_t$:

    $$\frac{\partial \ell}{\partial x} = \alpha_t\, q^\gamma \Bigl(\gamma\,(1 - 2t)\,
    \frac{p(1 - p)}{q}\,c + p - t\Bigr)$$

    $p(1-p)/q$ stays finite (it tends to $p_t$ as $q \to 0$ for hard labels), so the
    gradient is finite even for $\gamma < 1$ at saturated logits, where autograd of the
    textbook formula gives $0 \cdot \infty = \text{NaN}$.

    Returns:
        An array shaped like `input`.
    """
    x = np.asarray(input)
    t = np.asarray(target, dtype=x.dtype)
    p, one_minus_p, e = _sigmoid_pair(x)
    ce = np.maximum(x, 0) - x * t + np.log1p(e)
    q = t * one_minus_p + (1 - t) * p
    ratio = np.divide(p * one_minus_p, q, out=np.zeros_like(q), where=q > 0)
    grad = q**gamma * (gamma * (1 - 2 * t) * ratio * ce + p - t)
    if alpha is not None:
        grad = (alpha * t + (1 - alpha) * (1 - t)) * grad
    return (grad * _scale(grad, reduction)).astype(x.dtype)


def _log_softmax(x, dim):
    shifted = x - x.max(axis=dim, keepdims=True)  # largest logit becomes 0: no overflow
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


def focal_loss(input, target, alpha=None, gamma=2.0, reduction="mean"):
    r"""Multi-class focal loss on logits, with class indices as targets.

    $$\ell = -\alpha_y\,(1 - p_y)^\gamma \log p_y,\qquad p = \operatorname{softmax}(x)$$

    $1 - p_y$ is computed as $-\operatorname{expm1}(\log p_y)$: accurate as $p_y \to 1$.

    Args:
        input: logits, shape (N, C), (N, C, d1, ...) for segmentation, or (C,).
        target: class indices in [0, C), shape (N,), (N, d1, ...) or ().
        alpha: optional per-class weights, shape (C,); None means all 1.
        gamma: focusing parameter $\gamma \ge 0$. Default 2.
        reduction: "mean" (plain mean over targets, even with `alpha`), "sum", "none".

    Returns:
        A scalar, or an array shaped like `target` for "none".
    """
    x = np.asarray(input)
    dim = 0 if x.ndim == 1 else 1  # the class axis, as in torch's cross_entropy
    y = np.expand_dims(np.asarray(target), dim)  # (N, 1, d1, ...)
    log_py = np.take_along_axis(_log_softmax(x, dim), y, axis=dim).squeeze(dim)
    loss = -((-np.expm1(log_py)) ** gamma) * log_py  # (N, d1, ...)
    if alpha is not None:
        loss = np.asarray(alpha, dtype=x.dtype)[np.asarray(target)] * loss
    return _reduce(loss, reduction)


def focal_loss_grad(input, target, alpha=None, gamma=2.0, reduction="mean"):
    r"""Gradient of `focal_loss` with respect to the logits (of the sum, for "none").

    With $q = 1 - p_y$ and $h = \log(p_y) / q$ (which tends to $-1$ as $q \to 0$):

    $$\frac{\partial \ell}{\partial x_j} = -\alpha_y\,(\delta_{jy} - p_j)\,q^\gamma\,
    (1 - \gamma\,p_y\,h)$$

    Returns:
        An array shaped like `input`.
    """
    x = np.asarray(input)
    dim = 0 if x.ndim == 1 else 1
    y = np.expand_dims(np.asarray(target), dim)  # (N, 1, d1, ...)
    log_p = _log_softmax(x, dim)  # (N, C, d1, ...)
    log_py = np.take_along_axis(log_p, y, axis=dim)  # (N, 1, d1, ...)
    q = -np.expm1(log_py)
    h = np.divide(log_py, q, out=-np.ones_like(q), where=q > 0)
    factor = q**gamma * (1 - gamma * np.exp(log_py) * h)  # (N, 1, d1, ...)
    if alpha is not None:
        alpha_y = np.asarray(alpha, dtype=x.dtype)[np.asarray(target)]  # (N, d1, ...)
        factor = np.expand_dims(alpha_y, dim) * factor
    classes = np.arange(x.shape[dim]).reshape((-1,) + (1,) * (x.ndim - dim - 1))
    one_hot = (classes == y).astype(x.dtype)  # (N, C, d1, ...)
    grad = -(one_hot - np.exp(log_p)) * factor
    return (grad * _scale(log_py, reduction)).astype(x.dtype)
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch
    from torch.nn import functional

    logits = np.array([4.0, 0.5, -1.0, -4.0])
    labels = np.array([1.0, 1.0, 1.0, 1.0])
    print("cross-entropy:", sigmoid_focal_loss(logits, labels, None, 0.0, "none"))
    print("focal, gamma 2:", sigmoid_focal_loss(logits, labels, None, 2.0, "none"))

    def torchvision_formula(x, t, alpha=0.25, gamma=2.0):  # written out; then the mean
        p = torch.sigmoid(x)
        ce = functional.binary_cross_entropy_with_logits(x, t, reduction="none")
        p_t = p * t + (1 - p) * (1 - t)
        loss = ce * ((1 - p_t) ** gamma)
        return ((alpha * t + (1 - alpha) * (1 - t)) * loss).mean()

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        x = (rng.normal(size=(8, 50)) * 4).astype(dtype)
        t = (rng.random((8, 50)) < 0.3).astype(dtype)
        xt = torch.tensor(x, requires_grad=True)
        ref = torchvision_formula(xt, torch.tensor(t))
        ref.backward()
        v_err = abs(sigmoid_focal_loss(x, t) - ref.item())
        g_err = np.abs(sigmoid_focal_loss_grad(x, t) - xt.grad.numpy()).max()
        # gamma = 0, no alpha: the multi-class form must equal torch's cross_entropy
        z = (rng.normal(size=(32, 6)) * 4).astype(dtype)
        y = rng.integers(0, 6, size=32)
        zt = torch.tensor(z, requires_grad=True)
        ref = functional.cross_entropy(zt, torch.tensor(y))
        ref.backward()
        v_err = max(v_err, abs(focal_loss(z, y, gamma=0.0) - ref.item()))
        g = focal_loss_grad(z, y, gamma=0.0)
        g_err = max(g_err, np.abs(g - zt.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check]
