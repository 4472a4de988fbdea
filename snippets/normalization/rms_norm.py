r"""RMSNorm (root mean square normalization) with its hand-written backward pass.

Reference: B. Zhang and R. Sennrich, "Root Mean Square Layer Normalization", NeurIPS
2019, https://arxiv.org/abs/1910.07467. Checked against `torch.nn.functional.rms_norm`
and `torch.nn.RMSNorm`.
"""

# --8<-- [start:impl]
# --8<-- [start:rms_norm]
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


def rms_norm(x, normalized_shape, weight=None, eps=None):
    r"""Divide by the root mean square over the trailing dimensions, then scale.

    $$y_i = \gamma_i \frac{x_i}{\sqrt{\frac{1}{N}\sum_j x_j^2 + \epsilon}}$$

    Args:
        x: float array whose last dimensions equal `normalized_shape`.
        normalized_shape: int or tuple of the trailing dimensions to normalize over.
        weight: $\gamma$, shape `normalized_shape`, or None (no scaling).
        eps: added to the mean square; None means the machine epsilon of the
            dtype of `x`, as in torch (float16 is computed in float32, with
            float32's epsilon, and the result rounded to float16).

    Returns:
        An array with the shape and dtype of `x`.
    """
    x = np.asarray(x)
    axes = _axes(x, normalized_shape)
    work = np.result_type(x.dtype, np.float32)  # float16 is computed in float32
    eps = np.finfo(work).eps if eps is None else eps  # torch's default
    xw = x.astype(work)
    mean_square = (xw * xw).mean(axis=axes, keepdims=True)
    y = (xw / np.sqrt(mean_square + work.type(eps))).astype(x.dtype)
    return y if weight is None else y * weight
# --8<-- [end:rms_norm]


# --8<-- [start:rms_norm_backward]
def rms_norm_backward(grad_out, x, normalized_shape, weight=None, eps=None):
    r"""Gradients of a loss $L$ through `rms_norm`, given $g = \partial L/\partial y$.

    $$\frac{\partial L}{\partial x_i} = \frac{1}{r}\Big(\hat g_i
      - \hat x_i \frac{1}{N}\sum_j \hat g_j \hat x_j\Big),
      \quad r = \sqrt{\tfrac{1}{N}\textstyle\sum_j x_j^2 + \epsilon},
      \quad \hat x = x / r, \quad \hat g = g \odot \gamma$$

    Args:
        grad_out: $g$, same shape as `x`.
        x: the input of the forward pass.
        normalized_shape: as in the forward pass.
        weight: $\gamma$ or None, as in the forward pass.
        eps: as in the forward pass (None: the machine epsilon of the dtype of `x`;
            float16 is computed in float32, with float32's epsilon, as forward).

    Returns:
        `(dx, dweight)` in the dtype of `x`; `dweight` has the shape `normalized_shape`.
    """
    x = np.asarray(x)
    axes = _axes(x, normalized_shape)
    batch = tuple(range(x.ndim - len(axes)))  # the leading axes
    work = np.result_type(x.dtype, np.float32)  # float16 is computed in float32
    eps = np.finfo(work).eps if eps is None else eps
    xw = x.astype(work)
    inv_r = 1 / np.sqrt((xw * xw).mean(axis=axes, keepdims=True) + work.type(eps))
    x_hat = xw * inv_r
    g = np.asarray(grad_out).astype(work)
    g_hat = g if weight is None else g * weight
    mean_gx = (g_hat * x_hat).mean(axis=axes, keepdims=True)
    dx = inv_r * (g_hat - x_hat * mean_gx)
    dweight = (g * x_hat).sum(axis=batch)
    return dx.astype(x.dtype), dweight.astype(x.dtype)
# --8<-- [end:rms_norm_backward]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:example]
    x = np.array([[1.0, -2.0, 3.0, -4.0],
                  [3.0, 4.0, 5.0, 6.0]])
    with np.printoptions(precision=4, suppress=True):
        y = rms_norm(x, 4)
        print("rms_norm(x, 4):\n", y)
        print("root mean square of each row:", np.sqrt((y * y).mean(axis=1)))
        print("mean of each row:", y.mean(axis=1))  # not centred
    # --8<-- [end:example]

    # --8<-- [start:check]
    import torch
    import torch.nn.functional as F

    cases = [((6, 10), (10,)), ((2, 3, 4), (3, 4)), ((2, 3, 4, 5), (3, 4, 5))]

    def errors(dtype, module):
        """Worst value and gradient error over the cases, with and without a weight."""
        rng = np.random.default_rng(0)
        value_err = grad_err = 0.0
        for shape, normalized in cases:
            for affine in (False, True):
                x = (rng.normal(size=shape) * 3 + 1).astype(dtype)
                g = rng.normal(size=shape).astype(dtype)  # an upstream gradient
                w = rng.normal(size=normalized).astype(dtype) if affine else None
                xt = torch.tensor(x, requires_grad=True)
                if module:  # torch.nn.RMSNorm, eps=None, its weight set to w
                    layer = torch.nn.RMSNorm(normalized, elementwise_affine=affine,
                                             dtype=xt.dtype)
                    if affine:
                        layer.weight.data = torch.tensor(w)
                    y, wt = layer(xt), layer.weight
                else:
                    wt = torch.tensor(w, requires_grad=True) if affine else None
                    y = F.rms_norm(xt, normalized, wt)  # eps=None
                y.backward(torch.tensor(g))
                ours = rms_norm(x, normalized, w)
                value_err = max(value_err, np.abs(ours - y.detach().numpy()).max())
                dx, dw = rms_norm_backward(g, x, normalized, w)
                grad_err = max(grad_err, np.abs(dx - xt.grad.numpy()).max())
                if affine:
                    grad_err = max(grad_err, np.abs(dw - wt.grad.numpy()).max())
        return value_err, grad_err

    references = (("torch.nn.functional.rms_norm", False), ("torch.nn.RMSNorm", True))
    for name, module in references:
        print(f"checked against {name}")
        for dtype in (np.float64, np.float32):
            value_err, grad_err = errors(dtype, module)
            print(f"{np.dtype(dtype).name}: max |ours - torch| value {value_err:.1e}, "
                  f"grad {grad_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:default_eps]
    for dtype in (torch.float64, torch.float32, torch.float16, torch.bfloat16):
        x = torch.tensor([1e-4, 0.0, 0.0, 0.0], dtype=dtype)
        x0 = x[0].item()  # 1e-4 rounded to dtype
        r = x0 / F.rms_norm(x, (4,))[0].item()  # what torch divided by
        print(f"{dtype!s:15} eps=None acts as {r * r - x0 * x0 / 4:.2e}; "
              f"finfo(dtype).eps = {torch.finfo(dtype).eps:.2e}")
    # --8<-- [end:default_eps]

    # --8<-- [start:large_mean]
    x = 1e4 + np.array([-1.0, 0.0, 1.0, 2.0])  # mean 1e4 + 0.5, spread about 1
    centred = (x - x.mean()) / np.sqrt(x.var() + 1e-5)  # what layer norm gives
    with np.printoptions(precision=6, suppress=True):
        print("rms_norm(x):    ", rms_norm(x, 4))
        print("layer norm of x:", centred)
    # --8<-- [end:large_mean]
