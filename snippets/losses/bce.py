r"""Binary cross-entropy, on probabilities and on logits, with gradients.

Reference: the negative log-likelihood of a Bernoulli model, as in logistic
regression (D. R. Cox, "The Regression Analysis of Binary Sequences", JRSS B 1958).
Checked against `torch.nn.functional.binary_cross_entropy` and
`binary_cross_entropy_with_logits`.
"""

# --8<-- [start:impl]
import numpy as np


def _reduce(loss, reduction):
    """Apply torch's `reduction` to elementwise losses (the mean of nothing is NaN)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore"):  # 0 / 0 for an empty batch, as in torch
            return loss.sum() / loss.size
    raise ValueError(f"unknown reduction {reduction!r}")


def _scale(grad, weight, reduction):
    """Chain rule through `weight` and the reduction: d(reduced loss)/d(element)."""
    if weight is not None:
        grad = grad * weight
    if reduction == "mean":
        grad = grad / max(grad.size, 1)
    elif reduction not in ("sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return grad


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    r"""Binary cross-entropy between predicted probabilities and targets.

    $$\ell_i = -w_i\,[\,y_i \log p_i + (1 - y_i)\log(1 - p_i)\,]$$

    Like torch, each logarithm is clamped to be at least $-100$, so a probability of
    exactly 0 or 1 gives a finite loss (at most $100\,w_i$) instead of infinity.

    Args:
        input: probabilities $p \in [0, 1]$, any shape.
        target: targets $y \in [0, 1]$ (hard 0/1 labels or soft ones), same shape.
        weight: optional rescaling $w$, broadcastable to `input`.
        reduction: "none" (elementwise), "mean" (default) or "sum".

    Returns:
        The loss with `input`'s dtype: shape of `input` for "none", a scalar otherwise.
    """
    p, y = np.asarray(input), np.asarray(target)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("all elements of input should be between 0 and 1")
    if np.any((y < 0) | (y > 1)):
        raise ValueError("all elements of target should be between 0 and 1")
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped right away
        log_p = np.maximum(np.log(p), -100)
        log_1mp = np.maximum(np.log1p(-p), -100)
    loss = -(y * log_p + (1 - y) * log_1mp)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


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
    p, y = np.asarray(input), np.asarray(target)
    eps = p.dtype.type(np.float32(1e-12))  # torch's floor is a float32 constant
    grad = (p - y) / np.maximum(p * (1 - p), eps)
    return _scale(grad, weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    r"""Binary cross-entropy on logits, $p = \sigma(x)$, computed without overflow.

    $$\ell_i = w_i\,[\,(1 - y_i)\,x_i
      + (1 + (q - 1)\,y_i)\,\operatorname{softplus}(-x_i)\,]$$

    where $q$ is `pos_weight` and
    $\operatorname{softplus}(-x) = \log(1 + e^{-|x|}) + \max(-x, 0) = -\log\sigma(x)$.
    With $q = 1$ this equals
    $-w_i[y_i\log\sigma(x_i) + (1 - y_i)\log(1 - \sigma(x_i))]$.

    Args:
        input: logits $x$, any shape.
        target: targets $y \in [0, 1]$, same shape.
        weight: optional rescaling $w$, broadcastable to `input`.
        reduction: "none", "mean" (default) or "sum".
        pos_weight: optional weight $q$ of the positive term, broadcast along the last
            dimension (one value per class).

    Returns:
        The loss with `input`'s dtype: shape of `input` for "none", a scalar otherwise.
    """
    x, y = np.asarray(input), np.asarray(target)
    softplus_neg = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)  # -log sigmoid(x)
    log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
    loss = (1 - y) * x + log_weight * softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits_grad(input, target, weight=None, reduction="mean",
                                          pos_weight=None):
    r"""Derivative of `binary_cross_entropy_with_logits` with respect to the logits.

    $$\frac{\partial \ell_i}{\partial x_i}
      = w_i\,[\,(1 + (q - 1)\,y_i)\,\sigma(x_i) - q\,y_i\,]$$

    which is $w_i(\sigma(x_i) - y_i)$ when $q = 1$: bounded, and never vanishing while
    the prediction is wrong.

    The arguments are those of `binary_cross_entropy_with_logits`.

    Returns:
        An array with the shape and dtype of `input`.
    """
    x, y = np.asarray(input), np.asarray(target)
    e = np.exp(-np.abs(x))  # in (0, 1]: no overflow for any x
    sigmoid = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    q = 1 if pos_weight is None else pos_weight
    grad = (1 + (q - 1) * y) * sigmoid - q * y
    return _scale(grad, weight, reduction)
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

    # --8<-- [start:check]
    import torch
    F = torch.nn.functional

    rng = np.random.default_rng(0)
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
        ours_p = binary_cross_entropy(p, y, weight=w)
        ours_x = binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=q)
        value_err = max(abs(ours_p - ref_p.item()), abs(ours_x - ref_x.item()))
        grad_err = max(
            np.abs(binary_cross_entropy_grad(p, y, weight=w) - pt.grad.numpy()).max(),
            np.abs(binary_cross_entropy_with_logits_grad(x, y, weight=w, pos_weight=q)
                   - xt.grad.numpy()).max(),
        )
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")

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
    # --8<-- [end:check]
