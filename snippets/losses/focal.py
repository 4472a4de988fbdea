r"""Focal loss: cross-entropy that down-weights the examples a model already gets right.

Reference: T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollár, "Focal Loss for Dense
Object Detection", ICCV 2017 (arXiv:1708.02002). torch has no built-in: the binary form
is checked against torchvision's `sigmoid_focal_loss` formula written out in torch, and
with gamma = 0 and no alpha both forms must equal torch's cross-entropy.
"""

# --8<-- [start:impl]
# --8<-- [start:reduce]
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
# --8<-- [end:reduce]


# --8<-- [start:scale]
def _scale(size, reduction):
    """d(reduced loss) / d(per-element loss): 1/N for "mean", else 1."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return 1.0 / max(size, 1) if reduction == "mean" else 1.0
# --8<-- [end:scale]


# --8<-- [start:check_gamma]
def _check_gamma(gamma):
    """The focusing parameter must be >= 0 (NaN is refused too)."""
    if not gamma >= 0:
        raise ValueError(f"gamma must be >= 0, got {gamma}")
# --8<-- [end:check_gamma]


# --8<-- [start:sigmoid_pair]
def _sigmoid_pair(x):
    r"""$\sigma(x)$ and $\sigma(-x) = 1 - \sigma(x)$, each computed directly."""
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    big, small = 1 / (1 + e), e / (1 + e)
    pos = x >= 0
    return np.where(pos, big, small), np.where(pos, small, big)
# --8<-- [end:sigmoid_pair]


# --8<-- [start:softplus]
def _softplus(x):
    r"""$\log(1 + e^{x})$, computed as $\log(1 + e^{-|x|}) + \max(x, 0)$."""
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)
# --8<-- [end:softplus]


# --8<-- [start:binary_parts]
def _binary_parts(input, target, alpha, gamma):
    r"""Checked arrays and the pieces of the binary loss: $p$, $1 - p$, the
    cross-entropy $c$, $q = 1 - p_t$ and $\alpha_t$ (1 without alpha)."""
    _check_gamma(gamma)
    if alpha is not None and not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1] or None, got {alpha}")
    x = np.asarray(input)
    if not np.issubdtype(x.dtype, np.floating):  # the targets take x's dtype below
        raise ValueError(f"logits must be floating point, got {x.dtype}")
    t = np.asarray(target, dtype=x.dtype)
    if not np.all((t >= 0) & (t <= 1)):  # NaN fails both comparisons
        raise ValueError("targets must be in [0, 1]")
    p, one_minus_p = _sigmoid_pair(x)
    ce = t * _softplus(-x) + (1 - t) * _softplus(x)  # two non-negative terms
    q = t * one_minus_p + (1 - t) * p  # 1 - p_t, also a sum of two non-negative terms
    a = 1 if alpha is None else alpha * t + (1 - alpha) * (1 - t)
    return x, t, p, one_minus_p, ce, q, a
# --8<-- [end:binary_parts]


# --8<-- [start:sigmoid_focal]
def sigmoid_focal_loss(input, target, alpha=0.25, gamma=2.0, reduction="mean"):
    r"""Binary focal loss on logits, elementwise (one sigmoid per output).

    $$\ell = \alpha_t\,(1 - p_t)^\gamma\, c,\quad p = \sigma(x),\quad
    p_t = p\,t + (1 - p)(1 - t),\quad \alpha_t = \alpha\,t + (1 - \alpha)(1 - t)$$

    where $c = -[t \log p + (1 - t)\log(1 - p)]$ is the binary cross-entropy, computed
    as $t\,\operatorname{softplus}(-x) + (1 - t)\operatorname{softplus}(x)$, and
    $1 - p_t = t\,\sigma(-x) + (1 - t)\,\sigma(x)$.

    Args:
        input: logits $x$, any shape (0-d and empty included).
        target: $t \in [0, 1]$ (usually 0 or 1), same shape.
        alpha: weight $\alpha \in [0, 1]$ of the positive class, or None for no
            weighting (torchvision uses a negative value for that). Default 0.25.
        gamma: focusing parameter $\gamma \ge 0$; 0 gives cross-entropy. Default 2.
        reduction: "mean", "sum" or "none" (torchvision's default is "none").

    Returns:
        A scalar, or an array shaped like `input` for "none".

    Raises:
        ValueError: for integer logits, $\gamma < 0$, $\alpha$ outside $[0, 1]$, or a
            target outside $[0, 1]$ or NaN.
    """
    *_, ce, q, a = _binary_parts(input, target, alpha, gamma)
    return _reduce(a * q**gamma * ce, reduction)
# --8<-- [end:sigmoid_focal]


# --8<-- [start:sigmoid_focal_grad]
def sigmoid_focal_loss_grad(input, target, alpha=0.25, gamma=2.0, reduction="mean"):
    r"""Gradient of `sigmoid_focal_loss` w.r.t. `input` (of the sum, for "none").

    With $q = 1 - p_t$ and $c$ the binary cross-entropy:

    $$\frac{\partial \ell}{\partial x} = \alpha_t\, q^\gamma \Bigl(\gamma\,(1 - 2t)\,
    \frac{p(1 - p)}{q}\,c + (1 - t)\,p - t\,(1 - p)\Bigr)$$

    $(1 - t)p - t(1 - p)$ is $p - t$ without the cancelling $p - 1$ at $t = 1$; for a
    hard target both terms in the bracket have the sign of $1 - 2t$, so nothing
    cancels. $p(1-p)/q$ stays finite (it is $p_t$ for hard targets), so the gradient is
    finite even for $0 < \gamma < 1$ at saturated logits, where autograd of the textbook
    formula gives $0 \cdot \infty = \text{NaN}$.

    The arguments are those of `sigmoid_focal_loss`.

    Returns:
        An array shaped like `input`.
    """
    x, t, p, one_minus_p, ce, q, a = _binary_parts(input, target, alpha, gamma)
    ratio = np.divide(p * one_minus_p, q, out=np.zeros_like(q), where=q > 0)
    p_minus_t = (1 - t) * p - t * one_minus_p
    grad = a * q**gamma * (gamma * (1 - 2 * t) * ratio * ce + p_minus_t)
    return (grad * _scale(x.size, reduction)).astype(x.dtype)
# --8<-- [end:sigmoid_focal_grad]


# --8<-- [start:class_dim]
def _class_dim(x):
    """torch's convention: (C,) is one unbatched sample, else classes are on dim 1."""
    if not np.issubdtype(x.dtype, np.floating):  # torch refuses integer logits too
        raise ValueError(f"logits must be floating point, got {x.dtype}")
    if x.ndim == 0 or x.shape[0 if x.ndim == 1 else 1] == 0:
        raise ValueError(f"input of shape {x.shape} has no non-empty class dimension")
    return 0 if x.ndim == 1 else 1
# --8<-- [end:class_dim]


# --8<-- [start:rest]
def _rest(x, target, dim):
    r"""$d_k = x_k - x_y$ ($-\infty$ at the label) and
    $r = \log\sum_{k \ne y} e^{d_k}$, so that $p_y = \sigma(-r)$."""
    y = np.asarray(target)
    if y.shape != x.shape[:dim] + x.shape[dim + 1:] or not np.issubdtype(y.dtype,
                                                                          np.integer):
        raise ValueError("targets must be integer class indices, shaped like the "
                         "input without its class dimension")
    if ((y < 0) | (y >= x.shape[dim])).any():
        raise ValueError(f"a target is out of bounds for {x.shape[dim]} classes")
    y = np.expand_dims(y, dim)  # (N, 1, d1, ...)
    d = x - np.take_along_axis(x, y, axis=dim)
    np.put_along_axis(d, y, -np.inf, axis=dim)  # leave the label out of the sum
    m = d.max(axis=dim, keepdims=True)
    m = np.where(np.isinf(m), 0, m)  # one class only: r = log 0 = -inf, no NaN
    with np.errstate(divide="ignore"):
        r = m + np.log(np.exp(d - m).sum(axis=dim, keepdims=True))  # (N, 1, d1, ...)
    return d, r
# --8<-- [end:rest]


# --8<-- [start:focal]
def focal_loss(input, target, alpha=None, gamma=2.0, reduction="mean"):
    r"""Multi-class focal loss on logits, with class indices as targets.

    $$\ell = -\alpha_y\,(1 - p_y)^\gamma \log p_y
      = \alpha_y\,\sigma(r)^\gamma \operatorname{softplus}(r),
      \qquad r = \log\sum_{k \ne y} e^{x_k - x_y}$$

    since $p_y = \operatorname{softmax}(x)_y = \sigma(-r)$: the multi-class loss is the
    binary one on the margin $-r$, and neither $1 - p_y$ nor $\log p_y$ is rounded to 0
    when $p_y$ is close to 1.

    Args:
        input: logits, shape (N, C), (N, C, d1, ...) for segmentation, or (C,).
        target: integer class indices in [0, C), shape (N,), (N, d1, ...) or ().
        alpha: optional per-class weights, shape (C,); None means all 1.
        gamma: focusing parameter $\gamma \ge 0$. Default 2.
        reduction: "mean" (plain mean over targets, even with `alpha`), "sum", "none".

    Returns:
        A scalar, or an array shaped like `target` for "none".

    Raises:
        ValueError: for integer logits, $\gamma < 0$, or targets of the wrong shape,
            dtype or range.
    """
    _check_gamma(gamma)
    x = np.asarray(input)
    dim = _class_dim(x)
    _, r = _rest(x, target, dim)
    q = _sigmoid_pair(r)[0]  # 1 - p_y = sigma(r), accurate as p_y -> 1
    loss = (q**gamma * _softplus(r)).squeeze(dim)  # (N, d1, ...)
    if alpha is not None:
        loss = np.asarray(alpha, dtype=x.dtype)[np.asarray(target)] * loss
    return _reduce(loss, reduction)
# --8<-- [end:focal]


# --8<-- [start:focal_grad]
def focal_loss_grad(input, target, alpha=None, gamma=2.0, reduction="mean"):
    r"""Gradient of `focal_loss` with respect to the logits (of the sum, for "none").

    $$\frac{\partial \ell}{\partial r} = \alpha_y\,\sigma(r)^\gamma\,
      \bigl(\gamma\,\sigma(-r)\operatorname{softplus}(r) + \sigma(r)\bigr),\qquad
      \frac{\partial \ell}{\partial x_j} = \frac{\partial \ell}{\partial r}\cdot
      \begin{cases} -1 & j = y \\ e^{x_j - x_y - r} & j \ne y \end{cases}$$

    $\partial \ell / \partial r$ is a sum of non-negative terms and the gradient a
    product: no cancellation anywhere, and no NaN for $0 < \gamma < 1$.

    The arguments are those of `focal_loss`.

    Returns:
        An array shaped like `input`.
    """
    _check_gamma(gamma)
    x = np.asarray(input)
    dim = _class_dim(x)
    d, r = _rest(x, target, dim)
    p_y, q = _sigmoid_pair(-r)
    dl_dr = q**gamma * (gamma * p_y * _softplus(r) + q)  # (N, 1, d1, ...)
    if alpha is not None:
        alpha_y = np.asarray(alpha, dtype=x.dtype)[np.asarray(target)]  # (N, d1, ...)
        dl_dr = np.expand_dims(alpha_y, dim) * dl_dr
    # softmax over the other classes, 0 at the label; r = -inf when no other class is
    # left (C = 1, or all masked with -inf), and then every d_k is -inf too: use r = 0
    dr_dx = np.exp(d - np.where(np.isneginf(r), 0, r))
    y = np.expand_dims(np.asarray(target), dim)
    np.put_along_axis(dr_dx, y, -1, axis=dim)
    return (dl_dr * dr_dx * _scale(r.size, reduction)).astype(x.dtype)
# --8<-- [end:focal_grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:example]
    logits = np.array([4.0, 0.5, -1.0, -4.0])
    labels = np.array([1.0, 1.0, 1.0, 1.0])
    print("cross-entropy: ", sigmoid_focal_loss(logits, labels, None, 0.0, "none"))
    print("focal, gamma 2:", sigmoid_focal_loss(logits, labels, None, 2.0, "none"))
    # --8<-- [end:example]

    # --8<-- [start:check]
    import torch
    from torch.nn import functional

    def torchvision_formula(x, t, alpha=0.25, gamma=2.0):  # written out; then the mean
        p = torch.sigmoid(x)
        ce = functional.binary_cross_entropy_with_logits(x, t, reduction="none")
        p_t = p * t + (1 - p) * (1 - t)
        loss = ce * ((1 - p_t) ** gamma)
        return ((alpha * t + (1 - alpha) * (1 - t)) * loss).mean()

    rng = np.random.default_rng(0)
    errors = {"torchvision.ops.sigmoid_focal_loss, written out in torch": {},
              "torch.nn.functional.cross_entropy (multi-class, gamma = 0)": {}}
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        x = (rng.normal(size=(8, 50)) * 4).astype(dtype)
        t = (rng.random((8, 50)) < 0.3).astype(dtype)
        xt = torch.tensor(x, requires_grad=True)
        ref = torchvision_formula(xt, torch.tensor(t))
        ref.backward()
        errors["torchvision.ops.sigmoid_focal_loss, written out in torch"][name] = (
            abs(sigmoid_focal_loss(x, t) - ref.item()),
            np.abs(sigmoid_focal_loss_grad(x, t) - xt.grad.numpy()).max())
        z = (rng.normal(size=(32, 6)) * 4).astype(dtype)
        y = rng.integers(0, 6, size=32)
        zt = torch.tensor(z, requires_grad=True)
        ref = functional.cross_entropy(zt, torch.tensor(y))
        ref.backward()
        errors["torch.nn.functional.cross_entropy (multi-class, gamma = 0)"][name] = (
            abs(focal_loss(z, y, gamma=0.0) - ref.item()),
            np.abs(focal_loss_grad(z, y, gamma=0.0) - zt.grad.numpy()).max())
    for reference, rows in errors.items():
        print(f"checked against {reference}")
        for name, (v_err, g_err) in rows.items():
            print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:saturated]
    # t = 1, gamma = 1, no alpha, large logits: three ways to the gradient
    x = np.array([9.1, 36.8, 40.0])
    ones = torch.ones(3, dtype=torch.float64)
    textbook = torch.tensor(x, requires_grad=True)  # torchvision's formula
    p_t = torch.sigmoid(textbook)
    ce = functional.binary_cross_entropy_with_logits(textbook, ones, reduction="none")
    ((1 - p_t) * ce).sum().backward()
    stable = torch.tensor(x, requires_grad=True)  # the same loss from log-sigmoids
    q = torch.exp(functional.logsigmoid(-stable))  # 1 - p_t
    (q * -functional.logsigmoid(stable)).sum().backward()
    print("x                    ", x)
    print("ours                 ", sigmoid_focal_loss_grad(x, ones.numpy(), None, 1.0,
                                                           "none"))
    print("autograd, log-sigmoid", stable.grad.numpy())
    print("autograd, textbook   ", textbook.grad.numpy())
    # --8<-- [end:saturated]
