r"""Log-cosh loss, computed without overflow, and its gradient w.r.t. the prediction.

Reference: R. A. Saleh and A. K. Md. E. Saleh, "Statistical Properties of the log-cosh
Loss Function Used in Machine Learning", arXiv:2208.04564, 2022.
PyTorch has no built-in: checked against the direct formula log(cosh(r)) in float64
where it does not overflow, and against its limits r^2/2 (small r) and |r| - log 2
(large r).
"""

# --8<-- [start:impl]
# --8<-- [start:reduce]
import numpy as np


def _reduce(loss, reduction):
    r"""Apply torch's `reduction` to elementwise losses (the mean of nothing is NaN)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean() if loss.size else np.array(np.nan, dtype=loss.dtype)
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _scale(n, reduction):
    r"""d(reduced loss) / d(elementwise loss_i): 1/n for "mean", 1 otherwise."""
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return 1.0 / max(n, 1) if reduction == "mean" else 1.0
# --8<-- [end:reduce]


# --8<-- [start:log-cosh]
def log_cosh(r):
    r"""$\log\cosh(r)$, elementwise, with no overflow and full precision near 0.

    $$\log\cosh r = |r| + \log\left(1 + e^{-2|r|}\right) - \log 2
    = \log\left(1 + 2\sinh^2(r/2)\right)$$

    The first form never overflows ($e^{-2|r|} \le 1$) but loses the leading digits of
    tiny results to cancellation, so $|r| < 1$ uses the second form.

    Args:
        r: residuals, float array of any shape (0-d and empty included).

    Returns:
        An array of the shape and dtype of `r`; NaN where `r` is NaN.
    """
    r = np.asarray(r)
    if r.dtype.kind != "f":  # an integer dtype would round log 2 to 0
        raise TypeError(f"expected a float array, got {r.dtype}")
    a = np.abs(r)
    e = np.exp(-a)  # e^{-2a} as e^{-a} squared: -2a overflows for |r| > max / 2
    large = a + np.log1p(e * e) - np.log(2).astype(r.dtype)
    s = np.sinh(np.minimum(a, 1) / 2)  # clipped: this branch is only used for |r| < 1
    small = np.log1p(2 * s * s)
    return np.where(a < 1, small, large)
# --8<-- [end:log-cosh]


# --8<-- [start:loss]
def log_cosh_loss(input, target, reduction="mean"):
    r"""Log-cosh loss: about $r^2/2$ for small residuals, $|r| - \log 2$ for large ones.

    $$\ell_i = \log\cosh(x_i - y_i)$$

    Args:
        input: prediction $x$, float array of any shape.
        target: target $y$, same shape as `input` (no broadcasting).
        reduction: "mean" (default) divides the sum by the number of elements $n$,
            "sum" returns the sum, "none" returns $\ell_i$ elementwise.

    Returns:
        A scalar for "mean" and "sum" (NaN for the mean of an empty input),
        else an array of the shape of `input`.
    """
    input, target = np.asarray(input), np.asarray(target)
    if input.shape != target.shape:
        raise ValueError(f"input shape {input.shape} != target shape {target.shape}")
    return _reduce(log_cosh(input - target), reduction)
# --8<-- [end:loss]


# --8<-- [start:grad]
def log_cosh_loss_grad(input, target, reduction="mean"):
    r"""Gradient of `log_cosh_loss` with respect to `input`.

    $$\frac{\partial \ell_i}{\partial x_i} = \tanh(x_i - y_i),
    \quad \text{times } \tfrac{1}{n} \text{ for "mean"}$$

    Args:
        input: as in `log_cosh_loss`.
        target: as in `log_cosh_loss`.
        reduction: as in `log_cosh_loss`.

    Returns:
        An array of the shape and dtype of `input` (for "none": the elementwise
        derivative).
    """
    input, target = np.asarray(input), np.asarray(target)
    if input.shape != target.shape:
        raise ValueError(f"input shape {input.shape} != target shape {target.shape}")
    return np.tanh(input - target) * _scale(input.size, reduction)
# --8<-- [end:grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch

    r = np.array([1e-4, 0.5, 2.0, 20.0, 1e4])
    print("r           ", r)
    print("log cosh r  ", log_cosh(r))
    print("r^2 / 2     ", r**2 / 2)
    print("|r| - log 2 ", np.abs(r) - np.log(2))

    # The reference: torch's log(cosh(r)) in float64 on |r| <= 20 (no overflow there).
    print("checked against float64 formula torch.log(torch.cosh(r))")
    rng = np.random.default_rng(0)
    x64 = rng.uniform(-10, 10, size=(64, 8))
    y64 = rng.uniform(-10, 10, size=(64, 8))
    for dtype in (np.float64, np.float32):
        xs, ys = x64.astype(dtype), y64.astype(dtype)
        rel_err = grad_err = 0.0
        for reduction in ("mean", "sum", "none"):
            xt = torch.tensor(xs.astype(np.float64), requires_grad=True)
            rt = xt - torch.tensor(ys.astype(np.float64))
            out = torch.log(torch.cosh(rt))
            out = {"mean": out.mean(), "sum": out.sum(), "none": out}[reduction]
            out.sum().backward()  # autograd gives tanh(r) (times 1/n for "mean")
            ref = out.detach().numpy()
            diff = np.abs(log_cosh_loss(xs, ys, reduction) - ref).max()
            rel_err = max(rel_err, diff / np.abs(ref).max())
            grad = log_cosh_loss_grad(xs, ys, reduction)
            grad_err = max(grad_err, np.abs(grad - xt.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - reference| relative value {rel_err:.1e}, "
              f"grad {grad_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:pitfall]
    # The naive formula overflows: cosh(r) exceeds the largest float
    # once |r| > ~710 in float64, ~89 in float32
    for dtype, big in ((np.float64, 711.0), (np.float32, 90.0)):
        r = np.array([big], dtype=dtype)
        with np.errstate(over="ignore"):
            naive = np.log(np.cosh(r))
        name = np.dtype(dtype).name
        print(f"{name} r={big}: naive {naive[0]}, stable {log_cosh(r)[0]}")
    rt = torch.tensor([1000.0], dtype=torch.float64, requires_grad=True)
    torch.log(torch.cosh(rt)).sum().backward()  # sinh / cosh = inf / inf
    print("torch autograd of the naive formula at r=1000:", rt.grad.item(),
          " ours:", log_cosh_loss_grad(np.array([1000.0]), np.zeros(1), "sum")[0])

    # The overflow-safe form alone cancels for tiny r: in float32 most digits are lost
    r = np.float32(1e-3)
    safe_only = r + np.log1p(np.exp(-2 * r)) - np.float32(np.log(2))
    exact = float(r) ** 2 / 2 - float(r) ** 4 / 12  # series, for r as stored in float32
    print(f"float32 r=1e-3: safe form alone {safe_only:.6e}, ours {log_cosh(r):.6e}, "
          f"exact {exact:.6e}")
    # --8<-- [end:pitfall]
