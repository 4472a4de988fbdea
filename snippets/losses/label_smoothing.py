r"""Cross-entropy with label smoothing, for class-index and probability targets.

Reference: C. Szegedy et al., "Rethinking the Inception Architecture for Computer
Vision", CVPR 2016, section 7 (arXiv:1512.00567). Checked against
`torch.nn.functional.cross_entropy(..., label_smoothing=...)`.
"""

# --8<-- [start:impl]
import numpy as np


def log_softmax(x, dim):
    r"""Stable log-softmax: $x_c - m - \log\sum_k e^{x_k - m}$ with $m = \max_k x_k$."""
    z = x - x.max(axis=dim, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=dim, keepdims=True))


def smooth_targets(target, num_classes, label_smoothing):
    r"""Mix the targets with the uniform distribution.

    $$\tilde t = (1 - \varepsilon)\, t + \frac{\varepsilon}{C}$$

    Args:
        target: integer labels (turned into one-hot vectors along a new last axis) or
            probabilities.
        num_classes: $C$.
        label_smoothing: $\varepsilon \in [0, 1]$.

    Returns:
        Probabilities that still sum to 1, at least $\varepsilon / C$ on every class.
    """
    t = np.asarray(target)
    if np.issubdtype(t.dtype, np.integer):
        t = np.eye(num_classes)[t]  # (..., C): one-hot on a new last axis
    return (1 - label_smoothing) * t + label_smoothing / num_classes


def _weighted_targets(x, target, weight, ignore_index, label_smoothing, dim):
    r"""$w_c \tilde t_{ic}$, zero for ignored samples, and the "mean" denominator."""
    C = x.shape[dim]
    w = np.ones(C, x.dtype) if weight is None else np.asarray(weight, dtype=x.dtype)
    w = w.reshape((-1,) + (1,) * (x.ndim - dim - 1))  # broadcast along the class dim
    t = np.asarray(target)
    if np.issubdtype(t.dtype, np.integer):  # class indices, as torch decides by dtype
        keep = t != ignore_index
        one_hot = np.zeros_like(x)
        safe = np.expand_dims(np.where(keep, t, 0), dim)  # ignored: any valid index
        np.put_along_axis(one_hot, safe, 1, axis=dim)
        keep = np.expand_dims(keep, dim)
        smoothed = (1 - label_smoothing) * one_hot + label_smoothing / C
        tw = np.where(keep, w * smoothed, 0)
        denom = (w * one_hot * keep).sum()  # torch: the sum of the labels' weights
    else:  # probabilities (one-hot or soft)
        tw = w * ((1 - label_smoothing) * t + label_smoothing / C)
        denom = x.size // C  # torch: the number of samples, whatever the weights
    return tw.astype(x.dtype), denom


def cross_entropy_label_smoothing(input, target, weight=None, ignore_index=-100,
                                  reduction="mean", label_smoothing=0.0):
    r"""Cross-entropy against targets smoothed towards the uniform distribution.

    $$\ell_i = -\sum_{c=1}^{C} w_c\,\tilde t_{ic}\,\log\operatorname{softmax}(x_i)_c,
      \qquad \tilde t_i = (1 - \varepsilon)\,t_i + \frac{\varepsilon}{C}$$

    For class-index targets $t_i$ is one-hot, $\ell_i$ equals torch's
    $(1 - \varepsilon)\,\text{NLL} + \frac{\varepsilon}{C}\sum_c w_c(-\log p_{ic})$,
    ignored samples give 0, and "mean" divides by $\sum_i w_{y_i}$. For probability
    targets "mean" divides by the number of samples.

    Args:
        input: logits, shape (C,), (N, C) or (N, C, d1, ...).
        target: integer labels (shape of `input` without the class dim) or probabilities
            (shape of `input`).
        weight: optional per-class weights, shape (C,).
        ignore_index: label value whose samples are skipped (index targets only).
        reduction: "none", "mean" (default) or "sum".
        label_smoothing: $\varepsilon \in [0, 1]$.

    Returns:
        One loss per sample for "none", else a scalar.
    """
    x = np.asarray(input)
    dim = 0 if x.ndim == 1 else 1
    tw, denom = _weighted_targets(x, target, weight, ignore_index, label_smoothing, dim)
    loss = -(tw * log_softmax(x, dim)).sum(axis=dim)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore"):  # nothing to average: NaN, as in torch
            return loss.sum() / x.dtype.type(denom)
    raise ValueError(f"unknown reduction {reduction!r}")


def cross_entropy_label_smoothing_grad(input, target, weight=None, ignore_index=-100,
                                       reduction="mean", label_smoothing=0.0):
    r"""Derivative of `cross_entropy_label_smoothing` with respect to the logits.

    $$\frac{\partial \ell_i}{\partial x_{ic}}
      = p_{ic} \sum_k w_k \tilde t_{ik} - w_c \tilde t_{ic}$$

    Without weights this is $p_i - \tilde t_i$: the gradient is zero when the softmax
    equals the smoothed target, so the logits stop growing at a finite gap.

    The arguments are those of `cross_entropy_label_smoothing`.

    Returns:
        An array with the shape and dtype of `input`.
    """
    x = np.asarray(input)
    dim = 0 if x.ndim == 1 else 1
    tw, denom = _weighted_targets(x, target, weight, ignore_index, label_smoothing, dim)
    grad = np.exp(log_softmax(x, dim)) * tw.sum(axis=dim, keepdims=True) - tw
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            kept = tw.any(axis=dim, keepdims=True)  # ignored samples: exactly 0
            grad = np.where(kept, grad / x.dtype.type(denom), 0)
    elif reduction not in ("sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return grad.astype(x.dtype)
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:example]
    C, eps = 4, 0.1
    print("smoothed one-hot for label 2:", smooth_targets(np.array(2), C, eps))
    # logits (z, 0, 0, 0) with label 0: where does the loss stop decreasing?
    z = np.array([2.0, 4.0, 6.0, 8.0, 10.0])
    logits = np.stack([z, 0 * z, 0 * z, 0 * z], axis=1)
    labels = np.zeros(5, dtype=int)
    for e in (0.0, eps):
        loss = cross_entropy_label_smoothing(logits, labels, reduction="none",
                                             label_smoothing=e)
        print(f"eps={e}: loss at z = {z}: {np.round(loss, 4)}")
    t_true = 1 - eps + eps / C  # the smoothed target of the true class
    best = np.log(t_true * (C - 1) / (1 - t_true))
    print("best gap z* = log(t (C-1) / (1 - t)) =", best)
    # --8<-- [end:example]

    # --8<-- [start:check]
    import torch
    F = torch.nn.functional

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        x = (rng.normal(size=(32, 5)) * 3).astype(dtype)
        y = rng.integers(0, 5, size=32)
        y[:3] = -100  # ignored samples
        t = rng.dirichlet(np.ones(5), size=32).astype(dtype)
        w = rng.uniform(0.5, 2, size=5).astype(dtype)
        value_err = grad_err = 0.0
        for target in (y, t):
            for reduction in ("mean", "sum", "none"):
                xt = torch.tensor(x, requires_grad=True)
                ref = F.cross_entropy(xt, torch.tensor(target), weight=torch.tensor(w),
                                      reduction=reduction, label_smoothing=0.1)
                ref.sum().backward()
                args = {"weight": w, "reduction": reduction, "label_smoothing": 0.1}
                ours = cross_entropy_label_smoothing(x, target, **args)
                ours_grad = cross_entropy_label_smoothing_grad(x, target, **args)
                value_err = max(value_err, np.abs(ours - ref.detach().numpy()).max())
                grad_err = max(grad_err, np.abs(ours_grad - xt.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]
