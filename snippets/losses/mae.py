r"""Mean absolute error (MAE, L1 loss) and its gradient with respect to the prediction.

Reference: R. Koenker and G. Bassett, "Regression Quantiles", Econometrica 46(1), 1978:
least absolute deviations fit the conditional median.
Checked against `torch.nn.functional.l1_loss`.
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
def l1_loss(input, target, reduction="mean"):
    r"""Mean absolute error between a prediction and a target.

    $$\ell_i = |x_i - y_i|, \qquad
    \operatorname{MAE}(x, y) = \frac{1}{n} \sum_{i=1}^{n} |x_i - y_i|$$

    Args:
        input: prediction $x$, array of any shape.
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
    return _reduce(np.abs(input - target), reduction)
# --8<-- [end:loss]


# --8<-- [start:grad]
def l1_loss_grad(input, target, reduction="mean"):
    r"""Gradient of `l1_loss` with respect to `input`.

    $$\frac{\partial \ell_i}{\partial x_i} = \operatorname{sign}(x_i - y_i),
    \quad \text{times } \tfrac{1}{n} \text{ for "mean"}$$

    $|r|$ has no derivative at $r = 0$; like torch, this uses
    $\operatorname{sign}(0) = 0$, and also 0 where the residual is NaN (torch's
    backward of `l1_loss` gives 0 there; the loss value itself is NaN).
    For "none" it is the elementwise derivative (the gradient of the summed losses).

    Args:
        input: prediction $x$, array of any shape.
        target: target $y$, same shape as `input`.
        reduction: "mean", "sum" or "none", as in `l1_loss`.

    Returns:
        An array of the shape and dtype of `input`.
    """
    input, target = np.asarray(input), np.asarray(target)
    if input.shape != target.shape:
        raise ValueError(f"input shape {input.shape} != target shape {target.shape}")
    r = input - target
    sign = np.where(np.isnan(r), 0, np.sign(r))  # sign(0) = 0; 0 at NaN, as torch
    return sign * _scale(r.size, reduction)
# --8<-- [end:grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch
    from torch.nn import functional

    x = np.array([2.5, 0.0, 2.0, 8.0])  # predictions
    y = np.array([3.0, -0.5, 2.0, 7.0])  # targets
    print("residuals       ", x - y)
    print("loss per element", l1_loss(x, y, reduction="none"))
    print("mean", l1_loss(x, y), " sum", l1_loss(x, y, reduction="sum"))
    print("grad (mean)     ", l1_loss_grad(x, y))
    xt = torch.tensor(x, requires_grad=True)
    functional.l1_loss(xt, torch.tensor(y)).backward()
    print("torch's grad    ", xt.grad.numpy(), "(0 where the residual is 0)")

    print("checked against torch.nn.functional.l1_loss")
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        xs = (rng.normal(size=(64, 8)) * 3).astype(dtype)
        ys = (rng.normal(size=(64, 8)) * 3).astype(dtype)
        value_err = grad_err = 0.0
        for reduction in ("mean", "sum", "none"):
            xt = torch.tensor(xs, requires_grad=True)
            out = functional.l1_loss(xt, torch.tensor(ys), reduction=reduction)
            out.sum().backward()  # for "none": the gradient of the summed losses
            ref = out.detach().numpy()
            value_err = max(value_err, np.abs(l1_loss(xs, ys, reduction) - ref).max())
            grad = l1_loss_grad(xs, ys, reduction)
            grad_err = max(grad_err, np.abs(grad - xt.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]
