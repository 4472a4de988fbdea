r"""The logistic sigmoid and its derivative, stable for inputs of any size.

Reference: Rumelhart, Hinton and Williams, "Learning representations by back-propagating
errors", Nature 323, 1986. Checked against `torch.sigmoid`.
"""

# --8<-- [start:impl]
# --8<-- [start:sigmoid]
import numpy as np


def sigmoid(input):
    r"""Logistic sigmoid, elementwise, with no overflow for large $|x|$.

    $$\sigma(x) = \frac{1}{1 + e^{-x}} = \frac{e^{x}}{1 + e^{x}}$$

    Only $z = e^{-|x|} \in (0, 1]$ is ever computed: $\sigma(x) = 1 / (1 + z)$ for
    $x \ge 0$ and $z / (1 + z)$ for $x < 0$, so $e^{10^4}$ never appears.

    Args:
        input: array of any shape.

    Returns:
        An array with the shape and dtype of `input`, in $[0, 1]$. NaN stays NaN.
    """
    x = np.asarray(input)
    z = np.exp(-np.abs(x))  # in (0, 1]: cannot overflow
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))
# --8<-- [end:sigmoid]


# --8<-- [start:sigmoid_grad]
def sigmoid_grad(input):
    r"""Derivative of the sigmoid, accurate in the tails.

    $$\sigma'(x) = \sigma(x)\,\sigma(-x) = \frac{z}{(1 + z)^2}, \quad z = e^{-|x|}$$

    The form with $z$ avoids the cancellation in $1 - \sigma(x)$ when $\sigma(x)$ is
    close to 1. The maximum is $\sigma'(0) = 1/4$.

    Args:
        input: array of any shape.

    Returns:
        An array with the shape and dtype of `input`, in $[0, 1/4]$.
    """
    x = np.asarray(input)
    z = np.exp(-np.abs(x))
    return z / ((1 + z) * (1 + z))
# --8<-- [end:sigmoid_grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch

    x = np.array([-1e4, -2.0, 0.0, 2.0, 1e4])
    print("x           ", x)
    print("sigmoid(x)  ", sigmoid(x))  # no overflow warning at -1e4
    print("sigmoid'(x) ", sigmoid_grad(x))

    print("checked against torch.sigmoid")
    for dtype in (np.float64, np.float32):
        xs = np.random.default_rng(0).normal(size=1000).astype(dtype) * 10
        xt = torch.tensor(xs, requires_grad=True)
        yt = torch.sigmoid(xt)
        yt.sum().backward()  # d(sum)/dx_i = sigmoid'(x_i)
        value_err = np.abs(sigmoid(xs) - yt.detach().numpy()).max()
        grad_err = np.abs(sigmoid_grad(xs) - xt.grad.numpy()).max()
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:tail]
    x = np.array([5.0, 10.0, 14.0, 16.0], dtype=np.float32)
    xt = torch.tensor(x, requires_grad=True)
    torch.sigmoid(xt).sum().backward()  # autograd: y (1 - y) from the saved output y
    x64 = x.astype(np.float64)
    reference = np.exp(-x64) / (1 + np.exp(-x64)) ** 2  # the same inputs, in float64
    with np.printoptions(precision=1):
        print("float32 relative error, ours ", np.abs(sigmoid_grad(x) / reference - 1))
        print("float32 relative error, torch", np.abs(xt.grad.numpy() / reference - 1))
    # --8<-- [end:tail]
