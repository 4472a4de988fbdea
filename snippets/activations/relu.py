r"""ReLU, the rectified linear unit, and its derivative.

Reference: Nair and Hinton, "Rectified Linear Units Improve Restricted Boltzmann Machines",
ICML 2010. Checked against `torch.relu`.
"""

# --8<-- [start:impl]
import numpy as np


def relu(x):
    r"""Rectified linear unit, elementwise.

    $$\operatorname{ReLU}(x) = \max(0, x)$$

    Args:
        x: array of any shape.

    Returns:
        An array with the shape and dtype of `x`. NaN stays NaN, as in torch.
    """
    return np.maximum(x, 0)  # keeps the dtype; NaN propagates


def relu_grad(x):
    r"""Derivative of ReLU: 1 where $x > 0$, else 0.

    ReLU has no derivative at $x = 0$; like torch, this returns 0 there.

    Args:
        x: array of any shape.

    Returns:
        An array with the shape and dtype of `x`.
    """
    x = np.asarray(x)
    return (x > 0).astype(x.dtype)
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch

    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    print("x        ", x)
    print("relu(x)  ", relu(x))
    print("relu'(x) ", relu_grad(x))

    for dtype in (np.float64, np.float32):
        xs = np.random.default_rng(0).normal(size=1000).astype(dtype) * 100
        xt = torch.tensor(xs, requires_grad=True)
        torch.relu(xt).sum().backward()  # d(sum)/dx_i = relu'(x_i)
        value_err = np.abs(relu(xs) - torch.relu(xt).detach().numpy()).max()
        grad_err = np.abs(relu_grad(xs) - xt.grad.numpy()).max()
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]
