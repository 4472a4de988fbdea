r"""Categorical and sparse categorical cross-entropy on logits, with gradients.

Reference: the negative log-likelihood of a categorical (softmax) model; see
I. Goodfellow, Y. Bengio and A. Courville, "Deep Learning", MIT Press 2016,
section 6.2.2.3. Checked against `torch.nn.functional.cross_entropy` with probability
targets and with class-index targets.
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


# --8<-- [start:class_dim]
def _class_dim(x):
    """torch's convention: (C,) is one unbatched sample, else classes are on dim 1."""
    if not np.issubdtype(x.dtype, np.floating):  # torch refuses integer logits too
        raise ValueError(f"logits must be floating point, got {x.dtype}")
    if x.ndim == 0 or x.shape[0 if x.ndim == 1 else 1] == 0:
        raise ValueError(f"input of shape {x.shape} has no non-empty class dimension")
    return 0 if x.ndim == 1 else 1
# --8<-- [end:class_dim]


# --8<-- [start:along]
def _along(v, x, dim):
    """Reshape a per-class vector so it broadcasts along `dim` of `x`."""
    return np.asarray(v, dtype=x.dtype).reshape((-1,) + (1,) * (x.ndim - dim - 1))
# --8<-- [end:along]


# --8<-- [start:one_minus]
def _one_minus_exp(log_p):
    r"""$1 - p$ from $\log p$, as $-\operatorname{expm1}(\log p)$."""
    return -np.expm1(log_p)
# --8<-- [end:one_minus]


# --8<-- [start:probability_targets]
def _probability_targets(x, target):
    """Check probability targets as torch does: the input's shape, a floating dtype."""
    t = np.asarray(target)
    if t.shape != x.shape:
        raise ValueError(f"probability targets need the input's shape {x.shape}, "
                         f"got {t.shape}")
    if not np.issubdtype(t.dtype, np.floating):
        raise ValueError(f"probability targets must be floating point, got {t.dtype}")
    return t.astype(x.dtype)
# --8<-- [end:probability_targets]


# --8<-- [start:categorical]
def categorical_cross_entropy(input, target, weight=None, reduction="mean"):
    r"""Cross-entropy between softmax(logits) and target probabilities (one-hot, soft).

    $$\ell_i = -\sum_{c=1}^{C} w_c\, t_{ic} \log \operatorname{softmax}(x_i)_c$$

    "mean" divides the sum by the number of samples $N$ (times any extra dimensions),
    not by the weights, as torch does for probability targets.

    Args:
        input: logits, shape (C,), (N, C) or (N, C, d1, ...); N may be 0.
        target: floating-point probabilities with the shape of `input`.
        weight: optional per-class weights $w$, shape (C,).
        reduction: "none" (one loss per sample), "mean" (default) or "sum".

    Returns:
        The loss: shape `input` without its class dimension for "none", else a scalar.

    Raises:
        ValueError: for integer logits, or a target of another shape or an integer
            dtype (as torch).
    """
    x = np.asarray(input)
    dim = _class_dim(x)
    t = _probability_targets(x, target)
    tw = t if weight is None else t * _along(weight, x, dim)
    loss = -(tw * log_softmax(x, dim)).sum(axis=dim)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore"):  # empty batch: 0 / 0 = NaN, as in torch
            return loss.sum() / x.dtype.type(loss.size)
    raise ValueError(f"unknown reduction {reduction!r}")
# --8<-- [end:categorical]


# --8<-- [start:categorical_grad]
def categorical_cross_entropy_grad(input, target, weight=None, reduction="mean"):
    r"""Derivative of `categorical_cross_entropy` with respect to the logits.

    $$\frac{\partial \ell_i}{\partial x_{ic}}
      = p_{ic} \sum_{k \ne c} w_k t_{ik} - w_c t_{ic}\,(1 - p_{ic}),
      \qquad p_i = \operatorname{softmax}(x_i)$$

    which equals $p_{ic} \sum_k w_k t_{ik} - w_c t_{ic}$, the familiar $p_i - t_i$ when
    there are no weights and $t_i$ sums to 1, written so that a one-hot target never
    subtracts two nearly equal numbers.

    The arguments are those of `categorical_cross_entropy`.

    Returns:
        An array with the shape and dtype of `input`.
    """
    x = np.asarray(input)
    dim = _class_dim(x)
    t = _probability_targets(x, target)
    tw = t if weight is None else t * _along(weight, x, dim)
    log_p = log_softmax(x, dim)
    rest = tw.sum(axis=dim, keepdims=True) - tw  # sum over k != c of w_k t_k
    grad = np.exp(log_p) * rest - tw * _one_minus_exp(log_p)
    if reduction == "mean":
        grad = grad / x.dtype.type(max(x.size // x.shape[dim], 1))
    elif reduction not in ("sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return grad
# --8<-- [end:categorical_grad]


# --8<-- [start:class_targets]
def _class_targets(x, target, ignore_index, dim):
    """Check class indices as torch does; return them and the mask of kept samples."""
    y = np.asarray(target)
    expected = x.shape[:dim] + x.shape[dim + 1:]
    if y.shape != expected:
        raise ValueError(f"class-index targets need shape {expected}, got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"class-index targets must be integers, got {y.dtype}")
    keep = y != ignore_index
    bad = keep & ((y < 0) | (y >= x.shape[dim]))
    if bad.any():
        raise ValueError(f"target {y[bad].flat[0]} is out of bounds for "
                         f"{x.shape[dim]} classes")
    return y, keep
# --8<-- [end:class_targets]


# --8<-- [start:picked]
def _picked(x, target, weight, ignore_index, dim):
    """Per sample: log p of every class and of the label, the label's weight (0 if
    ignored), the kept mask, and a valid index for every sample."""
    y, keep = _class_targets(x, target, ignore_index, dim)
    safe = np.where(keep, y, 0)  # any valid index; ignored samples get weight 0 below
    log_p = log_softmax(x, dim)
    picked = np.take_along_axis(log_p, np.expand_dims(safe, dim), axis=dim).squeeze(dim)
    if weight is None:
        w_y = keep.astype(x.dtype)
    else:
        w_y = np.where(keep, np.asarray(weight, dtype=x.dtype)[safe], x.dtype.type(0))
    return log_p, picked, w_y, keep, safe
# --8<-- [end:picked]


# --8<-- [start:sparse]
def sparse_categorical_cross_entropy(input, target, weight=None, ignore_index=-100,
                                     reduction="mean"):
    r"""Cross-entropy between softmax(logits) and integer class labels.

    $$\ell_i = -w_{y_i} \log \operatorname{softmax}(x_i)_{y_i},
      \qquad \text{mean}
      = \frac{\sum_i \ell_i}{\sum_{i:\,y_i \ne \text{ignore}} w_{y_i}}$$

    Samples whose label equals `ignore_index` contribute 0 and are left out of the
    denominator. With weights, "mean" is a weighted mean (divided by the sum of the
    weights of the labels), as torch does for class-index targets; when that sum is 0
    (every sample ignored, or every label of weight 0) the mean is NaN, as in torch.

    Args:
        input: logits, shape (C,), (N, C) or (N, C, d1, ...); N may be 0.
        target: integer labels in [0, C) or equal to `ignore_index`, shape (), (N,) or
            (N, d1, ...). Any integer dtype (torch takes int64 and uint8 only).
        weight: optional per-class weights $w$, shape (C,).
        ignore_index: label value whose samples are skipped.
        reduction: "none" (one loss per sample), "mean" (default) or "sum".

    Returns:
        The loss: shape of `target` for "none", else a scalar.

    Raises:
        ValueError: for integer logits, a target of the wrong shape or dtype, or a
            label out of range.
    """
    x = np.asarray(input)
    _, picked, w_y, _, _ = _picked(x, target, weight, ignore_index, _class_dim(x))
    loss = -w_y * picked
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore"):  # nothing to average: 0 / 0 = NaN
            return loss.sum() / w_y.sum()
    raise ValueError(f"unknown reduction {reduction!r}")
# --8<-- [end:sparse]


# --8<-- [start:sparse_grad]
def sparse_categorical_cross_entropy_grad(input, target, weight=None, ignore_index=-100,
                                          reduction="mean"):
    r"""Derivative of `sparse_categorical_cross_entropy` w.r.t. the logits.

    $$\frac{\partial \ell_i}{\partial x_{ic}} = w_{y_i}\,(p_{ic} - [c = y_i])$$

    divided by $\sum_i w_{y_i}$ for "mean"; exactly 0 for ignored samples. At the label
    $p - 1$ is computed as $-(1 - p)$ from $\log p$, without cancellation.

    The arguments are those of `sparse_categorical_cross_entropy`.

    Returns:
        An array with the shape and dtype of `input`.
    """
    x = np.asarray(input)
    dim = _class_dim(x)
    log_p, _, w_y, keep, safe = _picked(x, target, weight, ignore_index, dim)
    classes = np.arange(x.shape[dim]).reshape((-1,) + (1,) * (x.ndim - dim - 1))
    is_label = classes == np.expand_dims(safe, dim)  # (N, C, d1, ...)
    p_minus_onehot = np.where(is_label, -_one_minus_exp(log_p), np.exp(log_p))
    coef = w_y
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):  # NaN if nothing is kept
            coef = np.where(keep, w_y / w_y.sum(), x.dtype.type(0))
    elif reduction not in ("sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return np.expand_dims(coef, dim) * p_minus_onehot
# --8<-- [end:sparse_grad]
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

    # --8<-- [start:rule]
    import torch
    F = torch.nn.functional

    x = torch.zeros(2, 3, dtype=torch.float64)  # N = 2 samples, C = 3 classes
    targets = {
        "int64, shape (2,)": torch.tensor([0, 2]),
        "float64, shape (2, 3)": torch.tensor([[1.0, 0, 0], [0, 0, 1]], dtype=x.dtype),
        "int64, shape (2, 3)": torch.tensor([[1, 0, 0], [0, 0, 1]]),
        "float64, shape (2,)": torch.tensor([0.0, 2.0], dtype=x.dtype),
    }
    for name, target in targets.items():
        try:
            result = f"loss {F.cross_entropy(x, target).item():.4f}"
        except RuntimeError as err:
            result = f"RuntimeError: {str(err).splitlines()[0]}"
        print(f"{name}\n    {result}")
    # --8<-- [end:rule]

    # --8<-- [start:check]
    rng = np.random.default_rng(0)
    print("checked against torch.nn.functional.cross_entropy")
    for dtype in (np.float64, np.float32):
        x = (rng.normal(size=(32, 5)) * 3).astype(dtype)
        x[0] = [40, 0, 0, 0, 0]  # p of class 0 within 1e-17 of 1
        y = rng.integers(0, 5, size=32)
        y[:3] = [0, -100, -100]  # two ignored samples
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

    # --8<-- [start:confident]
    x = np.array([[40.0, 0.0, 0.0]])  # sure of class 0, and right
    xt = torch.tensor(x, requires_grad=True)
    ref = F.cross_entropy(xt, torch.tensor([0]))
    ref.backward()
    print("loss  ours ", sparse_categorical_cross_entropy(x, np.array([0])))
    print("loss  torch", ref.item())
    print("grad  ours ", sparse_categorical_cross_entropy_grad(x, np.array([0]))[0])
    print("grad  torch", xt.grad.numpy()[0])
    print("2 e^-40    ", 2 * np.exp(-40.0))
    # --8<-- [end:confident]
