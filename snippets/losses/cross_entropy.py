r"""Categorical and sparse categorical cross-entropy on logits, with gradients.

Reference: the negative log-likelihood of a categorical (softmax) model; see
I. Goodfellow, Y. Bengio and A. Courville, "Deep Learning", MIT Press 2016,
section 6.2.2.3. Checked against `torch.nn.functional.cross_entropy` with probability
targets and with class-index targets.
"""

# --8<-- [start:impl]
import numpy as np


def log_softmax(x, dim):
    r"""Stable log-softmax: $x_c - m - \log\sum_k e^{x_k - m}$ with $m = \max_k x_k$."""
    z = x - x.max(axis=dim, keepdims=True)  # every exponent <= 0: no overflow
    return z - np.log(np.exp(z).sum(axis=dim, keepdims=True))


def _class_dim(x):
    """torch's convention: (C,) is one unbatched sample, else classes are on dim 1."""
    return 0 if x.ndim == 1 else 1


def _along(v, x, dim):
    """Reshape a per-class vector so it broadcasts along `dim` of `x`."""
    return np.asarray(v, dtype=x.dtype).reshape((-1,) + (1,) * (x.ndim - dim - 1))


def categorical_cross_entropy(input, target, weight=None, reduction="mean"):
    r"""Cross-entropy between softmax(logits) and target probabilities (one-hot, soft).

    $$\ell_i = -\sum_{c=1}^{C} w_c\, t_{ic} \log \operatorname{softmax}(x_i)_c$$

    "mean" divides the sum by the number of samples $N$ (times any extra dimensions),
    not by the weights, as torch does for probability targets.

    Args:
        input: logits, shape (C,), (N, C) or (N, C, d1, ...).
        target: probabilities with the shape of `input`.
        weight: optional per-class weights $w$, shape (C,).
        reduction: "none" (one loss per sample), "mean" (default) or "sum".

    Returns:
        The loss: shape `input` without its class dimension for "none", else a scalar.
    """
    x, t = np.asarray(input), np.asarray(target)
    dim = _class_dim(x)
    tw = t if weight is None else t * _along(weight, x, dim)
    loss = -(tw * log_softmax(x, dim)).sum(axis=dim)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore"):  # empty batch: 0 / 0 = NaN, as in torch
            return loss.sum() / loss.size
    raise ValueError(f"unknown reduction {reduction!r}")


def categorical_cross_entropy_grad(input, target, weight=None, reduction="mean"):
    r"""Derivative of `categorical_cross_entropy` with respect to the logits.

    $$\frac{\partial \ell_i}{\partial x_{ic}}
      = p_{ic} \sum_k w_k t_{ik} - w_c t_{ic},
      \qquad p_i = \operatorname{softmax}(x_i)$$

    which is the familiar $p_i - t_i$ when there are no weights and $t_i$ sums to 1.

    The arguments are those of `categorical_cross_entropy`.

    Returns:
        An array with the shape and dtype of `input`.
    """
    x, t = np.asarray(input), np.asarray(target)
    dim = _class_dim(x)
    tw = t if weight is None else t * _along(weight, x, dim)
    p = np.exp(log_softmax(x, dim))
    grad = p * tw.sum(axis=dim, keepdims=True) - tw
    if reduction == "mean":
        grad = grad / max(grad.size // x.shape[dim], 1)
    elif reduction not in ("sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return grad


def _picked(x, target, weight, ignore_index, dim):
    """Per sample: log p of the label, its weight (0 if ignored), the ignore mask."""
    y = np.asarray(target)
    keep = y != ignore_index
    safe = np.where(keep, y, 0)  # any valid index; ignored samples get weight 0 below
    logp = log_softmax(x, dim)
    picked = np.take_along_axis(logp, np.expand_dims(safe, dim), axis=dim).squeeze(dim)
    if weight is None:
        w_y = keep.astype(x.dtype)
    else:
        w_y = np.where(keep, np.asarray(weight, dtype=x.dtype)[safe], x.dtype.type(0))
    return logp, picked, w_y, keep, safe


def sparse_categorical_cross_entropy(input, target, weight=None, ignore_index=-100,
                                     reduction="mean"):
    r"""Cross-entropy between softmax(logits) and integer class labels.

    $$\ell_i = -w_{y_i} \log \operatorname{softmax}(x_i)_{y_i},
      \qquad \text{mean}
      = \frac{\sum_i \ell_i}{\sum_{i:\,y_i \ne \text{ignore}} w_{y_i}}$$

    Samples whose label equals `ignore_index` contribute 0 and are left out of the
    denominator. With weights, "mean" is a weighted mean (divided by the sum of the
    weights of the labels), as torch does for class-index targets.

    Args:
        input: logits, shape (C,), (N, C) or (N, C, d1, ...).
        target: integer labels in [0, C), shape (), (N,) or (N, d1, ...).
        weight: optional per-class weights $w$, shape (C,).
        ignore_index: label value whose samples are skipped.
        reduction: "none" (one loss per sample), "mean" (default) or "sum".

    Returns:
        The loss: shape of `target` for "none", else a scalar.
    """
    x = np.asarray(input)
    _, picked, w_y, _, _ = _picked(x, target, weight, ignore_index, _class_dim(x))
    loss = -w_y * picked
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore"):  # all ignored or empty: 0 / 0 = NaN
            return loss.sum() / w_y.sum()
    raise ValueError(f"unknown reduction {reduction!r}")


def sparse_categorical_cross_entropy_grad(input, target, weight=None, ignore_index=-100,
                                          reduction="mean"):
    r"""Derivative of `sparse_categorical_cross_entropy` with respect to the logits.

    $$\frac{\partial \ell_i}{\partial x_{ic}} = w_{y_i}\,(p_{ic} - [c = y_i])$$

    divided by $\sum_i w_{y_i}$ for "mean"; exactly 0 for ignored samples.

    The arguments are those of `sparse_categorical_cross_entropy`.

    Returns:
        An array with the shape and dtype of `input`.
    """
    x = np.asarray(input)
    dim = _class_dim(x)
    logp, _, w_y, keep, safe = _picked(x, target, weight, ignore_index, dim)
    one_hot = np.zeros_like(x)
    np.put_along_axis(one_hot, np.expand_dims(safe, dim), 1, axis=dim)
    coef = w_y
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            coef = np.where(keep, w_y / w_y.sum(), x.dtype.type(0))
    elif reduction not in ("sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return np.expand_dims(coef, dim) * (np.exp(logp) - one_hot)
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:example]
    logits = np.array([[2.0, 0.5, -1.0], [0.0, 3.0, 0.0]])
    labels = np.array([0, 2])
    one_hot = np.eye(3)[labels]
    print("sparse, per sample:   ", sparse_categorical_cross_entropy(logits, labels,
                                                                     reduction="none"))
    print("one-hot, per sample:  ", categorical_cross_entropy(logits, one_hot,
                                                              reduction="none"))
    soft = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    print("soft targets:         ",
          categorical_cross_entropy(logits, soft, reduction="none"))
    print("second label ignored: ", sparse_categorical_cross_entropy(
        logits, labels, ignore_index=2, reduction="none"))
    huge = np.array([[1e4, -1e4, 0.0]])  # exp(1e4) overflows; the stable form does not
    print("logits +-1e4:         ", sparse_categorical_cross_entropy(
        huge, np.array([1]), reduction="none"))
    # --8<-- [end:example]

    # --8<-- [start:check]
    import torch
    F = torch.nn.functional

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        x = (rng.normal(size=(32, 5)) * 3).astype(dtype)
        y = rng.integers(0, 5, size=32)
        y[:3] = -100  # ignored samples
        t = rng.dirichlet(np.ones(5), size=32).astype(dtype)  # soft targets
        w = rng.uniform(0.5, 2, size=5).astype(dtype)
        errs = []
        for target, ours, ours_grad in [
            (y, sparse_categorical_cross_entropy,
             sparse_categorical_cross_entropy_grad),
            (t, categorical_cross_entropy, categorical_cross_entropy_grad),
        ]:
            xt = torch.tensor(x, requires_grad=True)
            ref = F.cross_entropy(xt, torch.tensor(target), weight=torch.tensor(w))
            ref.backward()
            grad = ours_grad(x, target, weight=w)
            errs.append((abs(ours(x, target, weight=w) - ref.item()),
                         np.abs(grad - xt.grad.numpy()).max()))
        value_err, grad_err = np.max(errs, axis=0)
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]
