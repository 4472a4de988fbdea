r"""Huber loss and smooth L1 loss, and their gradients with respect to the prediction.

References: P. J. Huber, "Robust Estimation of a Location Parameter", Annals of
Mathematical Statistics 35(1), 1964; R. Girshick, "Fast R-CNN", ICCV 2015 (smooth L1).
Checked against `torch.nn.functional.huber_loss` and `.smooth_l1_loss`.
"""

# --8<-- [start:impl]
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


def _residual(input, target):
    r"""The residual $x - y$ of two arrays of the same shape."""
    input, target = np.asarray(input), np.asarray(target)
    if input.shape != target.shape:
        raise ValueError(f"input shape {input.shape} != target shape {target.shape}")
    return input - target


def huber_loss(input, target, reduction="mean", delta=1.0):
    r"""Huber loss: quadratic for small residuals, linear with slope $\delta$ beyond.

    $$\ell_i = \begin{cases} \frac{1}{2} r_i^2 & |r_i| < \delta \\
    \delta \left(|r_i| - \frac{1}{2}\delta\right) & \text{otherwise} \end{cases},
    \qquad r_i = x_i - y_i$$

    Args:
        input: prediction $x$, array of any shape.
        target: target $y$, same shape as `input`.
        reduction: "mean" (default), "sum" or "none", as in torch.
        delta: the threshold $\delta > 0$ where the quadratic part meets the linear one.

    Returns:
        A scalar for "mean" and "sum" (NaN for the mean of an empty input),
        else an array of the shape of `input`.
    """
    if delta <= 0:
        raise ValueError("huber_loss needs delta > 0")
    r = _residual(input, target)
    a = np.abs(r)
    loss = np.where(a < delta, 0.5 * r * r, delta * (a - 0.5 * delta))
    return _reduce(loss, reduction)


def huber_loss_grad(input, target, reduction="mean", delta=1.0):
    r"""Gradient of `huber_loss` with respect to `input`: the residual clipped to ±δ.

    $$\frac{\partial \ell_i}{\partial x_i} = \operatorname{clip}(r_i, -\delta, \delta),
    \quad \text{times } \tfrac{1}{n} \text{ for "mean"}$$

    Args:
        input: as in `huber_loss`.
        target: as in `huber_loss`.
        reduction: as in `huber_loss`.
        delta: as in `huber_loss`.

    Returns:
        An array of the shape and dtype of `input` (for "none": the elementwise
        derivative).
    """
    if delta <= 0:
        raise ValueError("huber_loss needs delta > 0")
    r = _residual(input, target)
    return np.clip(r, -delta, delta) * _scale(r.size, reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    r"""Smooth L1 loss: Huber divided by its threshold, so the slope beyond it is 1.

    $$\ell_i = \begin{cases} \frac{1}{2} r_i^2 / \beta & |r_i| < \beta \\
    |r_i| - \frac{1}{2}\beta & \text{otherwise} \end{cases}
    \;=\; \frac{\operatorname{Huber}_{\delta = \beta}(r_i)}{\beta}$$

    Args:
        input: prediction $x$, array of any shape.
        target: target $y$, same shape as `input`.
        reduction: "mean" (default), "sum" or "none", as in torch.
        beta: the threshold $\beta \ge 0$; $\beta = 0$ gives the L1 loss, as in torch.

    Returns:
        A scalar for "mean" and "sum" (NaN for the mean of an empty input),
        else an array of the shape of `input`.
    """
    if beta < 0:
        raise ValueError("smooth_l1_loss needs beta >= 0")
    r = _residual(input, target)
    a = np.abs(r)
    if beta == 0:  # the quadratic piece vanishes: plain L1 (and no division by 0)
        return _reduce(a, reduction)
    return _reduce(np.where(a < beta, 0.5 * r * r / beta, a - 0.5 * beta), reduction)


def smooth_l1_loss_grad(input, target, reduction="mean", beta=1.0):
    r"""Gradient of `smooth_l1_loss` with respect to `input`.

    $$\frac{\partial \ell_i}{\partial x_i} = \operatorname{clip}(r_i / \beta, -1, 1),
    \quad \operatorname{sign}(r_i) \text{ if } \beta = 0$$

    Args:
        input: as in `smooth_l1_loss`.
        target: as in `smooth_l1_loss`.
        reduction: as in `smooth_l1_loss`.
        beta: as in `smooth_l1_loss`.

    Returns:
        An array of the shape and dtype of `input` (for "none": the elementwise
        derivative).
    """
    if beta < 0:
        raise ValueError("smooth_l1_loss needs beta >= 0")
    r = _residual(input, target)
    slope = np.sign(r) if beta == 0 else np.clip(r / beta, -1, 1)
    return slope * _scale(r.size, reduction)
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch
    from torch.nn import functional

    x = np.array([0.5, -0.9, 1.0, 3.0, -10.0])  # predictions, target 0: residual = x
    y = np.zeros_like(x)
    print("residuals           ", x)
    print("huber, delta=1      ", huber_loss(x, y, "none"))
    print("grad (clipped r)    ", huber_loss_grad(x, y, "none"))
    print("huber, delta=2      ", huber_loss(x, y, "none", delta=2.0))
    print("smooth L1, beta=2   ", smooth_l1_loss(x, y, "none", beta=2.0))

    rng = np.random.default_rng(0)
    reductions = ("mean", "sum", "none")
    for dtype in (np.float64, np.float32):
        xs = (rng.normal(size=(64, 8)) * 3).astype(dtype)
        ys = (rng.normal(size=(64, 8)) * 3).astype(dtype)
        errs = {"value": 0.0, "relative": 0.0, "grad": 0.0}
        for reduction in reductions:
            for k in (0.5, 1.0, 2.0):  # delta for Huber, beta for smooth L1
                pairs = [
                    (huber_loss, huber_loss_grad, functional.huber_loss, {"delta": k}),
                    (smooth_l1_loss, smooth_l1_loss_grad, functional.smooth_l1_loss,
                     {"beta": k}),
                ]
                for ours, ours_grad, ref, kw in pairs:
                    xt = torch.tensor(xs, requires_grad=True)
                    out = ref(xt, torch.tensor(ys), reduction=reduction, **kw)
                    out.sum().backward()
                    ref_value = out.detach().numpy()
                    value = np.abs(ours(xs, ys, reduction, **kw) - ref_value)
                    grad = np.abs(ours_grad(xs, ys, reduction, **kw) - xt.grad.numpy())
                    errs["value"] = max(errs["value"], value.max())
                    rel = value.max() / np.abs(ref_value).max()
                    errs["relative"] = max(errs["relative"], rel)
                    errs["grad"] = max(errs["grad"], grad.max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {errs['value']:.1e} "
              f"({errs['relative']:.1e} relative), grad {errs['grad']:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:relation]
    # huber(delta) / delta == smooth_l1(beta=delta), in torch and in our code
    r = rng.normal(size=10_000) * 5  # float64 residuals (target 0)
    rt, zero = torch.tensor(r), torch.zeros(r.shape, dtype=torch.float64)
    for delta in (0.1, 1.0, 5.0):
        lhs = functional.huber_loss(rt, zero, reduction="none", delta=delta) / delta
        rhs = functional.smooth_l1_loss(rt, zero, reduction="none", beta=delta)
        gap_torch = (lhs - rhs).abs().max().item()
        ours = huber_loss(r, 0 * r, "none", delta) / delta
        gap_ours = np.abs(ours - smooth_l1_loss(r, 0 * r, "none", delta)).max()
        print(f"delta={delta}: max |huber/delta - smooth_l1| "
              f"torch {gap_torch:.1e}, ours {gap_ours:.1e}")
    # --8<-- [end:relation]
