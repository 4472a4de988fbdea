r"""PReLU, the parametric ReLU with a learned negative slope, and its gradients.

Reference: He, Zhang, Ren and Sun, "Delving Deep into Rectifiers: Surpassing Human-Level
Performance on ImageNet Classification", ICCV 2015, https://arxiv.org/abs/1502.01852.
Checked against `torch.nn.functional.prelu`.
"""

# --8<-- [start:impl]
import numpy as np


def _broadcast_weight(x, weight):
    """Reshape `weight` (one slope, or one per channel on dim 1) to broadcast on `x`."""
    w = np.asarray(weight, dtype=x.dtype)
    if w.ndim > 1:
        raise ValueError(f"weight must be a scalar or 1-D, got {w.ndim} dimensions")
    if w.size == 1:
        return w.reshape(())
    channels = x.shape[1] if x.ndim > 1 else 1  # as in torch: 1-D input, one channel
    if w.size != channels:
        raise ValueError(f"weight has {w.size} slopes, the input {channels} channels")
    return w.reshape((1, channels) + (1,) * (x.ndim - 2))  # (C,) -> (1, C, 1, ..., 1)


def prelu(input, weight):
    r"""Parametric ReLU, elementwise, with a learned slope per channel.

    $$\operatorname{PReLU}(x_{n,c,\dots}) = \begin{cases} x & x > 0 \\ a_c x & x \le 0
    \end{cases}$$

    Args:
        input: array of shape (N, C, *), or (N,) or () when `weight` holds one slope.
        weight: the slopes $a$: shape () or (1,) for one shared slope, or (C,) for one
            slope per channel (dim 1 of `input`).

    Returns:
        An array with the shape and dtype of `input`.
    """
    x = np.asarray(input)
    a = _broadcast_weight(x, weight)
    return np.where(x > 0, x, a * x)


def prelu_grad(input, weight, grad_output=None):
    r"""Gradients of PReLU with respect to its input and to its slopes.

    With $g$ the gradient flowing in from above (`grad_output`),

    $$\frac{\partial L}{\partial x} =
    \begin{cases} g & x > 0 \\ a_c\, g & x \le 0 \end{cases},
    \qquad
    \frac{\partial L}{\partial a_c} = \sum_{x \in \text{channel } c,\; x \le 0} x\, g$$

    Args:
        input: array of shape (N, C, *), as for `prelu`.
        weight: the slopes, shape (), (1,) or (C,).
        grad_output: array shaped like `input`; defaults to ones, i.e. the gradient of
            `prelu(input, weight).sum()`.

    Returns:
        `(grad_input, grad_weight)`: shaped like `input` and like `weight`.
    """
    x = np.asarray(input)
    if grad_output is None:
        grad_output = np.ones_like(x)
    g = np.asarray(grad_output, dtype=x.dtype)
    a = _broadcast_weight(x, weight)
    active = x > 0
    grad_input = np.where(active, g, a * g)
    per_element = np.where(active, 0, x * g)  # d(a x)/da = x, only where x <= 0
    if a.ndim == 0:  # one shared slope: every element contributes
        grad_weight = per_element.sum()
    else:  # one slope per channel: sum over every dim but dim 1
        grad_weight = per_element.sum(axis=tuple(d for d in range(x.ndim) if d != 1))
    shape = np.shape(weight)
    return grad_input, np.asarray(grad_weight, dtype=x.dtype).reshape(shape)
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch

    x = np.array([[-2.0, 1.0], [-0.5, -4.0], [0.5, 3.0]])  # (N=3, C=2)
    a = np.array([0.25, 0.1])  # one slope per channel
    print("prelu(x, a)\n", prelu(x, a))
    grad_input, grad_weight = prelu_grad(x, a)
    print("d sum / d x\n", grad_input)
    print("d sum / d a ", grad_weight)

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        xs = (rng.normal(size=(8, 3, 5, 5)) * 100).astype(dtype)  # (N, C, H, W)
        ws = rng.uniform(0, 0.5, size=3).astype(dtype)  # (C,)
        gs = rng.normal(size=xs.shape).astype(dtype)  # gradient from the next layer
        xt = torch.tensor(xs, requires_grad=True)
        wt = torch.tensor(ws, requires_grad=True)
        yt = torch.nn.functional.prelu(xt, wt)
        yt.backward(torch.tensor(gs))
        ours_gx, ours_gw = prelu_grad(xs, ws, gs)
        value_err = np.abs(prelu(xs, ws) - yt.detach().numpy()).max()
        gx_err = np.abs(ours_gx - xt.grad.numpy()).max()
        gw_err = np.abs(ours_gw - wt.grad.numpy()).max()
        scale = np.abs(ours_gw).max()  # each slope gradient sums 8*5*5 = 200 terms
        print(f"{np.dtype(dtype).name}: max |ours - torch| value {value_err:.1e}, "
              f"grad input {gx_err:.1e}, grad weight {gw_err:.1e} (of {scale:.1e})")
    # --8<-- [end:check]
