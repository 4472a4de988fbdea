r"""Layer normalization over the trailing dimensions, with its hand-written backward pass.

Reference: J. L. Ba, J. R. Kiros and G. E. Hinton, "Layer Normalization", 2016,
https://arxiv.org/abs/1607.06450. Checked against `torch.nn.functional.layer_norm`.
"""

# --8<-- [start:impl]
# --8<-- [start:normalize]
import numpy as np


def _axes(x, normalized_shape):
    """The trailing axes of `x` named by `normalized_shape`, once checked."""
    shape = normalized_shape
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    k = len(shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k:] != shape:
        raise ValueError(f"normalized_shape={list(shape)} must be non-empty and equal "
                         f"the last dimensions of the input, of shape {list(x.shape)}")
    return tuple(range(x.ndim - k, x.ndim))


def normalize(x, normalized_shape, eps=1e-5):
    r"""Centre and scale `x` over its trailing dimensions (two passes over the data).

    $$\mu = \frac{1}{N}\sum_i x_i, \quad \sigma^2 = \frac{1}{N}\sum_i (x_i - \mu)^2,
      \quad \hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}}$$

    Args:
        x: float array whose last dimensions equal `normalized_shape`.
        normalized_shape: int or tuple, the trailing dimensions that share statistics.
        eps: added to the variance; must be non-negative.

    Returns:
        `(x_hat, rstd)`: $\hat x$ with the shape of `x`, and $1/\sqrt{\sigma^2+\epsilon}$
        with the normalized dimensions kept as size 1.
    """
    x = np.asarray(x)
    axes = _axes(x, normalized_shape)
    mean = x.mean(axis=axes, keepdims=True)  # first pass
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)  # second pass, never < 0
    rstd = 1 / np.sqrt(var + var.dtype.type(eps))  # float even for integer x
    return centred * rstd, rstd
# --8<-- [end:normalize]


# --8<-- [start:layer_norm]
def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    r"""Layer normalization: normalize the trailing dimensions, then scale and shift.

    $$y = \hat x \odot \gamma + \beta$$

    Args:
        x: float array whose last dimensions equal `normalized_shape`.
        normalized_shape: int or tuple of the trailing dimensions to normalize over.
        weight: $\gamma$, shape `normalized_shape`, or None (no scaling).
        bias: $\beta$, shape `normalized_shape`, or None (no shift).
        eps: added to the variance.

    Returns:
        An array with the shape and dtype of `x`.
    """
    y, _ = normalize(x, normalized_shape, eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y
# --8<-- [end:layer_norm]


# --8<-- [start:layer_norm_backward]
def layer_norm_backward(grad_out, x, normalized_shape, weight=None, eps=1e-5):
    r"""Gradients of a loss $L$ through `layer_norm`, given $g = \partial L/\partial y$.

    $$\frac{\partial L}{\partial x_i} = \frac{1}{\sqrt{\sigma^2+\epsilon}}
      \Big(\hat g_i - \frac{1}{N}\sum_j \hat g_j
      - \hat x_i \frac{1}{N}\sum_j \hat g_j \hat x_j\Big), \quad \hat g = g \odot \gamma$$

    Args:
        grad_out: $g$, same shape as `x`.
        x: the input of the forward pass.
        normalized_shape: as in the forward pass.
        weight: $\gamma$ or None, as in the forward pass.
        eps: as in the forward pass.

    Returns:
        `(dx, dweight, dbias)`; the last two have the shape `normalized_shape`
        (they are returned even when the forward pass had no weight or bias).
    """
    x_hat, rstd = normalize(x, normalized_shape, eps)
    axes = _axes(x_hat, normalized_shape)
    batch = tuple(range(x_hat.ndim - len(axes)))  # the leading axes
    g_hat = grad_out if weight is None else grad_out * weight
    mean_g = g_hat.mean(axis=axes, keepdims=True)
    mean_gx = (g_hat * x_hat).mean(axis=axes, keepdims=True)
    dx = rstd * (g_hat - mean_g - x_hat * mean_gx)
    dweight = (grad_out * x_hat).sum(axis=batch)
    dbias = np.sum(grad_out, axis=batch)
    return dx, dweight, dbias
# --8<-- [end:layer_norm_backward]
# --8<-- [end:impl]


# --8<-- [start:naive]
def naive_layer_norm(x, eps=1e-5):
    """Layer norm of the last axis with the one-pass variance E[x^2] - E[x]^2."""
    mean = x.mean(axis=-1, keepdims=True)
    var = (x * x).mean(axis=-1, keepdims=True) - mean * mean  # cancels: loses digits
    with np.errstate(invalid="ignore"):  # var can come out negative: sqrt gives NaN
        return (x - mean) / np.sqrt(var + x.dtype.type(eps))
# --8<-- [end:naive]


# --8<-- [start:reference]
def shifted_reference(x, eps=1e-5):
    """Layer norm of the last axis in float64, after subtracting each row's first entry.

    For rows whose entries lie within a factor 2 of each other the subtraction is exact,
    and what is left is small, so the mean and variance keep every digit: an accurate
    reference for rows with a large mean and a small spread.
    """
    x = np.asarray(x, dtype=np.float64)
    s = x - x[..., :1]
    y, _ = normalize(s, s.shape[-1], eps)
    return y
# --8<-- [end:reference]


if __name__ == "__main__":
    # --8<-- [start:example]
    x = np.array([[1.0, 2.0, 3.0, 4.0],
                  [10.0, 10.0, 10.0, 10.0],  # a constant row: x_hat = 0
                  [1e8, 1e8 + 1, 1e8 + 2, 1e8 + 3]])  # large mean, small spread
    gamma, beta = np.array([1.0, 1.0, 2.0, 2.0]), np.array([0.0, 0.0, 0.0, 0.5])
    with np.printoptions(precision=4, suppress=True):
        print("layer_norm(x, 4):\n", layer_norm(x, 4))
        print("with gamma and beta:\n", layer_norm(x, 4, gamma, beta))
    # --8<-- [end:example]

    # --8<-- [start:check]
    import torch
    import torch.nn.functional as F

    print("checked against torch.nn.functional.layer_norm")
    cases = [((6, 10), (10,)), ((2, 3, 4), (3, 4)), ((2, 3, 4, 5), (3, 4, 5))]
    for dtype in (np.float64, np.float32):
        rng = np.random.default_rng(0)
        value_err = grad_err = 0.0
        for shape, normalized in cases:  # 1, 2 and 3 normalized dimensions
            for affine in (False, True):
                x = (rng.normal(size=shape) * 3 + 2).astype(dtype)
                g = rng.normal(size=shape).astype(dtype)  # an upstream gradient
                w = rng.normal(size=normalized).astype(dtype) if affine else None
                b = rng.normal(size=normalized).astype(dtype) if affine else None
                xt = torch.tensor(x, requires_grad=True)
                wt = torch.tensor(w, requires_grad=True) if affine else None
                bt = torch.tensor(b, requires_grad=True) if affine else None
                y = F.layer_norm(xt, normalized, wt, bt, eps=1e-5)
                y.backward(torch.tensor(g))
                ours = layer_norm(x, normalized, w, b)
                value_err = max(value_err, np.abs(ours - y.detach().numpy()).max())
                dx, dw, db = layer_norm_backward(g, x, normalized, w)
                errs = [np.abs(dx - xt.grad.numpy()).max()]
                if affine:
                    errs += [np.abs(dw - wt.grad.numpy()).max(),
                             np.abs(db - bt.grad.numpy()).max()]
                grad_err = max(grad_err, *errs)
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:large_mean]
    print("dtype    mean   |naive - exact|  |two-pass - exact|  |torch - exact|")
    rng = np.random.default_rng(1)
    for dtype, means in ((np.float64, (1e4, 1e6, 1e8)), (np.float32, (1e2, 1e3, 1e4))):
        for mean in means:
            x = (mean + rng.normal(size=(8, 64))).astype(dtype)  # spread 1
            exact = shifted_reference(x)
            errors = [np.abs(y - exact).max() for y in (
                naive_layer_norm(x), layer_norm(x, 64),
                F.layer_norm(torch.tensor(x), (64,)).numpy())]
            naive, ours, theirs = errors
            print(f"{np.dtype(dtype).name}  {mean:.0e}  {naive:>15.1e}  {ours:>18.1e}"
                  f"  {theirs:>15.1e}")
    # --8<-- [end:large_mean]
