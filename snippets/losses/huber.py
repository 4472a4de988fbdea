r"""Huber loss and smooth L1 loss, and their gradients with respect to the prediction.

References: P. J. Huber, "Robust Estimation of a Location Parameter", Annals of
Mathematical Statistics 35(1), 1964; R. Girshick, "Fast R-CNN", ICCV 2015 (smooth L1).
Checked against `torch.nn.functional.huber_loss` and `.smooth_l1_loss`.
"""

# --8<-- [start:impl]
# --8<-- [start:helpers]
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
    r"""The residual $x - y$ of two float arrays of the same shape."""
    input, target = np.asarray(input), np.asarray(target)
    if input.shape != target.shape:
        raise ValueError(f"input shape {input.shape} != target shape {target.shape}")
    r = input - target
    if r.dtype.kind != "f":  # as torch; an integer delta = 0.5 would round to 0
        raise TypeError(f"expected float arrays, got {r.dtype}")
    return r
# --8<-- [end:helpers]


# --8<-- [start:huber]
def huber_loss(input, target, reduction="mean", delta=1.0):
    r"""Huber loss: quadratic for small residuals, linear with slope $\delta$ beyond.

    $$\ell_i = \begin{cases} \frac{1}{2} r_i^2 & |r_i| < \delta \\
    \delta \left(|r_i| - \frac{1}{2}\delta\right) & \text{otherwise} \end{cases},
    \qquad r_i = x_i - y_i$$

    Args:
        input: prediction $x$, float array of any shape (0-d and empty included).
        target: target $y$, same shape as `input`.
        reduction: "mean" (default), "sum" or "none", as in torch.
        delta: the threshold $\delta > 0$ (up to and including infinity) where the
            quadratic part meets the linear one. 0, negative values and NaN are refused,
            as in torch.

    Returns:
        A scalar for "mean" and "sum" (NaN for the mean of an empty input),
        else an array of the shape of `input`; the dtype of `input`.
    """
    if not delta > 0:  # also refuses NaN
        raise ValueError(f"huber_loss needs delta > 0, got {delta}")
    r = _residual(input, target)
    k = r.dtype.type(delta)  # a float64 delta must not promote float32 inputs
    a = np.abs(r)
    q = np.minimum(a, k)  # = a where used; r * r could overflow in the unused branch
    loss = np.where(a < k, 0.5 * q * q, k * (a - 0.5 * k))  # (shape of input)
    return _reduce(loss, reduction)
# --8<-- [end:huber]


# --8<-- [start:huber-grad]
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
        derivative). NaN where the residual is NaN, as in torch.
    """
    if not delta > 0:
        raise ValueError(f"huber_loss needs delta > 0, got {delta}")
    r = _residual(input, target)
    k = r.dtype.type(delta)
    return np.clip(r, -k, k) * _scale(r.size, reduction)
# --8<-- [end:huber-grad]


# --8<-- [start:smooth-l1]
def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    r"""Smooth L1 loss: Huber divided by its threshold, so the slope beyond it is 1.

    $$\ell_i = \begin{cases} \frac{1}{2} r_i^2 / \beta & |r_i| < \beta \\
    |r_i| - \frac{1}{2}\beta & \text{otherwise} \end{cases}
    \;=\; \frac{\operatorname{Huber}_{\delta = \beta}(r_i)}{\beta}$$

    Args:
        input: prediction $x$, float array of any shape (0-d and empty included).
        target: target $y$, same shape as `input`.
        reduction: "mean" (default), "sum" or "none", as in torch.
        beta: the threshold $\beta \ge 0$ (infinity included); $\beta = 0$ gives the
            L1 loss, as in torch. Negative values and NaN are refused, as in torch.

    Returns:
        A scalar for "mean" and "sum" (NaN for the mean of an empty input),
        else an array of the shape of `input`; the dtype of `input`.
    """
    if not beta >= 0:  # also refuses NaN
        raise ValueError(f"smooth_l1_loss needs beta >= 0, got {beta}")
    r = _residual(input, target)
    a = np.abs(r)
    if beta == 0:  # the quadratic piece vanishes: plain L1 (and no division by 0)
        return _reduce(a, reduction)
    b = r.dtype.type(beta)
    q = np.minimum(a, b)  # = a where used, as in huber_loss
    return _reduce(np.where(a < b, 0.5 * q * q / b, a - 0.5 * b), reduction)
# --8<-- [end:smooth-l1]


# --8<-- [start:smooth-l1-grad]
def smooth_l1_loss_grad(input, target, reduction="mean", beta=1.0):
    r"""Gradient of `smooth_l1_loss` with respect to `input`.

    $$\frac{\partial \ell_i}{\partial x_i} = \begin{cases} r_i / \beta & |r_i| < \beta
    \\ \operatorname{sign}(r_i) & \text{otherwise} \end{cases}
    \;=\; \operatorname{clip}(r_i / \beta, -1, 1)$$

    Args:
        input: as in `smooth_l1_loss`.
        target: as in `smooth_l1_loss`.
        reduction: as in `smooth_l1_loss`.
        beta: as in `smooth_l1_loss`.

    Returns:
        An array of the shape and dtype of `input` (for "none": the elementwise
        derivative). Where the residual is NaN: NaN for $\beta > 0$ and 0 for
        $\beta = 0$, as in torch (which computes L1's gradient when $\beta = 0$).
    """
    if not beta >= 0:
        raise ValueError(f"smooth_l1_loss needs beta >= 0, got {beta}")
    r = _residual(input, target)
    s = _scale(r.size, reduction)
    if beta == 0:  # L1: sign(r), with 0 at r = 0 and at NaN, as torch
        return np.where(np.isnan(r), 0, np.sign(r)) * s
    b = r.dtype.type(beta)
    # not clip(r / b, -1, 1): for r = b = inf that would be inf / inf = NaN;
    # r is clipped to ±b (unchanged where used) so that huge |r| cannot overflow r / b
    return np.where(np.abs(r) < b, np.clip(r, -b, b) / b, np.sign(r)) * s
# --8<-- [end:smooth-l1-grad]
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
    xs64 = rng.normal(size=(64, 8)) * 3
    ys64 = rng.normal(size=(64, 8)) * 3
    for ours, ours_grad, ref, name in (
        (huber_loss, huber_loss_grad, functional.huber_loss, "delta"),
        (smooth_l1_loss, smooth_l1_loss_grad, functional.smooth_l1_loss, "beta"),
    ):
        print(f"checked against torch.nn.functional.{ref.__name__}")
        for dtype in (np.float64, np.float32):
            xs, ys = xs64.astype(dtype), ys64.astype(dtype)
            rel_err = grad_err = 0.0
            for reduction in ("mean", "sum", "none"):
                for k in (0.5, 1.0, 2.0):  # the threshold
                    kw = {name: k}
                    xt = torch.tensor(xs, requires_grad=True)
                    out = ref(xt, torch.tensor(ys), reduction=reduction, **kw)
                    out.sum().backward()  # "none": the gradient of the summed losses
                    want = out.detach().numpy()
                    diff = np.abs(ours(xs, ys, reduction, **kw) - want).max()
                    rel_err = max(rel_err, diff / np.abs(want).max())
                    grad = ours_grad(xs, ys, reduction, **kw)
                    grad_err = max(grad_err, np.abs(grad - xt.grad.numpy()).max())
            print(f"{np.dtype(dtype).name}: max |ours - torch| relative value "
                  f"{rel_err:.1e}, grad {grad_err:.1e}")
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
