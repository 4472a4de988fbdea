r"""Cross-entropy with label smoothing, for class-index and probability targets.

Reference: C. Szegedy et al., "Rethinking the Inception Architecture for Computer
Vision", CVPR 2016, section 7 (arXiv:1512.00567). Checked against
`torch.nn.functional.cross_entropy(..., label_smoothing=...)`.
"""

# --8<-- [start:impl]
# --8<-- [start:log_softmax]
import numpy as np


def log_softmax(x, dim):
    r"""Stable log-softmax, accurate also for a class whose probability is near 1.

    $$\log \operatorname{softmax}(x)_c = (x_c - m) - \log\Bigl(1 + \sum_{k \ne k^\ast}
      e^{x_k - m}\Bigr), \qquad m = x_{k^\ast} = \max_k x_k$$
    """
    z = x - x.max(axis=dim, keepdims=True)  # every exponent <= 0: no overflow
    others = np.exp(z)
    top = np.argmax(z, axis=dim, keepdims=True)
    np.put_along_axis(others, top, 0, axis=dim)  # leave out the largest term, e^0 = 1
    return z - np.log1p(others.sum(axis=dim, keepdims=True))
# --8<-- [end:log_softmax]


# --8<-- [start:one_minus]
def _one_minus_exp(log_p):
    r"""$1 - p$ from $\log p$, as $-\operatorname{expm1}(\log p)$."""
    return -np.expm1(log_p)
# --8<-- [end:one_minus]


# --8<-- [start:class_dim]
def _class_dim(x):
    """torch's convention: (C,) is one unbatched sample, else classes are on dim 1."""
    if not np.issubdtype(x.dtype, np.floating):  # torch refuses integer logits too
        raise ValueError(f"logits must be floating point, got {x.dtype}")
    if x.ndim == 0 or x.shape[0 if x.ndim == 1 else 1] == 0:
        raise ValueError(f"input of shape {x.shape} has no non-empty class dimension")
    return 0 if x.ndim == 1 else 1
# --8<-- [end:class_dim]


# --8<-- [start:check_smoothing]
def _check_smoothing(label_smoothing):
    """Refuse a smoothing outside [0, 1] (torch refuses > 1, treats < 0 as 0)."""
    if not 0 <= label_smoothing <= 1:  # also refuses NaN
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
# --8<-- [end:check_smoothing]


# --8<-- [start:smooth_labels]
def smooth_labels(labels, num_classes, label_smoothing):
    r"""Smoothed one-hot vectors for integer class labels.

    $$\tilde t = (1 - \varepsilon)\,\text{one-hot}(y) + \frac{\varepsilon}{C}$$

    Args:
        labels: integer labels in [0, C), any shape.
        num_classes: $C$.
        label_smoothing: $\varepsilon \in [0, 1]$.

    Returns:
        float64 probabilities of shape `labels.shape + (C,)` that sum to 1, at least
        $\varepsilon / C$ on every class.
    """
    _check_smoothing(label_smoothing)
    y = np.asarray(labels)
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be integers, got {y.dtype}")
    one_hot = np.eye(num_classes)[y]  # (..., C): one-hot on a new last axis
    return (1 - label_smoothing) * one_hot + label_smoothing / num_classes
# --8<-- [end:smooth_labels]


# --8<-- [start:one_hot_labels]
def _one_hot_labels(x, target, ignore_index, dim):
    """Check class indices as torch does; one-hot them along `dim`, zero if ignored."""
    y = np.asarray(target)
    expected = x.shape[:dim] + x.shape[dim + 1:]
    if y.shape != expected:
        raise ValueError(f"targets of shape {y.shape} are neither probabilities "
                         f"{x.shape} nor class indices {expected}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"class-index targets must be integers, got {y.dtype}")
    keep = y != ignore_index
    if (keep & ((y < 0) | (y >= x.shape[dim]))).any():
        raise ValueError(f"a target is out of bounds for {x.shape[dim]} classes")
    classes = np.arange(x.shape[dim]).reshape((-1,) + (1,) * (x.ndim - dim - 1))
    one_hot = (classes == np.expand_dims(y, dim)) & np.expand_dims(keep, dim)
    return one_hot.astype(x.dtype), keep
# --8<-- [end:one_hot_labels]


# --8<-- [start:weighted_targets]
def _weighted_targets(x, target, weight, ignore_index, label_smoothing, dim):
    r"""$w_c \tilde t_{ic}$ (zero for ignored samples), the "mean" denominator, and
    the mask of samples kept."""
    C = x.shape[dim]
    w = np.ones(C, x.dtype) if weight is None else np.asarray(weight, dtype=x.dtype)
    w = w.reshape((-1,) + (1,) * (x.ndim - dim - 1))  # broadcast along the class dim
    t = np.asarray(target)
    if t.shape == x.shape:  # probabilities: torch decides by shape, then checks dtype
        if not np.issubdtype(t.dtype, np.floating):
            raise ValueError(f"probability targets must be floating, got {t.dtype}")
        if ignore_index >= 0:  # torch refuses it; a negative one is disregarded
            raise ValueError("ignore_index is not supported for probability targets")
        tw = w * ((1 - label_smoothing) * t.astype(x.dtype) + label_smoothing / C)
        keep = np.ones(x.shape[:dim] + x.shape[dim + 1:], dtype=bool)
        return tw.astype(x.dtype), x.dtype.type(keep.size), keep  # torch: / N
    one_hot, keep = _one_hot_labels(x, t, ignore_index, dim)
    smoothed = (1 - label_smoothing) * one_hot + label_smoothing / C
    tw = np.where(np.expand_dims(keep, dim), w * smoothed, 0)
    denom = (w * one_hot).sum()  # torch: the summed weights of the labels kept
    return tw.astype(x.dtype), denom, keep
# --8<-- [end:weighted_targets]


# --8<-- [start:loss]
def cross_entropy_label_smoothing(input, target, weight=None, ignore_index=-100,
                                  reduction="mean", label_smoothing=0.0):
    r"""Cross-entropy against targets smoothed towards the uniform distribution.

    $$\ell_i = -\sum_{c=1}^{C} w_c\,\tilde t_{ic}\,\log\operatorname{softmax}(x_i)_c,
      \qquad \tilde t_i = (1 - \varepsilon)\,t_i + \frac{\varepsilon}{C}$$

    For class-index targets $t_i$ is one-hot, $\ell_i$ equals torch's
    $(1 - \varepsilon)\,\text{NLL} + \frac{\varepsilon}{C}\sum_c w_c(-\log p_{ic})$,
    ignored samples give 0, and "mean" divides by $\sum_i w_{y_i}$ (NaN when that is 0,
    as in torch). For probability targets "mean" divides by the number of samples.

    Args:
        input: logits, shape (C,), (N, C) or (N, C, d1, ...); N may be 0.
        target: as in torch, read by its shape: floating-point probabilities with the
            shape of `input`, or integer labels with the shape of `input` without its
            class dimension.
        weight: optional per-class weights, shape (C,).
        ignore_index: label value whose samples are skipped (index targets only; with
            probability targets a value >= 0 is refused, as in torch).
        reduction: "none", "mean" (default) or "sum".
        label_smoothing: $\varepsilon \in [0, 1]$.

    Returns:
        One loss per sample for "none", else a scalar.

    Raises:
        ValueError: for integer logits, a target of the wrong shape or dtype, a label
            out of range, an `ignore_index` >= 0 with probability targets, or
            $\varepsilon$ outside $[0, 1]$.
    """
    x = np.asarray(input)
    dim = _class_dim(x)
    _check_smoothing(label_smoothing)
    tw, denom, _ = _weighted_targets(x, target, weight, ignore_index, label_smoothing,
                                     dim)
    log_p = log_softmax(x, dim)
    if np.shape(target) != x.shape:  # class indices: as in torch, a zero target adds 0,
        log_p = np.where(tw == 0, 0, log_p)  # even at a masked logit of -inf
    loss = -(tw * log_p).sum(axis=dim)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        if denom == 0:  # nothing to average (or only labels of weight 0): torch's NaN
            return x.dtype.type(np.nan)
        return loss.sum() / denom
    raise ValueError(f"unknown reduction {reduction!r}")
# --8<-- [end:loss]


# --8<-- [start:grad]
def cross_entropy_label_smoothing_grad(input, target, weight=None, ignore_index=-100,
                                       reduction="mean", label_smoothing=0.0):
    r"""Derivative of `cross_entropy_label_smoothing` with respect to the logits.

    $$\frac{\partial \ell_i}{\partial x_{ic}}
      = p_{ic} \sum_{k \ne c} w_k \tilde t_{ik} - w_c \tilde t_{ic}\,(1 - p_{ic})$$

    which equals $p_{ic} \sum_k w_k \tilde t_{ik} - w_c \tilde t_{ic}$; without weights
    it is $p_i - \tilde t_i$, zero when the softmax equals the smoothed target. For
    "mean" with nothing to average, kept samples get NaN and ignored ones 0, as in
    torch.

    The arguments are those of `cross_entropy_label_smoothing`.

    Returns:
        An array with the shape and dtype of `input`.
    """
    x = np.asarray(input)
    dim = _class_dim(x)
    _check_smoothing(label_smoothing)
    tw, denom, keep = _weighted_targets(x, target, weight, ignore_index,
                                        label_smoothing, dim)
    log_p = log_softmax(x, dim)
    rest = tw.sum(axis=dim, keepdims=True) - tw  # sum over k != c of w_k t_k
    grad = np.exp(log_p) * rest - tw * _one_minus_exp(log_p)
    if reduction == "mean":
        if denom == 0:
            return np.where(np.expand_dims(keep, dim), x.dtype.type(np.nan), grad)
        grad = grad / denom
    elif reduction not in ("sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return grad.astype(x.dtype)
# --8<-- [end:grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:example]
    C, eps = 4, 0.1
    print("smoothed one-hot for label 2:", smooth_labels(np.array(2), C, eps))
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
    print("checked against torch.nn.functional.cross_entropy(label_smoothing=0.1)")
    for dtype in (np.float64, np.float32):
        x = (rng.normal(size=(32, 5)) * 3).astype(dtype)
        x[0] = [40, 0, 0, 0, 0]  # p of class 0 within 1e-17 of 1
        y = rng.integers(0, 5, size=32)
        y[:3] = [0, -100, -100]  # two ignored samples
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

    # --8<-- [start:negative]
    x = torch.tensor([[2.0, 0.0, -1.0]], dtype=torch.float64)
    for e in (0.0, -0.3):
        print(f"torch, label_smoothing={e}:",
              F.cross_entropy(x, torch.tensor([1]), label_smoothing=e).item())
    try:
        cross_entropy_label_smoothing(x.numpy(), np.array([1]), label_smoothing=-0.3)
    except ValueError as err:
        print("ours: ValueError:", err)
    # --8<-- [end:negative]
