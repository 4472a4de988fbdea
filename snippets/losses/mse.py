r"""Mean squared error (MSE, L2 loss) and its gradient with respect to the prediction.

Reference: least squares (Legendre 1805, Gauss 1809); a modern treatment is Hastie,
Tibshirani and Friedman, "The Elements of Statistical Learning", 2nd ed. 2009, ch. 2.
Checked against `torch.nn.functional.mse_loss`.
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


# --8<-- [start:loss]
def mse_loss(input, target, reduction="mean"):
    r"""Mean squared error between a prediction and a target.

    $$\ell_i = (x_i - y_i)^2, \qquad
    \operatorname{MSE}(x, y) = \frac{1}{n} \sum_{i=1}^{n} (x_i - y_i)^2$$

    Args:
        input: prediction $x$, float array of any shape (0-d and empty included).
        target: target $y$, same shape as `input` (no broadcasting, see the pitfalls).
        reduction: "mean" (default) divides the sum by the number of elements $n$,
            "sum" returns the sum, "none" returns $\ell_i$ elementwise.

    Returns:
        A scalar for "mean" and "sum" (NaN for the mean of an empty input),
        else an array of the shape of `input`; the dtype of `input`.
    """
    input, target = np.asarray(input), np.asarray(target)
    if input.shape != target.shape:
        raise ValueError(f"input shape {input.shape} != target shape {target.shape}")
    r = input - target  # residual
    return _reduce(r * r, reduction)
# --8<-- [end:loss]


# --8<-- [start:grad]
def mse_loss_grad(input, target, reduction="mean"):
    r"""Gradient of `mse_loss` with respect to `input`.

    $$\frac{\partial \ell_i}{\partial x_i} = 2 (x_i - y_i),
    \quad \text{times } \tfrac{1}{n} \text{ for "mean"}$$

    For "none" it is the elementwise derivative, i.e. the gradient of the sum of the
    elementwise losses (what `loss.sum().backward()` gives in torch).

    Args:
        input: prediction $x$, float array of any shape.
        target: target $y$, same shape as `input`.
        reduction: "mean", "sum" or "none", as in `mse_loss`.

    Returns:
        An array of the shape and dtype of `input`.
    """
    input, target = np.asarray(input), np.asarray(target)
    if input.shape != target.shape:
        raise ValueError(f"input shape {input.shape} != target shape {target.shape}")
    return 2 * (input - target) * _scale(input.size, reduction)
# --8<-- [end:grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch
    from torch.nn import functional

    x = np.array([2.5, 0.0, 2.0, 8.0])  # predictions
    y = np.array([3.0, -0.5, 2.0, 7.0])  # targets
    print("residuals       ", x - y)
    print("loss per element", mse_loss(x, y, reduction="none"))
    print("mean", mse_loss(x, y), " sum", mse_loss(x, y, reduction="sum"))
    print("grad (mean)     ", mse_loss_grad(x, y))

    print("checked against torch.nn.functional.mse_loss")
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        xs = (rng.normal(size=(64, 8)) * 3).astype(dtype)
        ys = (rng.normal(size=(64, 8)) * 3).astype(dtype)
        value_err = grad_err = 0.0
        for reduction in ("mean", "sum", "none"):
            xt = torch.tensor(xs, requires_grad=True)
            out = functional.mse_loss(xt, torch.tensor(ys), reduction=reduction)
            out.sum().backward()  # for "none": the gradient of the summed losses
            ref = out.detach().numpy()
            diff = np.abs(mse_loss(xs, ys, reduction) - ref).max()
            value_err = max(value_err, diff)
            grad = mse_loss_grad(xs, ys, reduction)
            grad_err = max(grad_err, np.abs(grad - xt.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:reduction]
    import torch

    # Targets around 1, in batches of growing size: "mean" is the empirical loss
    # (an average), "sum" grows with the batch, and so does its gradient.
    gen = torch.Generator().manual_seed(0)
    w = torch.tensor(0.0, requires_grad=True)  # a model that predicts w for all
    for n in (10, 100, 1000):
        y = torch.randn(n, generator=gen) + 1.0
        for reduction in ("mean", "sum"):
            w.grad = None
            loss = torch.nn.functional.mse_loss(w.expand(n), y, reduction=reduction)
            loss.backward()
            print(f"n={n:5d} {reduction:4s}: loss {loss.item():9.2f}, "
                  f"dloss/dw {w.grad.item():9.2f}")
    # --8<-- [end:reduction]
