r"""PReLU, the parametric ReLU with a learned negative slope, and its gradients.

Reference: He, Zhang, Ren and Sun, "Delving Deep into Rectifiers: Surpassing Human-Level
Performance on ImageNet Classification", ICCV 2015, https://arxiv.org/abs/1502.01852.
Checked against `torch.nn.functional.prelu`.
"""

# --8<-- [start:impl]
# --8<-- [start:broadcast_weight]
import numpy as np


def _broadcast_weight(x, weight):
    r"""Reshape the slopes to broadcast against `x`: one slope, or one per channel.

    Args:
        x: the input, shape (N, C, *), or any shape when there is one slope.
        weight: shape () or (1,) for one shared slope, or (C,) for one slope per
            channel, where the channel is dim 1 of `x` (a 0-d or 1-D `x` has one
            channel, as in torch).

    Returns:
        The slopes in the dtype of `x`, shaped () or (1, C, 1, ..., 1).

    Raises:
        ValueError: if `weight` is not 0-d or 1-D, or has neither 1 nor C entries.
    """
    w = np.asarray(weight, dtype=x.dtype)
    if w.ndim > 1:
        raise ValueError(f"weight must be a scalar or 1-D, got {w.ndim} dimensions")
    if w.size == 1:
        return w.reshape(())
    channels = x.shape[1] if x.ndim > 1 else 1  # the channel axis is dim 1
    if w.size != channels:
        raise ValueError(f"weight has {w.size} slopes, the input {channels} channels")
    return w.reshape((1, channels) + (1,) * (x.ndim - 2))  # (C,) -> (1, C, 1, ..., 1)
# --8<-- [end:broadcast_weight]


# --8<-- [start:prelu]
def prelu(input, weight):
    r"""Parametric ReLU, elementwise, with one learned slope or one per channel.

    $$\operatorname{PReLU}(x_{n,c,\dots}) = \begin{cases} x & x > 0 \\ a_c x & x \le 0
    \end{cases}$$

    Args:
        input: float array of shape (N, C, *), or any shape when `weight` holds
            one slope.
        weight: the slopes $a$, any real numbers: shape () or (1,) for one shared
            slope, or (C,) for one slope per channel (dim 1 of `input`).

    Returns:
        An array with the shape and dtype of `input`.
    """
    x = np.asarray(input)
    a = _broadcast_weight(x, weight)
    return np.where(x > 0, x, a * x)
# --8<-- [end:prelu]


# --8<-- [start:prelu_grad]
def prelu_grad(input, weight, grad_output=None):
    r"""Gradients of PReLU with respect to its input and to its slopes.

    With $g$ the gradient flowing in from above (`grad_output`),

    $$\frac{\partial L}{\partial x} =
    \begin{cases} g & x > 0 \\ a_c\, g & x \le 0 \end{cases},
    \qquad
    \frac{\partial L}{\partial a_c} = \sum_{x \in \text{channel } c,\; x \le 0} x\, g$$

    Args:
        input: float array of shape (N, C, *), as for `prelu`.
        weight: the slopes, shape (), (1,) or (C,).
        grad_output: array shaped like `input`; defaults to ones, i.e. the gradient of
            `prelu(input, weight).sum()`.

    Returns:
        `(grad_input, grad_weight)`: shaped like `input` and like `weight`.
    """
    x = np.asarray(input)
    g = np.ones_like(x) if grad_output is None else np.asarray(grad_output, x.dtype)
    a = _broadcast_weight(x, weight)
    active = x > 0
    grad_input = np.where(active, g, a * g)
    per_element = np.where(active, 0, x * g)  # d(a x)/da = x, only where x <= 0
    if a.ndim == 0:  # one shared slope: every element contributes
        grad_weight = per_element.sum()
    else:  # one slope per channel: sum over every dim but dim 1
        grad_weight = per_element.sum(axis=tuple(d for d in range(x.ndim) if d != 1))
    return grad_input, np.asarray(grad_weight, x.dtype).reshape(np.shape(weight))
# --8<-- [end:prelu_grad]
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

    print("checked against torch.nn.functional.prelu")
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        xs = (rng.normal(size=(8, 3, 5, 5)) * 100).astype(dtype)  # (N, C, H, W)
        ws = rng.uniform(-0.5, 1.5, size=3).astype(dtype)  # (C,), any sign
        gs = rng.normal(size=xs.shape).astype(dtype)  # gradient from the next layer
        xt = torch.tensor(xs, requires_grad=True)
        wt = torch.tensor(ws, requires_grad=True)
        yt = torch.nn.functional.prelu(xt, wt)
        yt.backward(torch.tensor(gs))
        ours_gx, ours_gw = prelu_grad(xs, ws, gs)
        value_err = np.abs(prelu(xs, ws) - yt.detach().numpy()).max()
        # error of each gradient relative to its largest entry; a slope sums 200 terms
        grad_err = max(np.abs(ours - ref).max() / np.abs(ref).max()
                       for ours, ref in ((ours_gx, xt.grad.numpy()),
                                         (ours_gw, wt.grad.numpy())))
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, "
              f"relative grad {grad_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:module]
    import torch

    shared = torch.nn.PReLU()  # default: one slope for the whole layer
    per_channel = torch.nn.PReLU(num_parameters=3)  # one slope per channel
    print("PReLU() weight shape:", tuple(shared.weight.shape))
    print("PReLU(num_parameters=3) weight shape:", tuple(per_channel.weight.shape))
    images = torch.randn(8, 3, 5, 5)  # (N, C, H, W): the channel is dim 1
    print("on (8, 3, 5, 5):", tuple(per_channel(images).shape))
    try:
        per_channel(torch.randn(8, 5, 3))  # channels last: dim 1 has size 5
    except RuntimeError as error:
        print("on (8, 5, 3): RuntimeError:", str(error).splitlines()[0])
    # --8<-- [end:module]
