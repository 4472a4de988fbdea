r"""ReLU, the rectified linear unit, and its derivative.

Reference: Nair and Hinton, "Rectified Linear Units Improve Restricted Boltzmann
Machines", ICML 2010. Checked against `torch.relu`.
"""

# --8<-- [start:impl]
# --8<-- [start:relu]
import numpy as np


def relu(x):
    r"""Rectified linear unit, elementwise.

    $$\operatorname{ReLU}(x) = \max(0, x)$$

    Args:
        x: float array of any shape.

    Returns:
        An array with the shape and dtype of `x`. As in torch, NaN stays NaN and
        $-0$ stays $-0$.
    """
    x = np.asarray(x)
    return np.where(x < 0, 0, x)  # x unless negative: NaN and -0.0 pass through
# --8<-- [end:relu]


# --8<-- [start:relu_grad]
def relu_grad(x):
    r"""Derivative of ReLU as torch's autograd defines it: 0 where $x \le 0$, else 1.

    ReLU has no derivative at $x = 0$; like torch, this returns 0 there. At a NaN
    input torch returns 1 (it tests whether the output is $\le 0$, false for NaN),
    and so does this function.

    Args:
        x: float array of any shape.

    Returns:
        An array with the shape and dtype of `x`.
    """
    x = np.asarray(x)
    return (~(x <= 0)).astype(x.dtype)  # 1 where x > 0, and at NaN, as in torch
# --8<-- [end:relu_grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch

    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0, np.nan])
    print("x        ", x)
    print("relu(x)  ", relu(x))
    print("relu'(x) ", relu_grad(x))

    print("checked against torch.relu")
    for dtype in (np.float64, np.float32):
        xs = np.random.default_rng(0).normal(size=1000).astype(dtype) * 100
        xs[:3] = [0.0, -0.0, np.nan]  # the kink and a NaN, where conventions matter
        xt = torch.tensor(xs, requires_grad=True)
        yt = torch.relu(xt)
        yt.sum().backward()  # d(sum)/dx_i = relu'(x_i)
        ours = relu(xs)
        assert np.array_equal(np.isnan(ours), torch.isnan(yt).numpy())
        value_err = np.nanmax(np.abs(ours - yt.detach().numpy()))  # NaN == NaN above
        grad_err = np.abs(relu_grad(xs) - xt.grad.numpy()).max()
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]
