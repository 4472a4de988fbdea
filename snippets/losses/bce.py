r"""Binary cross-entropy, on probabilities and on logits, with gradients.

Reference: the negative log-likelihood of a Bernoulli model, as in logistic
regression (D. R. Cox, "The Regression Analysis of Binary Sequences", JRSS B 1958).
Checked against `torch.nn.functional.binary_cross_entropy` and
`binary_cross_entropy_with_logits`.
"""

# --8<-- [start:impl]
# --8<-- [start:float_array]
import numpy as np


def _float_array(a):
    """`a` as an array; integers become float64, floating dtypes are kept."""
    a = np.asarray(a)
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)
# --8<-- [end:float_array]


# --8<-- [start:reduce]
def _reduce(loss, reduction):
    """Apply torch's `reduction` to elementwise losses (the mean of nothing is NaN)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore"):  # 0 / 0 for an empty batch, as in torch
            return loss.sum() / loss.dtype.type(loss.size)
    raise ValueError(f"unknown reduction {reduction!r}")
# --8<-- [end:reduce]


# --8<-- [start:scale]
def _scale(grad, weight, reduction):
    """Chain rule through `weight` and the reduction: d(reduced loss)/d(element)."""
    if weight is not None:
        grad = grad * weight
    if reduction == "mean":
        grad = grad / grad.dtype.type(max(grad.size, 1))
    elif reduction not in ("sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return grad
# --8<-- [end:scale]


# --8<-- [start:check_range]
def _check_range(p, y):
    """Refuse probabilities or targets outside [0, 1], NaN included, as torch does."""
    if not np.all((p >= 0) & (p <= 1)):  # NaN fails both comparisons
        raise ValueError("all elements of input should be between 0 and 1")
    if not np.all((y >= 0) & (y <= 1)):
        raise ValueError("all elements of target should be between 0 and 1")
# --8<-- [end:check_range]


# --8<-- [start:bce]
def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    r"""Binary cross-entropy between predicted probabilities and targets.

    $$\ell_i = -w_i\,[\,y_i \log p_i + (1 - y_i)\log(1 - p_i)\,]$$

    Like torch, each logarithm is clamped to be at least $-100$, so a probability of
    exactly 0 or 1 gives a finite loss (at most $100\,w_i$) instead of infinity.

    Args:
        input: probabilities $p \in [0, 1]$, any shape (0-d and empty included).
        target: targets $y \in [0, 1]$ (hard 0/1 labels or soft ones), same shape.
        weight: optional rescaling $w$, broadcastable to `input`.
        reduction: "none" (elementwise), "mean" (default) or "sum".

    Returns:
        The loss with `input`'s dtype: shape of `input` for "none", a scalar otherwise.

    Raises:
        ValueError: if an element of `input` or `target` is outside $[0, 1]$ or NaN.
    """
    p = _float_array(input)
    y = np.asarray(target, dtype=p.dtype)
    _check_range(p, y)
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped right away
        log_p = np.maximum(np.log(p), -100)
        log_1mp = np.maximum(np.log1p(-p), -100)
    loss = -(y * log_p + (1 - y) * log_1mp)
    if weight is not None:
        loss = loss * np.asarray(weight, dtype=p.dtype)
    return _reduce(loss, reduction)
# --8<-- [end:bce]


# --8<-- [start:bce_grad]
def binary_cross_entropy_grad(input, target, weight=None, reduction="mean"):
    r"""Derivative of `binary_cross_entropy` with respect to the probabilities.

    $$\frac{\partial \ell_i}{\partial p_i}
      = w_i\,\frac{p_i - y_i}{\max(p_i(1 - p_i), 10^{-12})}$$

    The floor of $10^{-12}$ (a float32 constant) is torch's: at $p = 0$ with $y = 1$ the
    gradient is $-10^{12}$, not 0, although the clamped loss is flat there. For "none"
    this is the gradient of the sum of the elementwise losses.

    The arguments are those of `binary_cross_entropy`.

    Returns:
        An array with the shape and dtype of `input`.
    """
    p = _float_array(input)
    y = np.asarray(target, dtype=p.dtype)
    _check_range(p, y)
    eps = p.dtype.type(np.float32(1e-12))  # torch's floor is a float32 constant
    grad = (p - y) / np.maximum(p * (1 - p), eps)
    w = None if weight is None else np.asarray(weight, dtype=p.dtype)
    return _scale(grad, w, reduction)
# --8<-- [end:bce_grad]


# --8<-- [start:softplus]
def _softplus(x):
    r"""$\log(1 + e^{x})$, computed as $\log(1 + e^{-|x|}) + \max(x, 0)$."""
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)
# --8<-- [end:softplus]


# --8<-- [start:sigmoid]
def _sigmoid(x):
    r"""$\sigma(x) = 1 / (1 + e^{-x})$ for any $x$, from $e^{-|x|} \in (0, 1]$."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
# --8<-- [end:sigmoid]


# --8<-- [start:logits]
def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    r"""Binary cross-entropy on logits, $p = \sigma(x)$, computed without overflow.

    $$\ell_i = w_i\,[\,(1 - y_i)\operatorname{softplus}(x_i)
      + q\,y_i\operatorname{softplus}(-x_i)\,]$$

    where $q$ is `pos_weight`, $\operatorname{softplus}(-x) = -\log\sigma(x)$ and
    $\operatorname{softplus}(x) = -\log(1 - \sigma(x))$. Both terms are non-negative for
    $y \in [0, 1]$, so their sum never cancels.

    Args:
        input: logits $x$, any shape (0-d and empty included).
        target: targets $y$, same shape; usually in $[0, 1]$, but, as in torch, other
            values are not refused.
        weight: optional rescaling $w$, broadcastable to `input`.
        reduction: "none", "mean" (default) or "sum".
        pos_weight: optional weight $q$ of the positive term, broadcast along the last
            dimension (one value per class).

    Returns:
        The loss with `input`'s dtype: shape of `input` for "none", a scalar otherwise.
    """
    x = _float_array(input)
    y = np.asarray(target, dtype=x.dtype)
    q = 1 if pos_weight is None else np.asarray(pos_weight, dtype=x.dtype)
    loss = (1 - y) * _softplus(x) + q * y * _softplus(-x)
    if weight is not None:
        loss = loss * np.asarray(weight, dtype=x.dtype)
    return _reduce(loss, reduction)
# --8<-- [end:logits]


# --8<-- [start:logits_grad]
def binary_cross_entropy_with_logits_grad(input, target, weight=None, reduction="mean",
                                          pos_weight=None):
    r"""Derivative of `binary_cross_entropy_with_logits` with respect to the logits.

    $$\frac{\partial \ell_i}{\partial x_i}
      = w_i\,[\,(1 - y_i)\,\sigma(x_i) - q\,y_i\,\sigma(-x_i)\,]$$

    which is $w_i(\sigma(x_i) - y_i)$ when $q = 1$, written without the cancelling
    difference $\sigma(x) - 1$: for $y = 1$ it is $-\sigma(-x)$, accurate for every $x$.

    The arguments are those of `binary_cross_entropy_with_logits`.

    Returns:
        An array with the shape and dtype of `input`.
    """
    x = _float_array(input)
    y = np.asarray(target, dtype=x.dtype)
    q = 1 if pos_weight is None else np.asarray(pos_weight, dtype=x.dtype)
    grad = (1 - y) * _sigmoid(x) - q * y * _sigmoid(-x)
    w = None if weight is None else np.asarray(weight, dtype=x.dtype)
    return _scale(grad, w, reduction)
# --8<-- [end:logits_grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:example]
    y = np.array([1.0, 1.0, 1.0, 0.0])
    p = np.array([0.9, 0.5, 0.0, 0.0])  # the third one is confidently wrong
    print("per element:", binary_cross_entropy(p, y, reduction="none"))
    x = np.array([-1e4, 0.0, 1e4])  # logits far out of float range for exp()
    print("logits:     ",
          binary_cross_entropy_with_logits(x, np.ones(3), reduction="none"))
    # --8<-- [end:example]

    # --8<-- [start:refuse]
    for bad in (np.nan, 1.5):
        try:
            binary_cross_entropy(np.array([bad]), np.array([1.0]))
        except ValueError as err:
            print(f"p = {bad}: ValueError: {err}")
    # --8<-- [end:refuse]

    # --8<-- [start:check]
    import torch
    F = torch.nn.functional

    rng = np.random.default_rng(0)
    errors = {"binary_cross_entropy": {}, "binary_cross_entropy_with_logits": {}}
    for dtype in (np.float64, np.float32):
        x = (rng.normal(size=(64, 5)) * 4).astype(dtype)
        x[0, :2] = [1e4, -1e4]  # saturated logits
        p = rng.uniform(0.001, 0.999, size=(64, 5)).astype(dtype)
        y = rng.uniform(size=(64, 5)).astype(dtype)
        w = rng.uniform(0.5, 2, size=5).astype(dtype)
        q = rng.uniform(0.5, 3, size=5).astype(dtype)
        pt = torch.tensor(p, requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        yt, wt, qt = torch.tensor(y), torch.tensor(w), torch.tensor(q)
        ref_p = F.binary_cross_entropy(pt, yt, weight=wt)
        ref_x = F.binary_cross_entropy_with_logits(xt, yt, weight=wt, pos_weight=qt)
        ref_p.backward()
        ref_x.backward()
        grad_p = binary_cross_entropy_grad(p, y, weight=w)
        grad_x = binary_cross_entropy_with_logits_grad(x, y, weight=w, pos_weight=q)
        name = np.dtype(dtype).name
        errors["binary_cross_entropy"][name] = (
            abs(binary_cross_entropy(p, y, weight=w) - ref_p.item()),
            np.abs(grad_p - pt.grad.numpy()).max())
        errors["binary_cross_entropy_with_logits"][name] = (
            abs(binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=q)
                - ref_x.item()),
            np.abs(grad_x - xt.grad.numpy()).max())
    for function, rows in errors.items():
        print(f"checked against torch.nn.functional.{function}")
        for name, (v_err, g_err) in rows.items():
            print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:extremes]
    # probabilities of exactly 0 and 1: both clamp the log at -100
    p = np.array([0.0, 1.0, 0.0, 1.0])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    pt = torch.tensor(p, requires_grad=True)
    ref = F.binary_cross_entropy(pt, torch.tensor(y), reduction="none")
    ref.sum().backward()
    print("p, y         ", p, y)
    print("loss  ours   ", binary_cross_entropy(p, y, reduction="none"))
    print("loss  torch  ", ref.detach().numpy())
    print("grad  ours   ", binary_cross_entropy_grad(p, y, reduction="none"))
    print("grad  torch  ", pt.grad.numpy())
    # --8<-- [end:extremes]

    # --8<-- [start:saturated]
    # a confidently right logit: the true gradient is -sigmoid(-x), about -e^(-x)
    x = np.array([20.0, 36.0, 40.0, 100.0])
    xt = torch.tensor(x, requires_grad=True)
    F.binary_cross_entropy_with_logits(xt, torch.ones(4, dtype=torch.float64),
                                       reduction="sum").backward()
    ours = binary_cross_entropy_with_logits_grad(x, np.ones(4), reduction="sum")
    print("x           ", x)
    print("grad  ours  ", ours)
    print("grad  torch ", xt.grad.numpy())
    print("-exp(-x)    ", -np.exp(-x))
    # --8<-- [end:saturated]
